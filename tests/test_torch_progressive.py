"""The PyTorch reference of the progressive throughput benchmark has jaxgen's networks
(benchmarks/throughput/torch_progressive.py): parameter counts per network, as run.py
asserts before timing, and the same outputs from jaxgen's weights, at the benchmark's
widths (run.py's CONFIG_ARGS; run.py itself is not imported: it sets the process's
allocator) and at uneven ones; skipped without PyTorch, as in CI."""

import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip('torch')

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks', 'throughput'))
import torch_progressive  # noqa: E402  pylint: disable=wrong-import-position

from configs import progan, stylegan  # noqa: E402
from jaxgen.training import experiment  # noqa: E402

INFO = {'kind': 'images', 'shape': [32, 32, 1], 'scale': 'tanh'}
BATCH = 8
CONFIGS = {'progan': (progan, 'fashion_mnist32,kimg=60,batch=32,grow=0'),
           'stylegan': (stylegan, 'fashion_mnist32,kimg=60,batch=32')}
# (fmap_base, fmap_max, latent_dim, w_dim): run.py's, and nf(0..4) = 256, 128, 64, 32, 16
# with latents and w of other sizes (a swapped width fails)
WIDTHS = {'benchmark': (8192, 128, 128, 128), 'uneven': (256, 256, 48, 80)}


@pytest.fixture(autouse=True)
def one_thread():
    """One PyTorch thread: its two spin on a busy 2-core machine (a step 5-10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def built(model, widths='benchmark'):
    """(config, jaxgen experiment, PyTorch step) of ``model`` at ``WIDTHS[widths]``."""
    module, arg = CONFIGS[model]
    config = module.get_config(arg)
    m = config.model
    m.fmap_base, m.fmap_max, m.latent_dim = WIDTHS[widths][:3]
    if model == 'stylegan':
        m.w_dim = WIDTHS[widths][3]
    images = torch.zeros((BATCH, 1, 32, 32), dtype=torch.uint8)
    step = torch_progressive.STEPS[model](images, BATCH, config)
    return config, experiment.build(config, INFO), step


@pytest.mark.parametrize('widths', sorted(WIDTHS))
@pytest.mark.parametrize('model', sorted(torch_progressive.STEPS))
def test_parameter_counts_match_jaxgen(model, widths):
    _, exp, step = built(model, widths)
    params = jax.eval_shape(exp.init_state).params
    assert set(params) == set(step.players)
    for player, net in step.players.items():
        ours = sum(math.prod(x.shape) for x in jax.tree.leaves(params[player]))
        assert ours == sum(p.numel() for p in net.parameters()), player


def random_variables(exp, seed=1):
    """Variables of jaxgen's shapes: kernels N(0, 1) as jaxgen's, the biases, noise
    strengths and the constant (zeros and ones in jaxgen's init) moved by N(0, 0.1), so
    that they count too; buffers (w_avg) zeros."""
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = jax.tree_util.keystr(path[-1:])
        if "'params'" not in jax.tree_util.keystr(path):
            return np.zeros(leaf.shape, np.float32)
        spread = 1.0 if 'kernel' in name else 0.1
        return (rng.normal(0.0, spread, leaf.shape) + ('const' in name)).astype(np.float32)
    return jax.tree_util.tree_map_with_path(
        fill, jax.eval_shape(exp.model.init, jax.random.key(0)))


def close(jaxgen_out, torch_out):
    ours = np.asarray(jaxgen_out)
    ours = ours.transpose(0, 3, 1, 2) if ours.ndim == 4 else ours
    np.testing.assert_allclose(torch_out.detach().numpy(), ours, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('model', sorted(torch_progressive.STEPS))
def test_same_outputs_from_jaxgen_weights(model):
    """Both players on the same random weights in jaxgen's shapes: G from the same z (StyleGAN: eval
    mode, no noise, no mixing), D on the same images (minibatch stddev's groups too)."""
    config, exp, step = built(model, 'uneven')
    variables = random_variables(exp)
    z = jax.random.normal(jax.random.key(2), (BATCH, config.model.latent_dim))
    gen = exp.model.generator
    if model == 'stylegan':
        w = gen.apply(variables['generator'], z, method='map')
        ws = jnp.broadcast_to(w[:, None], (BATCH, gen.num_layers, w.shape[-1]))
        fake = gen.apply(variables['generator'], ws, jax.random.key(3), 0.0,
                         method='synthesize')
    else:
        fake = gen.apply(variables['generator'], z)
    # each example its own spread, so that the stddev groups (m, m + M, ...) matter
    x = jax.random.normal(jax.random.key(4), (BATCH, 32, 32, 1)) * jnp.arange(
        1.0, BATCH + 1)[:, None, None, None] ** 2
    logits = exp.model.discriminator.apply(variables['discriminator'], x)
    for player, net in step.players.items():
        torch_progressive.load_flax(net, variables[player]['params'])
        net.eval()
    z, x = torch.tensor(np.asarray(z)), torch.tensor(np.asarray(x).transpose(0, 3, 1, 2))
    with torch.no_grad():
        close(fake, step.g(z, noise_scale=0.0) if model == 'stylegan' else step.g(z))
        close(logits, step.d(x))


def test_train_steps_run():
    """Each reference step runs and returns a finite loss; StyleGAN's R1 step included."""
    for model in sorted(torch_progressive.STEPS):
        _, _, step = built(model, 'uneven')
        w_avg = None
        if model == 'stylegan':
            step.r1_every, w_avg = 2, step.g.w_avg.clone()
        losses = [step() for _ in range(2)]
        assert all(math.isfinite(x) for x in losses), (model, losses)
        if w_avg is not None:
            assert not torch.equal(w_avg, step.g.w_avg)
