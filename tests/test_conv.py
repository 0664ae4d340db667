"""The convolution is Flax's, exactly forward and to float rounding backward, with
the CPU speed-ups on or off; every derivative JAX offers (forward mode, vmap,
Hessian-vector products, gradients of gradients) matches plain ``lax``'s in both
settings; with them on, every convolution of its gradients (and of the transposed
convolution's) is one XLA:CPU runs with its fast kernels, also inside the loop of
fused train steps, where autodiff's own gradients fell to a generic path 100x
slower; and batch chunks are automatic only with them on."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgen.models.layers import conv
from jaxgen.models.layers.conv import (CPU_CHUNK, DIMENSIONS, Conv, auto_chunk, cpu_speedups,
                                cpu_speedups_enabled, input_gradient)
from jaxgen.models.layers.deconv import ConvTranspose
from jaxgen.models.layers import apply, compiled, compute_dtype
from tests import helpers

SPEEDUPS = pytest.mark.parametrize('speedups', [False, True], ids=['plain', 'speedups'])


def test_cpu_speedups_nest_and_default_to_off():
    assert not cpu_speedups_enabled()
    with cpu_speedups(True):
        assert cpu_speedups_enabled()
        with cpu_speedups(False):
            assert not cpu_speedups_enabled()
        assert cpu_speedups_enabled()
    assert not cpu_speedups_enabled()


def test_compiled_methods_are_traced_per_setting():
    """A model method compiled with the speed-ups off is not reused with them on
    (layers.compiled keys its programs by the setting, read while tracing)."""
    class Probe:
        @compiled()
        def setting(self, x):
            return x + cpu_speedups_enabled()

    probe = Probe()
    assert float(probe.setting(0.0)) == 0.0
    with cpu_speedups(True):
        assert float(probe.setting(0.0)) == 1.0
    assert float(probe.setting(0.0)) == 0.0


@SPEEDUPS
@pytest.mark.parametrize('size, cin, cout, kernel, stride, padding', [
    (14, 16, 8, 4, 2, 'SAME'),    # DCGAN / InfoGAN discriminator (channels shrunk)
    (28, 1, 8, 4, 2, 'SAME'),     # ... its first layer
    (9, 3, 5, 3, 1, 'SAME'),      # unstrided
    (13, 3, 4, 5, 3, 'SAME'),     # odd size, kernel and stride
    (10, 3, 2, 3, 2, 'VALID'),
    (11, 2, 3, 3, 2, ((2, 1), (0, 3))),  # explicit, asymmetric
    (6, 2, 3, 2, 2, ((3, 3), (3, 3))),   # pads beyond the kernel: autodiff's input rule
])
def test_matches_flax_conv_forward_and_backward(size, cin, cout, kernel, stride, padding,
                                                speedups):
    x = jax.random.normal(jax.random.key(0), (3, size, size, cin))
    flax_layer = nn.Conv(cout, (kernel, kernel), (stride, stride), padding)
    ours = Conv(cout, (kernel, kernel), (stride, stride), padding)
    with cpu_speedups(speedups):
        helpers.assert_layer_matches_flax(flax_layer, ours, x)


def _lax_conv(strides, padding):
    def reference(variables, x):
        p = variables['params']
        return lax.conv_general_dilated(x, p['kernel'], strides, padding,
                                        dimension_numbers=DIMENSIONS) + p['bias']
    return reference


@SPEEDUPS
@pytest.mark.parametrize('batch, cin, size, kernel, stride, padding, chunk', [
    (3, 3, 8, 4, 2, 'SAME', 0),
    (9, 2, 7, 3, 2, 'VALID', 1),            # nine chunks of one: through lax.map
    (2, 2, 6, 2, 2, ((3, 3), (3, 3)), 0),   # autodiff's own rule for the input part
])
def test_every_derivative_matches_lax(batch, cin, size, kernel, stride, padding, chunk,
                                      speedups):
    x = jax.random.normal(jax.random.key(0), (batch, size, size, cin))
    ours = Conv(4, (kernel, kernel), (stride, stride), padding, batch_chunk=chunk)
    with cpu_speedups(speedups):
        helpers.assert_derivatives_match(ours, _lax_conv((stride, stride), padding), x,
                                         custom=speedups)


@pytest.mark.parametrize('layer, reference', [
    (Conv(6, (4, 4), (2, 2), use_bias=False),
     lambda v, x: lax.conv_general_dilated(x, v['params']['kernel'], (2, 2), 'SAME',
                                           dimension_numbers=DIMENSIONS)),
    (ConvTranspose(6, (4, 4), (2, 2), use_bias=False),
     lambda v, x: lax.conv_transpose(x, v['params']['kernel'], (2, 2), 'SAME',
                                     dimension_numbers=DIMENSIONS)),
])
def test_bfloat16_compute_differentiates_both_ways(layer, reference):
    """Under ``compute_dtype(bfloat16)`` (config.precision) the speed-ups' gradients
    and tangents are the float32 ones to bfloat16 rounding. (No bias: JAX sums a
    bias's gradient in bfloat16, which stops growing at 256, with or without them.)"""
    x = jax.random.normal(jax.random.key(0), (4, 8, 8, 5))
    variables = layer.init(jax.random.key(1), x)
    dv = jax.tree.map(lambda a: jnp.ones_like(a) * 0.1, variables)

    def derivatives(module_apply):
        def loss(v, x):
            return jnp.sum(jnp.sin(module_apply(v, x)))
        return (jax.jvp(module_apply, (variables, x), (dv, x))[1],
                jax.grad(loss, (0, 1))(variables, x))

    class Player(nn.Module):  # what layers.apply runs: a module taking ``train``
        layer: nn.Module

        def __call__(self, x, train):
            return self.layer(x)

    def ours(v, x):
        with compute_dtype(jnp.bfloat16):
            return apply(Player(layer), {'params': {'layer': v['params']}}, x, train=True)[0]

    with cpu_speedups(True):
        assert 'bf16' in str(jax.make_jaxpr(ours)(variables, x))
        got = jax.jit(lambda: derivatives(ours))()
    expected = derivatives(reference)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        assert a.dtype == jnp.float32
        np.testing.assert_allclose(a, b, rtol=0.05, atol=0.03 * float(jnp.abs(b).max()))


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
    """With the speed-ups on, a lax.scan over SGD steps of a deconv -> conv network (a
    generator into a discriminator, batch-size channels): every convolution of the
    loop, forward and both gradients of both layers, in the layout Eigen runs; also
    with the batch chunks' own loop nested in it."""
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

    with cpu_speedups(True):
        labels = _compiled_convolutions(fused, params, z)
    assert len(labels) >= 6  # 2 forward, 2 input gradients, 2 kernel gradients
    assert set(labels) == {'b01f_01io->b01f'}, labels


def _program(module, x, speedups: bool) -> str:
    """The jaxpr of ``module`` applied to ``x`` with the speed-ups on or off, as text."""
    params = module.init(jax.random.key(0), x)
    with cpu_speedups(speedups):
        return str(jax.make_jaxpr(module.apply)(params, x))


@pytest.mark.parametrize('layer', [Conv, ConvTranspose])
def test_speedups_off_run_the_plain_layer(layer):
    """Off (the default) the layer is plain lax with autodiff's own rules: no custom
    derivative in its program; on, a custom_jvp."""
    x = jnp.ones((2, 7, 7, 3))
    assert 'custom_jvp_call' not in _program(layer(4, (4, 4), (2, 2)), x, False)
    assert 'custom_jvp_call' in _program(layer(4, (4, 4), (2, 2)), x, True)


@SPEEDUPS
@pytest.mark.parametrize('layer', [Conv, ConvTranspose])
def test_batch_chunks_compute_the_same_layer(layer, speedups):
    """Chunks of 4 over a batch of 34 (eight chunks and a remainder of 2), in either
    setting: the same outputs and, to float rounding, the same gradients as the
    whole batch at once."""
    x = jax.random.normal(jax.random.key(0), (34, 7, 7, 6))
    whole, chunked = layer(5, (4, 4), (2, 2), batch_chunk=0), layer(5, (4, 4), (2, 2),
                                                                     batch_chunk=4)
    params = whole.init(jax.random.key(1), x)
    with cpu_speedups(speedups):
        assert 'scan' in str(jax.make_jaxpr(chunked.apply)(params, x))
        assert 'scan' not in str(jax.make_jaxpr(whole.apply)(params, x))
        assert 'scan' not in str(jax.make_jaxpr(chunked.apply)(params, x[:31]))  # 7 chunks
        np.testing.assert_allclose(chunked.apply(params, x), whole.apply(params, x),
                                   rtol=1e-6, atol=1e-6)

        def grads(module):
            return jax.jit(jax.grad(lambda p, x: jnp.sum(jnp.sin(module.apply(p, x))),
                                    (0, 1)))(params, x)
        for a, b in zip(jax.tree.leaves(grads(chunked)), jax.tree.leaves(grads(whole))):
            # sums of ~500 terms of size ~20 in another order: rounding relative to the largest
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6 * float(jnp.abs(b).max()))


@pytest.mark.parametrize('layer', [Conv, ConvTranspose])
def test_automatic_chunks_only_with_speedups(layer, monkeypatch):
    """``batch_chunk=None`` (the default) chunks by :func:`auto_chunk` inside
    ``cpu_speedups(True)`` and not at all outside it, nor inside a nested
    ``cpu_speedups(False)``."""
    monkeypatch.setattr(conv, 'auto_chunk', lambda: 4)
    x, module = jnp.ones((32, 7, 7, 3)), layer(4, (4, 4), (2, 2))
    assert 'scan' not in _program(module, x, False)
    assert 'scan' in _program(module, x, True)
    with cpu_speedups(True):
        assert 'scan' not in _program(module, x, False)


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


@SPEEDUPS
@pytest.mark.parametrize('size, kernel, padding, patches', [
    (3, 4, ((1, 1), (1, 1)), True),   # PatchGAN's 3x3 -> 2x2 layer
    (2, 4, ((1, 1), (1, 1)), True),   # ... and its last, 2x2 -> 1x1
    (4, 3, 'SAME', True),             # 16 output pixels: the largest patched
    (5, 3, 'VALID', True),
    (5, 3, 'SAME', False),            # 25 output pixels: lax's convolution
])
def test_small_stride_one_outputs_are_a_patch_matmul_with_lax_s_values(size, kernel, padding,
                                                                       patches, speedups):
    """Values, both gradients and tangents of ``Conv`` equal ``lax``'s to float rounding;
    a small output's program holds no convolution, only a matmul."""
    x = jax.random.normal(jax.random.key(0), (3, size, size, 5))
    layer = Conv(6, (kernel, kernel), padding=padding, use_bias=False)
    with cpu_speedups(speedups):
        variables = layer.init(jax.random.key(1), x)
        program = str(jax.make_jaxpr(layer.apply)(variables, x))
    assert ('conv_general_dilated' not in program) == patches
    w = variables['params']['kernel']
    pads = padding if isinstance(padding, str) else tuple(padding)

    def ours(x, w):
        with cpu_speedups(speedups):
            return layer.apply({'params': {'kernel': w}}, x)

    def reference(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), pads, dimension_numbers=DIMENSIONS)
    g = jax.random.normal(jax.random.key(2), jax.eval_shape(reference, x, w).shape)
    tangents = (jax.random.normal(jax.random.key(3), x.shape),
                jax.random.normal(jax.random.key(4), w.shape))

    @jax.jit  # one program: op by op took seconds a case
    def both(x, w, g, tangents):
        out = []
        for f in (ours, reference):
            y, vjp = jax.vjp(f, x, w)
            out.append((y, *vjp(g), jax.jvp(f, (x, w), tangents)[1]))
        return out
    got, expected = both(x, w, g, tangents)
    for a, b in zip(got, expected):  # values, both gradients, tangents
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))
