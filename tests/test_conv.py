"""The convolution with layout-explicit gradients is Flax's, exactly forward and to
float rounding backward, and every convolution of its gradients (and of the
transposed convolution's) is one XLA:CPU runs with its fast kernels, also inside
the loop of fused train steps, where autodiff's own gradients fell to a generic
path 100x slower."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgen.models.conv import CPU_CHUNK, Conv, auto_chunk, input_gradient
from jaxgen.models.deconv import ConvTranspose
from tests import helpers


@pytest.mark.parametrize('size, cin, cout, kernel, stride, padding', [
    (14, 16, 8, 4, 2, 'SAME'),    # DCGAN / InfoGAN discriminator (channels shrunk)
    (28, 1, 8, 4, 2, 'SAME'),     # ... its first layer
    (9, 3, 5, 3, 1, 'SAME'),      # unstrided
    (13, 3, 4, 5, 3, 'SAME'),     # odd size, kernel and stride
    (10, 3, 2, 3, 2, 'VALID'),
    (11, 2, 3, 3, 2, ((2, 1), (0, 3))),  # explicit, asymmetric
    (6, 2, 3, 2, 2, ((3, 3), (3, 3))),   # pads beyond the kernel: autodiff's input rule
])
def test_matches_flax_conv_forward_and_backward(size, cin, cout, kernel, stride, padding):
    x = jax.random.normal(jax.random.key(0), (3, size, size, cin))
    flax_layer = nn.Conv(cout, (kernel, kernel), (stride, stride), padding)
    ours = Conv(cout, (kernel, kernel), (stride, stride), padding)
    helpers.assert_layer_matches_flax(flax_layer, ours, x)


def test_input_gradient_declines_cropping_geometries():
    g, w = jnp.ones((1, 6, 6, 3)), jnp.ones((2, 2, 2, 3))
    assert input_gradient(g, w, (6, 6), (2, 2), ((3, 3), (3, 3))) is None
    assert input_gradient(g, w, (11, 11), (2, 2), ((1, 1), (1, 1))) is not None


def _compiled_convolutions(fn, *args) -> list[str]:
    text = jax.jit(fn).lower(*args).compile().as_text()
    return [re.search(r'dim_labels=([^,\s]+)', line).group(1)
            for line in text.splitlines() if ' convolution(' in line]


@pytest.mark.skipif(jax.default_backend() != 'cpu', reason='XLA:CPU layouts')
@pytest.mark.parametrize('batch, chunk', [(32, None), (64, 8)])  # whole; 8 chunks of 8
def test_fused_gradients_compile_to_fast_convolutions_on_cpu(batch, chunk):
    """A lax.scan over SGD steps of a deconv -> conv network (a generator into a
    discriminator, batch-size channels): every convolution of the loop, forward
    and both gradients of both layers, in the layout Eigen runs; also with the
    batch chunks' own loop nested in it."""
    class Net(nn.Module):
        @nn.compact
        def __call__(self, z):
            h = ConvTranspose(8, (4, 4), (2, 2), 'SAME', batch_chunk=chunk)(z)
            return jnp.square(Conv(16, (4, 4), (2, 2), 'SAME', batch_chunk=chunk)(
                nn.relu(h))).sum()

    z = jnp.ones((batch, 7, 7, 16))
    params = Net().init(jax.random.key(0), z)

    def fused(params, z):
        def step(p, _):
            gp, gz = jax.grad(Net().apply, (0, 1))(p, z)
            return jax.tree.map(lambda a, b: a - 1e-3 * b, p, gp), gz.sum()
        return lax.scan(step, params, None, length=3)

    labels = _compiled_convolutions(fused, params, z)
    assert len(labels) >= 6  # 2 forward, 2 input gradients, 2 kernel gradients
    assert set(labels) == {'b01f_01io->b01f'}, labels


@pytest.mark.parametrize('layer', [Conv, ConvTranspose])
def test_batch_chunks_compute_the_same_layer(layer):
    """Chunks of 4 over a batch of 34 (eight chunks and a remainder of 2): the same
    outputs and, to float rounding, the same gradients as the whole batch at once."""
    x = jax.random.normal(jax.random.key(0), (34, 7, 7, 6))
    whole, chunked = layer(5, (4, 4), (2, 2), batch_chunk=0), layer(5, (4, 4), (2, 2),
                                                                     batch_chunk=4)
    params = whole.init(jax.random.key(1), x)
    assert 'scan' in str(jax.make_jaxpr(chunked.apply)(params, x))
    assert 'scan' not in str(jax.make_jaxpr(whole.apply)(params, x))
    assert 'scan' not in str(jax.make_jaxpr(chunked.apply)(params, x[:31]))  # 7 chunks: whole
    np.testing.assert_allclose(chunked.apply(params, x), whole.apply(params, x),
                               rtol=1e-6, atol=1e-6)

    def grads(module):
        return jax.grad(lambda p, x: jnp.sum(jnp.sin(module.apply(p, x))), (0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(grads(chunked)), jax.tree.leaves(grads(whole))):
        # sums of ~500 terms of size ~20 in another order: rounding relative to the largest
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6 * float(jnp.abs(b).max()))


def test_chunks_are_automatic_on_one_cpu_device_only(monkeypatch):
    assert auto_chunk() == (CPU_CHUNK if jax.default_backend() == 'cpu'
                            and jax.device_count() == 1 else 0)
    monkeypatch.setattr(jax, 'default_backend', lambda: 'gpu')
    assert auto_chunk() == 0
    monkeypatch.setattr(jax, 'default_backend', lambda: 'cpu')
    monkeypatch.setattr(jax, 'device_count', lambda: 8)  # a sharded batch is not regrouped
    assert auto_chunk() == 0
    monkeypatch.setattr(jax, 'device_count', lambda: 1)
    assert auto_chunk() == CPU_CHUNK
