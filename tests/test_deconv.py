"""The transposed convolution is Flax's, exactly forward (to float rounding where
the default path runs the sub-pixel form) and to float rounding backward, with the
CPU speed-ups on or off, for every geometry jaxgen uses and more; every derivative
JAX offers matches plain ``lax.conv_transpose``'s in both settings; by default a
layer with many channels is a sub-pixel matmul (no dilated convolution anywhere),
and with the speed-ups on its kernel gradient is an ordinary strided convolution's,
both of which XLA:CPU runs fast."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgen.models.layers import deconv
from jaxgen.models.layers.conv import DIMENSIONS, cpu_speedups
from jaxgen.models.layers.deconv import ConvTranspose, subpixel_conv_transpose
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
    subpixel = not speedups and min(cin, cout) >= deconv.SUBPIXEL_MIN_CHANNELS
    with cpu_speedups(speedups):
        helpers.assert_layer_matches_flax(flax_layer, ours, x, exact=not subpixel)


GEOMETRIES = pytest.mark.parametrize('shape, kernel, stride, padding', [
    ((7, 7), (4, 4), (2, 2), 'SAME'),      # the models' layers
    ((14, 14), (4, 4), (2, 2), 'SAME'),
    ((4, 5), (4, 4), (2, 2), 'VALID'),
    ((5, 4), (3, 4), (2, 2), 'SAME'),      # odd kernel: phases with unequal taps
    ((4, 5), (4, 3), (2, 2), 'VALID'),     # ... and an odd output size, cut
    ((5, 5), (5, 5), (3, 3), 'SAME'),      # odd kernel and stride
    ((4, 3), (7, 2), (3, 2), 'VALID'),     # unequal axes
    ((4, 4), (2, 2), (3, 3), 'SAME'),      # kernel under the stride: an empty phase
    ((6, 6), (1, 1), (2, 2), 'VALID'),
    ((6, 5), (3, 3), (1, 1), 'SAME'),      # stride 1: one phase
])


@GEOMETRIES
def test_subpixel_form_is_lax_conv_transpose(shape, kernel, stride, padding):
    """:func:`subpixel_conv_transpose` on random inputs: the values of Flax's
    ``ConvTranspose`` (``lax.conv_transpose``), its input and kernel gradients and its
    tangents (``jax.jvp``), to float rounding."""
    kx, kw, kg, kdx, kdw = jax.random.split(jax.random.key(0), 5)
    x = jax.random.normal(kx, (3, *shape, 5))
    w = jax.random.normal(kw, (*kernel, 5, 6))

    def flax_layer(x, w):
        return nn.ConvTranspose(6, kernel, stride, padding, use_bias=False).apply(
            {'params': {'kernel': w}}, x)

    def ours(x, w):
        return subpixel_conv_transpose(x, w, stride, padding)

    def close(a, b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * float(jnp.abs(b).max()))
    shape_y = jax.eval_shape(flax_layer, x, w).shape
    g = jax.random.normal(kg, shape_y)
    tangents = (jax.random.normal(kdx, x.shape), jax.random.normal(kdw, w.shape))

    @jax.jit  # one program per geometry: op by op, every op compiled alone took seconds
    def both(x, w, g, tangents):
        out = {}
        for name, f in (('flax', flax_layer), ('ours', ours)):
            y, vjp = jax.vjp(f, x, w)
            out[name] = (y, *vjp(g), jax.jvp(f, (x, w), tangents)[1])
        return out
    out = both(x, w, g, tangents)
    assert out['ours'][0].shape == out['flax'][0].shape
    for a, b in zip(out['ours'], out['flax']):  # values, both gradients, tangents
        close(a, b)


@pytest.mark.parametrize('cin, cout, subpixel', [(128, 64, True), (64, 1, False),
                                                 (16, 16, True), (15, 64, False)])
def test_default_path_runs_the_subpixel_form_for_many_channels(cin, cout, subpixel):
    """By default a stride-2 layer with at least SUBPIXEL_MIN_CHANNELS channels in
    and out is the sub-pixel matmul (no convolution in its program); one with fewer
    (the 1-channel output layers) is lax's input-dilated convolution."""
    layer = ConvTranspose(cout, (4, 4), (2, 2))
    x = jnp.ones((2, 7, 7, cin))
    program = str(jax.make_jaxpr(layer.apply)(layer.init(jax.random.key(0), x), x))
    assert ('conv_general_dilated' not in program) == subpixel
    assert ('dot_general' in program) == subpixel


@SPEEDUPS
@pytest.mark.parametrize('batch, size, kernel, stride, padding, chunk, channels', [
    (3, 4, 4, 2, 'SAME', 0, 3),    # DCGAN's geometry
    (3, 4, 4, 2, 'SAME', 0, 16),   # ... with the channels of the default's sub-pixel form
    (9, 3, 4, 2, 'VALID', 1, 16),  # nine chunks of one: through lax.map
    (9, 3, 4, 2, 'VALID', 1, 3),
    (2, 3, 5, 3, 'SAME', 0, 16),   # odd kernel and stride
    (2, 3, 2, 3, 'SAME', 0, 3),    # kernel under the stride: autodiff's own rules
])
def test_every_derivative_matches_lax(batch, size, kernel, stride, padding, chunk, channels,
                                      speedups):
    x = jax.random.normal(jax.random.key(0), (batch, size, size, channels))
    features = 16 if channels >= 16 else 4
    ours = ConvTranspose(features, (kernel, kernel), (stride, stride), padding,
                         batch_chunk=chunk)

    def reference(variables, x):
        p = variables['params']
        return lax.conv_transpose(x, p['kernel'], (stride, stride), padding,
                                  dimension_numbers=DIMENSIONS) + p['bias']
    subpixel = not speedups and channels >= deconv.SUBPIXEL_MIN_CHANNELS
    with cpu_speedups(speedups):
        helpers.assert_derivatives_match(ours, reference, x, custom=speedups,
                                         exact=not subpixel)


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
    one, and so is ours by default with few channels (with many, the sub-pixel form
    has no convolution at all); with the speed-ups on it is an ordinary strided
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
    x = jnp.ones((2, 7, 7, 16))
    assert input_dilated_convolutions(nn.ConvTranspose(16, (4, 4), (2, 2))) == 2
    assert input_dilated_convolutions(ConvTranspose(16, (4, 4), (2, 2))) == 0
