"""Forward-mode autodiff (``jax.jvp``, ``jax.linearize``) runs through every model
that the configs build, with the CPU speed-ups (``models.conv.cpu_speedups``) off
and on, and its tangents are right: the objective's losses, differentiated along a
random direction in the players' parameters, equal a central difference, and the
two settings agree to rounding.

One case per config file, plus the convolutional VAE and a spectrally normalised
WGAN-GP with R1 (whose losses hold gradients through the convolutions); each case
is one compiled program, on small shapes (batch 4, 8 features, hidden layers of
16). In float64: in float32 any difference step that rounding allows crosses the
kinks of leaky ReLUs or meets BatchNorm's curvature at batch 4, 5-40% off for some
models, which would hide a wrong tangent as well as a right one."""

import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import configs
from jaxgen.models import MODELS
from jaxgen.data.sources import mixtures
from jaxgen.models.layers.conv import cpu_speedups
from jaxgen.models.layers import split_variables
from jaxgen.training import experiment

BATCH = 3
CASES = {  # name -> (config file, its argument, config overrides)
    'dcgan': ('dcgan', None, {}),
    'dcgan_wgan_gp_r1_spectral_norm': ('dcgan', None, {
        'objective.loss': 'wasserstein', 'objective.gradient_penalty': 10.0,
        'objective.r1': 1.0, 'model.spectral_norm': True}),
    'cgan': ('cgan', None, {}),
    'fgan': ('fgan', None, {}),
    'infogan': ('infogan', None, {}),
    'vae': ('vae', None, {}),
    'vae_conv': ('vae', 'conv', {}),
    'ae': ('ae', None, {}),
    'iwae': ('iwae', None, {'model.num_samples': 3}),
    'aae': ('aae', None, {}),
    'gan_ring': ('gan_ring', None, {}),
    'unrolled_gan': ('unrolled_gan', 'paper', {}),
    'growing_ring': ('growing_ring', None, {}),
    'history_ring': ('history_ring', None, {}),
    'pix2pix': ('pix2pix', None, {}),
    'cyclegan_no_pool': ('cyclegan', None, {'model.blocks': 1, 'model.history_size': 0}),
    'stargan': ('stargan', None, {'model.blocks': 1, 'model.d_features': 8}),
    'progan': ('progan', 'mnist,resolution=4,grow=0', {'model.fmap_max': 8}),
    'stylegan': ('stylegan', 'mnist,resolution=4', {'model.fmap_max': 8, 'model.w_dim': 8,
                                                    'model.mapping_layers': 2}),
    'nade': ('nade', None, {'model.hidden_units': 8}),
    'pixelcnn': ('pixelcnn', None, {'model.num_layers': 1, 'model.head': 8}),
    'pixelrnn': ('pixelrnn', None, {'model.num_layers': 1, 'model.head': 8}),
    'puzzlegan': ('puzzlegan', None, {'model.code_dim': 8}),
    'text_encoder': ('text_encoder', None, {'model.embed_dim': 8, 'model.image_features': 4}),
    'text2image': ('text2image', None, {'model.embed_dim': 8, 'model.encoder_features': 8,
                                        'model.text_features': 8, 'model.d_features': 8,
                                        'model.latent_dim': 8}),
}
SMALL = {'features': 8, 'hidden': (16,), 'g_hidden': (16,), 'd_hidden': (16,),
         'latent_dim': 8}
# Spectral norm's power iteration moves its estimate of the top singular vector with
# the weights and, by design (Miyato et al., 2018), the derivative treats it as a
# constant: a difference sees the first, the tangent not.
# A history pool (history_ring; CycleGAN is checked without its pool) stores fakes
# without a gradient, as CycleGAN detaches them: D's loss on the pooled fakes changes
# with the generator's weights, its derivative not.
NO_DIFFERENCE = ('dcgan_wgan_gp_r1_spectral_norm', 'history_ring')
STEP = 1e-7  # times each tensor's scale (float64: 1e-6 met a kink, 1e-8 rounding)
FIXED = 100_000  # tensors this large (InfoGAN's two dense 6272 x 1024 kernels) stay put


def small_config(name: str):
    module, arg, overrides = CASES[name]
    c = importlib.import_module(f'configs.{module}').get_config(arg)
    for key, value in SMALL.items():
        if key in c.model and not (key == 'latent_dim' and c.model.name == 'aae'):
            c.model[key] = value  # (the AAE's priors are 2-D)
    for key, value in overrides.items():
        section, field = key.split('.')
        c[section][field] = value
    return c


def data_info_and_batch(data_config, num_classes: int = 10):
    """The dataset description the model is built for and a float64 batch like its
    draws (no files read)."""
    rng = np.random.default_rng(3)
    if data_config.name in mixtures.NAMES:
        _, info = mixtures.load_arrays(data_config.name, data_config.mixture.radius,
                                       data_config.mixture.std, data_config.mixture.num_modes)
        return info, {'x': rng.normal(size=(BATCH, 2)), 'step': np.int32(0)}
    info = {'shape': [28, 28, 1], 'num_classes': num_classes, 'scale': data_config.scale,
            'binarize': data_config.binarize}
    shape = (BATCH, *info['shape'])
    if data_config.binarize:
        image = (rng.uniform(size=shape) < 0.3).astype(np.float64)
    else:
        image = rng.uniform(0.0 if data_config.scale == 'unit' else -1.0, 1.0, shape)
    label = rng.integers(0, num_classes, BATCH).astype(np.int32)
    if data_config.name == 'morpho_perturbed':  # domains
        return ({**info, 'domain_names': ['none', 'thin', 'thick']},
                {'image': image, 'domain': label % 3, 'step': np.int32(0)})
    if data_config.name.startswith('edges2') or data_config.name == 'thin_thick':
        kind = 'paired' if data_config.name.startswith('edges2') else 'unpaired'
        return {**info, 'kind': kind}, {'image_a': image, 'image_b': -image,
                                        'label': label, 'step': np.int32(0)}
    if data_config.get('patches'):  # key patches (Puzzle-GAN): 8 px crops and their boxes
        boxes = np.zeros((BATCH, data_config.patches, 4), np.int32)
        boxes[..., :2] = rng.integers(0, 21, (BATCH, data_config.patches, 2))
        boxes[..., 2:] = 8
        patches = np.stack([[image[i, t:t + 8, l:l + 8] for t, l, _, _ in boxes[i]]
                            for i in range(BATCH)])
        return ({**info, 'patches': {'num': data_config.patches, 'size': 8}},
                {'image': image, 'patches': patches, 'boxes': boxes, 'step': np.int32(0)})
    if data_config.name.startswith('captioned'):  # captions as character ids (text2image)
        chars = rng.integers(1, 29, (BATCH, 35)).astype(np.int32)
        return ({**info, 'char_vocabulary': ['<pad>', '<unk>', ' '] + list('abcdefghijklmnopqrstuvwxyz'),
                 'max_chars': 35}, {'image': image, 'label': label, 'chars': chars,
                                    'step': np.int32(0)})
    return info, {'image': image, 'label': label, 'step': np.int32(0)}


def random_like(shapes, seed: int):
    """Float64 values for every player's variables (``shapes`` traced from ``init``;
    compiling each model's initialisers took as long as the rest): kernels
    N(0, 1/fan-in), BatchNorm scales near 1, other parameters near 0; positive
    variances and spectral-norm estimates; integer state (counters) zero."""
    rng = np.random.default_rng(seed)

    def value(path, leaf):
        name = jax.tree_util.keystr(path[-1:])
        if not jnp.issubdtype(leaf.dtype, jnp.floating):  # counters (a history pool's)
            return np.zeros(leaf.shape, leaf.dtype)
        if 'params' not in jax.tree_util.keystr(path):
            return (np.ones(leaf.shape) if name.endswith(("var']", "sigma']"))
                    else rng.normal(size=leaf.shape))
        if len(leaf.shape) >= 2:
            return rng.normal(size=leaf.shape) / np.sqrt(np.prod(leaf.shape[:-1]))
        return rng.normal(size=leaf.shape) * 0.1 + (name == "['scale']")
    return jax.tree_util.tree_map_with_path(lambda p, a: jnp.asarray(value(p, a)), shapes)


def test_the_cases_cover_every_config_file_and_every_model():
    files = {m.name for m in pkgutil.iter_modules(configs.__path__)}
    assert {module for module, _, _ in CASES.values()} == files
    models = {small_config(name).model.name for name in CASES}
    assert models == set(MODELS)


@pytest.mark.parametrize('name', CASES)
def test_jvp_and_linearize_through_every_model(name):
    c = small_config(name)
    with jax.enable_x64(True):
        info, batch = data_info_and_batch(c.data)
        exp = experiment.build(c, info)
        shapes = jax.eval_shape(exp.model.init, jax.random.key(0))
        params, state = {}, {}
        for player, variables in random_like(shapes, 0).items():
            params[player], state[player] = split_variables(variables)
        # A random direction, each tensor moving in proportion to its own scale.
        direction = {p: split_variables(v)[0] for p, v in random_like(shapes, 1).items()}
        leaves, treedef = jax.tree.flatten(params)
        # Frozen players (a pretrained text encoder) are constants of the objective.
        moving = [leaf.size < FIXED and path[0].key not in c.frozen
                  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]]
        direction = [d for d, m in zip(jax.tree.leaves(direction), moving) if m]
        key = jax.random.key(4)

        def tangents(start, direction, fixed):
            def losses(moved):  # of the moving tensors, the fixed ones held
                moved, held = iter(moved), iter(fixed)
                values, _ = exp.objective(
                    treedef.unflatten([next(moved) if m else next(held) for m in moving]),
                    state, batch, key)
                return jnp.stack([values[loss] for loss in exp.objective.names])

            out = {}
            for speedups in (False, True):  # read while tracing: both in one program
                with cpu_speedups(speedups):
                    setting = f"speed-ups {'on' if speedups else 'off'}"
                    out[f'jvp, {setting}'] = jax.jvp(losses, (start,), (direction,))[1]
                    _, linear = jax.linearize(losses, start)
                    out[f'linearize, {setting}'] = linear(direction)
            ends = [[p + sign * STEP * d for p, d in zip(start, direction)]
                    for sign in (1.0, -1.0)]
            out['central difference'] = (losses(ends[0]) - losses(ends[1])) / (2 * STEP)
            return out

        out = jax.jit(tangents)([p for p, m in zip(leaves, moving) if m], direction,
                                [p for p, m in zip(leaves, moving) if not m])
        out = {how: np.asarray(tangent) for how, tangent in out.items()}
    difference = out.pop('central difference')
    plain = out['jvp, speed-ups off']
    scale = float(np.abs(plain).max())
    assert scale > 1e-3, 'a direction the losses barely change along checks nothing'
    for how, tangent in out.items():
        np.testing.assert_allclose(tangent, plain, rtol=1e-9, atol=1e-10 * scale, err_msg=how)
    if name not in NO_DIFFERENCE:
        np.testing.assert_allclose(plain, difference, rtol=1e-4, atol=1e-5 * scale)
