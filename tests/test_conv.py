"""The convolution with layout-explicit gradients is Flax's, exactly forward and to
float rounding backward, and every convolution of its gradients (and of the
transposed convolution's) is one XLA:CPU runs with its fast kernels, also inside
the loop of fused train steps, where autodiff's own gradients fell to a generic
path 100x slower."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest
from jax import lax

from jaxgen.models.conv import Conv, input_gradient
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
def test_fused_gradients_compile_to_fast_convolutions_on_cpu():
    """A lax.scan over SGD steps of a deconv -> conv network (a generator into a
    discriminator, batch-size channels): every convolution of the loop, forward
    and both gradients of both layers, in the layout Eigen runs."""
    class Net(nn.Module):
        @nn.compact
        def __call__(self, z):
            h = ConvTranspose(8, (4, 4), (2, 2), 'SAME')(z)
            return jnp.square(Conv(16, (4, 4), (2, 2), 'SAME')(nn.relu(h))).sum()

    z = jnp.ones((32, 7, 7, 16))
    params = Net().init(jax.random.key(0), z)

    def fused(params, z):
        def step(p, _):
            gp, gz = jax.grad(Net().apply, (0, 1))(p, z)
            return jax.tree.map(lambda a, b: a - 1e-3 * b, p, gp), gz.sum()
        return lax.scan(step, params, None, length=3)

    labels = _compiled_convolutions(fused, params, z)
    assert len(labels) >= 6  # 2 forward, 2 input gradients, 2 kernel gradients
    assert set(labels) == {'b01f_01io->b01f'}, labels
