"""Winograd's F(4x4, 3x3) kernel gradient (``jaxgen/models/layers/winograd.py``):
the transforms against the direct correlation, the kernel gradient against autodiff's
in float64, the convolution's values and gradients (first and second order, forward
mode too) against ``lax``'s, and ``EqualConv`` taking it inside ``cpu_speedups(True)``
only, with no kernel gradient left to XLA's convolution."""

import importlib

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgen.models.layers import split_variables, winograd
from jaxgen.models.layers.conv import cpu_speedups
from jaxgen.models.layers.equalized import EqualConv
from jaxgen.training import experiment

SHAPES = [(2, 7, 5, 3, 6), (3, 8, 8, 4, 2), (1, 1, 2, 2, 3), (2, 13, 9, 5, 4)]


def lax_conv(x, w):
    return lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                    dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def arrays(shape, dtype, seed=0):
    n, h, w, c, k = shape
    kx, kw = jax.random.split(jax.random.key(seed))
    return (jax.random.normal(kx, (n, h, w, c), dtype),
            jax.random.normal(kw, (3, 3, c, k), dtype) / np.sqrt(9 * c))


def kernel_convs(fn, *args) -> int:
    """How many convolutions in ``fn``'s jaxpr output a 3x3 kernel's shape (a kernel
    gradient computed as a convolution, XLA's way)."""
    count = 0

    def walk(jaxpr):
        nonlocal count
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == 'conv_general_dilated':
                count += eqn.outvars[0].aval.shape[:2] == (3, 3)
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub)
    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return count


def test_the_matrices_are_f43_minimal_filtering():
    """1-D F(4, 3): A^T [(G g) * (B^T d)] is the correlation of a 6-sample patch with a
    3-tap filter, for random patches and filters (float64)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        d, g = rng.normal(size=6), rng.normal(size=3)
        direct = np.array([d[i:i + 3] @ g for i in range(4)])
        fast = winograd.A_T @ ((winograd.G @ g) * (winograd.B_T @ d))
        np.testing.assert_allclose(fast, direct, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('shape', SHAPES)
def test_the_kernel_gradient_equals_autodiffs_in_float64(shape):
    with jax.enable_x64(True):
        x, w = arrays(shape, jnp.float64)
        g = jax.random.normal(jax.random.key(1), (*shape[:3], shape[4]), jnp.float64)
        _, vjp = jax.vjp(lambda w: lax_conv(x, w), w)
        expected, = vjp(g)
        got = winograd.kernel_gradient(x, g)
    assert got.shape == expected.shape == w.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize('shape', SHAPES)
def test_the_winograd_convolution_equals_lax_in_float64(shape):
    with jax.enable_x64(True):
        x, w = arrays(shape, jnp.float64)
        expected = lax_conv(x, w)
        got = winograd.winograd_conv(x, w)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_the_input_gradient_takes_winograd_from_16_pixels():
    """From WINOGRAD_MIN pixels a side the input gradient is the Winograd convolution
    (no convolution primitive at all), below it XLA's; both equal autodiff's."""
    for size, convs in ((winograd.WINOGRAD_MIN, 0), (winograd.WINOGRAD_MIN - 1, 1)):
        x, w = arrays((2, size, size, 4, 4), jnp.float32)
        g = jax.random.normal(jax.random.key(5), x.shape[:3] + (4,))
        _, vjp = jax.vjp(lambda x: lax_conv(x, w), x)
        expected, = vjp(g)
        np.testing.assert_allclose(winograd.input_gradient(g, w), expected, rtol=0,
                                   atol=2e-5 * float(jnp.abs(expected).max()))
        jaxpr = jax.make_jaxpr(winograd.input_gradient)(g, w)
        assert sum(e.primitive.name == 'conv_general_dilated' for e in jaxpr.eqns) == convs


def test_conv3x3_values_are_lax_and_gradients_agree_in_float32():
    x, w = arrays((4, 16, 16, 8, 8), jnp.float32)
    assert bool(jnp.all(winograd.conv3x3(x, w) == lax_conv(x, w)))

    def loss(conv):
        return lambda x, w: jnp.sum(jnp.sin(conv(x, w)))
    expected = jax.grad(loss(lax_conv), (0, 1))(x, w)
    got = jax.jit(jax.grad(loss(winograd.conv3x3), (0, 1)))(x, w)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=0, atol=2e-5 * float(jnp.abs(e).max()))


def penalty(conv):
    """A gradient penalty's gradient in the weights: second order through the conv."""
    def value(w, x):
        gx = jax.grad(lambda x: jnp.sum(jnp.tanh(conv(x, w))))(x)
        return jnp.sum(gx ** 2)
    return jax.grad(value)


@pytest.mark.parametrize('shape', [*SHAPES[:2], (2, 16, 17, 3, 4)])  # 16: Winograd's ig
def test_second_order_and_forward_mode_agree_in_float64(shape):
    with jax.enable_x64(True):
        x, w = arrays(shape, jnp.float64)
        np.testing.assert_allclose(penalty(winograd.conv3x3)(w, x), penalty(lax_conv)(w, x),
                                   rtol=1e-10, atol=1e-12)
        tangents = arrays(shape, jnp.float64, seed=2)
        np.testing.assert_allclose(jax.jvp(winograd.conv3x3, (x, w), tangents)[1],
                                   jax.jvp(lax_conv, (x, w), tangents)[1], rtol=1e-10,
                                   atol=1e-12)


def test_no_kernel_gradient_is_left_to_xla_to_second_order():
    """The kernel gradient, and the gradient penalty's second derivative (its forward
    pass re-differentiated, and its input-gradient convolutions differentiated: dots,
    from WINOGRAD_MIN pixels), run Winograd's rules: no convolution outputs a kernel
    (``lax``'s conv: 1 of 1 and 2 of 2; below WINOGRAD_MIN the input gradient's
    derivative stays XLA's)."""
    x, w = arrays((2, winograd.WINOGRAD_MIN, winograd.WINOGRAD_MIN, 4, 4), jnp.float32)
    first = lambda conv: jax.grad(lambda w: jnp.sum(jnp.sin(conv(x, w))))  # noqa: E731
    assert kernel_convs(first(lax_conv), w) == 1
    assert kernel_convs(first(winograd.conv3x3), w) == 0
    assert kernel_convs(penalty(lax_conv), w, x) == 2
    assert kernel_convs(penalty(winograd.conv3x3), w, x) == 0
    small = x[:, :8, :8]
    assert kernel_convs(penalty(winograd.conv3x3), w, small) == 1


def test_equal_conv_takes_it_inside_the_cpu_speedups_only():
    layer = EqualConv(8, 3)
    x = jax.random.normal(jax.random.key(3), (4, 8, 8, 8))
    params = layer.init(jax.random.key(4), x)

    def grads(speedups):
        with cpu_speedups(speedups):
            fn = jax.grad(lambda p: jnp.sum(jnp.sin(layer.apply(p, x))))
            return kernel_convs(fn, params), fn(params), layer.apply(params, x)
    plain, fast = grads(False), grads(True)
    assert (plain[0], fast[0]) == (1, 0)
    assert bool(jnp.all(plain[2] == fast[2]))  # the same forward values
    for p, f in zip(jax.tree.leaves(plain[1]), jax.tree.leaves(fast[1])):
        np.testing.assert_allclose(f, p, rtol=0, atol=2e-5 * float(jnp.abs(p).max()))
    kernel = params['params']['kernel']
    assert winograd.applies(x, kernel)
    assert not winograd.applies(x.astype(jnp.bfloat16), kernel.astype(jnp.bfloat16))
    assert not winograd.applies(x, jnp.zeros((1, 1, 8, 8)))  # 1x1: XLA's conv


@pytest.mark.parametrize('name', ['progan', 'stylegan'])
def test_a_models_gradients_agree_with_and_without_the_speedups(name, monkeypatch):
    """Every term's gradient (Progressive GAN's gradient penalty, StyleGAN's R1: second
    order) in every player, 8x8 images with Winograd's input gradient taken from 8
    pixels (16 in use: two layers fewer to compile), equal with and without
    ``cpu_speedups`` to float32 rounding, forward values exactly."""
    monkeypatch.setattr(winograd, 'WINOGRAD_MIN', 8)
    c = importlib.import_module(f'configs.{name}').get_config('mnist32,resolution=8,batch=4')
    c.model.fmap_base, c.model.fmap_max, c.model.latent_dim = 64, 8, 8
    if name == 'stylegan':
        c.model.w_dim, c.model.mapping_layers = 8, 2
    exp = experiment.build(c, {'kind': 'images', 'shape': [8, 8, 1], 'scale': 'tanh'})
    params, state = {}, {}
    for player, v in exp.model.init(jax.random.key(0)).items():
        params[player], state[player] = split_variables(v)
    batch = {'image': jnp.tanh(jax.random.normal(jax.random.key(1), (4, 8, 8, 1))),
             'step': jnp.asarray(15)}
    names = [t.name for t in exp.objective.terms]
    assert {'gradient_penalty', 'r1'} & set(names)

    def run(speedups):
        with cpu_speedups(speedups):
            def total(p):
                metrics = exp.objective(p, state, batch, jax.random.key(2))[1].metrics
                return sum(metrics[n] for n in names), metrics
            return jax.jit(jax.grad(total, has_aux=True))(params)
    (plain, plain_metrics), (fast, fast_metrics) = run(False), run(True)
    for n in names:
        assert fast_metrics[n] == pytest.approx(float(plain_metrics[n]), rel=1e-5, abs=1e-6), n
    for player in plain:  # to the player's largest gradient (some are 0 up to rounding)
        scale = max(float(jnp.abs(p).max()) for p in jax.tree.leaves(plain[player]))
        for p, f in zip(jax.tree.leaves(plain[player]), jax.tree.leaves(fast[player])):
            assert bool(jnp.all(jnp.isfinite(f)))
            np.testing.assert_allclose(f, p, rtol=0, atol=1e-5 * scale)
