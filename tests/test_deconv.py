"""The transposed convolution is Flax's, exactly forward and to float rounding
backward, with the CPU speed-ups on or off, for every geometry jaxgen uses and
more; every derivative JAX offers matches plain ``lax.conv_transpose``'s in both
settings; and with them on, its kernel gradient is an ordinary strided
convolution's, which XLA:CPU runs fast."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest
from jax import lax

from jaxgen.models.conv import DIMENSIONS, cpu_speedups
from jaxgen.models.deconv import ConvTranspose
from tests import helpers

SPEEDUPS = pytest.mark.parametrize('speedups', [False, True], ids=['plain', 'speedups'])


@SPEEDUPS
@pytest.mark.parametrize('size, cin, cout, kernel, stride, padding', [
    (7, 32, 16, 4, 2, 'SAME'),   # DCGAN / InfoGAN first upsampling (channels shrunk)
    (14, 16, 1, 4, 2, 'SAME'),   # ... and the output layer
    (4, 3, 2, 4, 2, 'VALID'),
    (5, 3, 2, 5, 3, 'SAME'),      # odd kernel and stride
    (4, 3, 2, 2, 3, 'SAME'),      # kernel under the stride: autodiff's own rules
])
def test_matches_flax_conv_transpose_forward_and_backward(size, cin, cout, kernel, stride,
                                                          padding, speedups):
    x = jax.random.normal(jax.random.key(0), (3, size, size, cin))
    flax_layer = nn.ConvTranspose(cout, (kernel, kernel), (stride, stride), padding)
    ours = ConvTranspose(cout, (kernel, kernel), (stride, stride), padding)
    with cpu_speedups(speedups):
        helpers.assert_layer_matches_flax(flax_layer, ours, x)


@SPEEDUPS
@pytest.mark.parametrize('batch, size, kernel, stride, padding, chunk', [
    (3, 4, 4, 2, 'SAME', 0),    # DCGAN's geometry
    (9, 3, 4, 2, 'VALID', 1),   # nine chunks of one: through lax.map
    (2, 3, 5, 3, 'SAME', 0),    # odd kernel and stride
    (2, 3, 2, 3, 'SAME', 0),    # kernel under the stride: autodiff's own rules
])
def test_every_derivative_matches_lax(batch, size, kernel, stride, padding, chunk, speedups):
    x = jax.random.normal(jax.random.key(0), (batch, size, size, 3))
    ours = ConvTranspose(4, (kernel, kernel), (stride, stride), padding, batch_chunk=chunk)

    def reference(variables, x):
        p = variables['params']
        return lax.conv_transpose(x, p['kernel'], (stride, stride), padding,
                                  dimension_numbers=DIMENSIONS) + p['bias']
    with cpu_speedups(speedups):
        helpers.assert_derivatives_match(ours, reference, x, custom=speedups)


def _convolutions(jaxpr):
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == 'conv_general_dilated':
            yield eqn
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                inner = getattr(sub, 'jaxpr', sub)
                if hasattr(inner, 'eqns'):
                    yield from _convolutions(inner)


def test_kernel_gradient_is_no_input_dilated_convolution():
    """XLA's CPU backend runs a convolution over an input dilated by the stride
    slowly (12 s vs 0.2 s at DCGAN's batch-256 shapes); Flax's kernel gradient is
    one, and so is ours by default; with the speed-ups on it is an ordinary strided
    convolution's kernel gradient: of the gradient program's convolutions only the
    forward pass dilates its input."""
    x = jnp.ones((2, 7, 7, 8))

    def input_dilated_convolutions(layer):
        v = layer.init(jax.random.key(0), x)
        jaxpr = jax.make_jaxpr(jax.grad(lambda v: layer.apply(v, x).sum()))(v).jaxpr
        return sum(tuple(e.params['lhs_dilation']) != (1, 1) for e in _convolutions(jaxpr))
    assert input_dilated_convolutions(nn.ConvTranspose(4, (4, 4), (2, 2))) == 2
    assert input_dilated_convolutions(ConvTranspose(4, (4, 4), (2, 2))) == 2
    with cpu_speedups(True):
        assert input_dilated_convolutions(ConvTranspose(4, (4, 4), (2, 2))) == 1
