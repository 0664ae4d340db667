"""The transposed convolution with the fast kernel gradient is Flax's, exactly
forward and to float rounding backward, for every geometry jaxgen uses and more."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from jaxgen.models.deconv import ConvTranspose
from tests import helpers


@pytest.mark.parametrize('size, cin, cout, kernel, stride, padding', [
    (7, 32, 16, 4, 2, 'SAME'),   # DCGAN / InfoGAN first upsampling (channels shrunk)
    (14, 16, 1, 4, 2, 'SAME'),   # ... and the output layer
    (4, 3, 2, 4, 2, 'VALID'),
    (5, 3, 2, 5, 3, 'SAME'),      # odd kernel and stride
])
def test_matches_flax_conv_transpose_forward_and_backward(size, cin, cout, kernel, stride,
                                                          padding):
    x = jax.random.normal(jax.random.key(0), (3, size, size, cin))
    flax_layer = nn.ConvTranspose(cout, (kernel, kernel), (stride, stride), padding)
    ours = ConvTranspose(cout, (kernel, kernel), (stride, stride), padding)
    helpers.assert_layer_matches_flax(flax_layer, ours, x)


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
    one, ours is an ordinary strided convolution's kernel gradient: of the
    gradient program's convolutions only the forward pass dilates its input."""
    x = jnp.ones((2, 7, 7, 8))

    def input_dilated_convolutions(layer):
        v = layer.init(jax.random.key(0), x)
        jaxpr = jax.make_jaxpr(jax.grad(lambda v: layer.apply(v, x).sum()))(v).jaxpr
        return sum(tuple(e.params['lhs_dilation']) != (1, 1) for e in _convolutions(jaxpr))
    assert input_dilated_convolutions(nn.ConvTranspose(4, (4, 4), (2, 2))) == 2
    assert input_dilated_convolutions(ConvTranspose(4, (4, 4), (2, 2))) == 1
