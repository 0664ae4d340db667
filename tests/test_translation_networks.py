"""The image-to-image networks (issue 30): shapes at 28/32/64 px, the U-Net's
outermost skip reaching the output, PatchGAN receptive fields measured from
gradients, InstanceNorm against NumPy, dropout as the U-Net's noise, StarGAN's
conditional input, and the official initialisation."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.models.layers.norms import InstanceNorm, norm_layer
from jaxgen.models.translation.discriminators import PatchDiscriminator, StarGANDiscriminator
from jaxgen.models.translation.networks import ResNetGenerator, UNetBlock, UNetGenerator

KEY = jax.random.key(0)
SHAPES = [(28, 28, 1), (32, 32, 3), (64, 64, 3)]


def shapes_of(module, *args, **kwargs):
    """The output shapes of ``module`` freshly initialised, traced without running."""
    def run():
        out, _ = module.init_with_output({'params': KEY, 'dropout': KEY}, *args, **kwargs)
        return out
    return jax.eval_shape(run)


def image(shape, batch=2, seed=1):
    return jax.random.uniform(jax.random.key(seed), (batch, *shape), minval=-1, maxval=1)


@pytest.mark.parametrize('shape', SHAPES)
def test_shapes_of_every_network(shape):
    x, b = image(shape), 2
    for out_channels in (1, 3):
        chex.assert_shape(shapes_of(UNetGenerator(features=8, out_channels=out_channels),
                                    x, train=True), (b, *shape[:2], out_channels))
    chex.assert_shape(shapes_of(ResNetGenerator(features=8, out_channels=shape[2], blocks=2),
                                x, train=True), (b, *shape))
    label = jnp.eye(4)[:b]
    chex.assert_shape(shapes_of(ResNetGenerator(features=8, out_channels=3, style='stargan',
                                                condition_dim=4), x, train=True,
                                condition=label), (b, *shape[:2], 3))
    side = {28: {1: 28, 16: 12, 70: 1, 'full': 1, 0: 1},
            32: {1: 32, 16: 14, 70: 2, 'full': 2, 0: 2},
            64: {1: 64, 16: 30, 70: 6, 'full': 2, 0: 2}}[shape[0]]
    pair = jnp.concatenate([x, x], axis=-1)   # pix2pix: (condition, image)
    for field, h in side.items():
        chex.assert_shape(shapes_of(PatchDiscriminator(features=8, receptive_field=field),
                                    pair, train=True), (b, h, h))
    source, domains = shapes_of(StarGANDiscriminator(features=8, num_domains=5), x)
    chex.assert_shape(source, (b, *{28: (3, 3), 32: (2, 2), 64: (2, 2)}[shape[0]]))
    chex.assert_shape(domains, (b, 5))


def support(grad):
    """The rows and columns where a gradient [H, W, C] is non-zero."""
    rows, cols = np.nonzero(np.abs(np.asarray(grad)).sum(-1))
    return rows, cols


def test_unet_outermost_skip_reaches_the_output_alone():
    # Zero the output of the level-2 block: everything below the outermost skip. What
    # is left from input to output is down(level 0) -> concat at level 1 -> up(level 0).
    net = UNetGenerator(features=4, out_channels=1)
    x = image((32, 32, 1), batch=1)
    variables = jax.jit(lambda: net.init(KEY, x))()

    def zero_below(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        block = context.module
        if (isinstance(block, UNetBlock) and block.level == 2
                and context.method_name == '__call__'):
            return jnp.zeros_like(out)
        return out

    def pixel(x, cut):
        if cut:
            with nn.intercept_methods(zero_below):
                return net.apply(variables, x, train=False)[0, 16, 16, 0]
        return net.apply(variables, x, train=False)[0, 16, 16, 0]

    grad_skip = jax.jit(jax.grad(lambda x: pixel(x, True)))(x)[0]
    grad_all = jax.jit(jax.grad(lambda x: pixel(x, False)))(x)[0]
    rows, cols = support(grad_skip)
    assert rows.size > 0, 'no gradient through the outermost skip'
    # one 4x4 stride-2 conv and one 4x4 stride-2 transposed conv: a window of <= 6 px
    assert rows.max() - rows.min() < 6 and cols.max() - cols.min() < 6
    assert 12 <= rows.min() and rows.max() <= 19   # around output pixel 16
    rows, cols = support(grad_all)   # the whole U-Net sees (nearly) the whole image
    assert rows.max() - rows.min() >= 24 and cols.max() - cols.min() >= 24


def test_unet_28px_pads_and_crops_back():
    net = UNetGenerator(features=4, out_channels=1)
    x = image((28, 28, 1), batch=1)
    variables = jax.jit(lambda: net.init(KEY, x))()
    out = jax.jit(lambda v, x: net.apply(v, x, train=False))(variables, x)
    chex.assert_shape(out, (1, 28, 28, 1))
    assert np.all(np.abs(np.asarray(out)) <= 1)


@pytest.mark.parametrize('field,side', [(1, 32), (16, 64), (70, 128), ('full', 64)])
def test_patchgan_receptive_field_measured_from_gradients(field, side):
    net = PatchDiscriminator(features=4, receptive_field=field)
    x = image((side, side, 2), batch=1)
    variables = jax.jit(lambda: net.init(KEY, x))()

    def unit(x, i, j):   # eval mode: BatchNorm's averages, no coupling across pixels
        return net.apply(variables, x, train=False)[0, i, j]

    logits = jax.eval_shape(lambda: net.apply(variables, x, train=False))
    h, w = logits.shape[1:]
    units = [(h // 2, w // 2)] + ([(0, 0), (h - 1, w - 1)] if field == 'full' else [])
    for i, j in units:
        rows, cols = support(jax.jit(jax.grad(unit), static_argnums=(1, 2))(x, i, j)[0])
        expected = side if field == 'full' else field
        assert rows.max() - rows.min() + 1 == expected, (field, i, j)
        assert cols.max() - cols.min() + 1 == expected, (field, i, j)


def test_patchgan_field_errors():
    x = jnp.zeros((1, 28, 28, 2))
    with pytest.raises(JaxgenError, match='not one of'):
        shapes_of(PatchDiscriminator(features=4, receptive_field=50), x)
    with pytest.raises(JaxgenError, match='leaves no output'):
        shapes_of(PatchDiscriminator(features=4, receptive_field=286), x)


@pytest.mark.parametrize('affine', [False, True])
def test_instance_norm_equals_numpy(affine):
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (2, 5, 6, 3)).astype(np.float32)
    norm = InstanceNorm(affine=affine)
    variables = norm.init(KEY, x)
    if affine:
        scale, bias = rng.normal(1, 0.5, 3), rng.normal(0, 0.5, 3)
        variables = {'params': {'scale': jnp.asarray(scale, jnp.float32),
                                'bias': jnp.asarray(bias, jnp.float32)}}
    else:
        assert not variables
        scale, bias = np.ones(3), np.zeros(3)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(1, 2), keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=(1, 2), keepdims=True)
    want = (x64 - mean) / np.sqrt(var + 1e-5) * scale + bias
    np.testing.assert_allclose(norm.apply(variables, x), want, rtol=1e-5, atol=1e-5)


def test_norm_layer_choice():
    with pytest.raises(JaxgenError, match='unknown norm'):
        norm_layer('layer')


def test_unet_dropout_is_the_noise():
    net = UNetGenerator(features=4, out_channels=1)
    x = image((32, 32, 1), batch=2)
    variables = jax.jit(lambda: net.init(KEY, x))()

    @jax.jit
    def train(key):
        out, _ = net.apply(variables, x, train=True, rngs={'dropout': key},
                           mutable=['batch_stats'])
        return out

    a, b = train(jax.random.key(1)), train(jax.random.key(2))
    assert float(jnp.abs(a - b).max()) > 1e-3
    np.testing.assert_array_equal(train(jax.random.key(1)), a)
    evaluate = jax.jit(lambda v: net.apply(v, x, train=False))
    np.testing.assert_array_equal(evaluate(variables), evaluate(variables))
    # at sampling, with InstanceNorm: BatchNorm's initial averages (0, 1) shrink the
    # untrained network's activations layer by layer, and the noise with them
    noisy = UNetGenerator(features=4, out_channels=1, norm='instance', sample_dropout=True)
    noisy_vars = jax.jit(lambda: noisy.init(KEY, x))()
    sample = jax.jit(lambda key: noisy.apply(noisy_vars, x, train=False, rngs={'dropout': key}))
    assert float(jnp.abs(sample(jax.random.key(1)) - sample(jax.random.key(2))).max()) > 1e-3


def test_resnet_generator_condition():
    net = ResNetGenerator(features=4, out_channels=3, blocks=1, style='stargan',
                          condition_dim=3)
    x = image((32, 32, 3), batch=2)
    labels = jnp.eye(3)[jnp.array([0, 1])]
    variables = jax.jit(lambda: net.init(KEY, x, condition=labels))()
    run = jax.jit(lambda c: net.apply(variables, x, train=False, condition=c))
    other = jnp.eye(3)[jnp.array([2, 2])]
    diff = jnp.abs(run(labels) - run(other)).max(axis=(1, 2, 3))
    assert float(diff.min()) > 1e-4, 'the target label does not reach the output'
    for bad in (jnp.eye(4)[:2], jnp.eye(3)[:1], None):
        with pytest.raises(JaxgenError, match=r'condition of shape \[2, 3\]') as error:
            shapes_of(net, x, condition=bad)
        assert '\n' not in str(error.value)
    with pytest.raises(JaxgenError, match='condition_dim=0'):
        shapes_of(ResNetGenerator(features=4, blocks=1), x, condition=labels)
    with pytest.raises(JaxgenError, match='unknown ResNetGenerator style'):
        shapes_of(ResNetGenerator(features=4, blocks=1, style='unit'), x)


def test_official_initialisation():
    net = ResNetGenerator(features=8, blocks=1)
    x = image((32, 32, 3), batch=1)
    params = jax.jit(lambda: net.init(KEY, x))()['params']
    kernels = np.concatenate([np.ravel(v) for path, v in
                              jax.tree_util.tree_flatten_with_path(params)[0]
                              if path[-1].key == 'kernel'])
    biases = [v for path, v in jax.tree_util.tree_flatten_with_path(params)[0]
              if path[-1].key == 'bias']
    assert kernels.size > 10_000 and abs(kernels.std() - 0.02) < 1e-3
    assert abs(kernels.mean()) < 1e-3
    assert biases and all(np.all(np.asarray(b) == 0) for b in biases)
    d = PatchDiscriminator(features=8, receptive_field=70)
    d_vars = jax.jit(lambda: d.init(KEY, jnp.zeros((1, 32, 32, 2))))()
    scales = np.concatenate([np.ravel(v) for path, v in
                             jax.tree_util.tree_flatten_with_path(d_vars['params'])[0]
                             if path[-1].key == 'scale'])
    assert scales.size >= 16 + 32 and abs(scales.mean() - 1) < 0.01
    assert 0.01 < scales.std() < 0.03
