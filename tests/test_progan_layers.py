"""Progressive GAN's layers (models/layers/equalized.py): the run-time He scale and a
fan-in-free effective step, pixel norm, the minibatch standard deviation on known
batches, the resamplers."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.models.layers.equalized import (EqualConv, EqualDense, downscale2d, he_scale,
                                            minibatch_stddev, pixel_norm, upscale2d)


def test_the_run_time_scale_is_the_he_constant():
    dense4, dense64, conv, slow, c = EqualDense(8), EqualDense(8), EqualConv(5, 3), \
        EqualDense(3, lr_multiplier=0.01), 4
    x = jnp.zeros((c, 3, 3, c)).at[jnp.arange(c), 1, 1, jnp.arange(c)].set(1.0)

    @jax.jit
    def run():  # one-hot inputs read the effective kernels
        keys = jax.random.split(jax.random.key(0), 4)
        v = [dense4.init(keys[0], jnp.zeros((1, 4))), dense64.init(keys[1], jnp.zeros((1, 64))),
             conv.init(keys[2], x), slow.init(keys[3], jnp.zeros((1, 4)))]
        v[3] = {'params': {**v[3]['params'], 'bias': jnp.ones(3)}}
        return v, [dense4.apply(v[0], jnp.eye(4)), dense64.apply(v[1], jnp.eye(64)),
                   conv.apply(v[2], x)[:, 1, 1], slow.apply(v[3], jnp.eye(4))]
    v, y = run()
    kernel = [w['params']['kernel'] for w in v]
    np.testing.assert_allclose(y[0], kernel[0] * math.sqrt(2.0 / 4), rtol=1e-6)
    np.testing.assert_allclose(y[1], kernel[1] * math.sqrt(2.0 / 64), rtol=1e-6)
    assert abs(float(jnp.std(kernel[1])) - 1.0) < 0.15  # N(0, 1) weights
    np.testing.assert_allclose(y[2], kernel[2][1, 1] * math.sqrt(2.0 / (9 * c)), rtol=1e-6)
    assert he_scale(9 * c, 1.0) == 1.0 / 6.0
    # A learning-rate multiplier m: N(0, 1/m) weights times m at run time, bias times m.
    np.testing.assert_allclose(y[3], kernel[3] * 0.01 * math.sqrt(2 / 4) + 0.01, rtol=1e-6)
    assert abs(float(jnp.std(kernel[3])) - 100.0) < 50.0


def relative_step(layer, fan_in, scale):
    """One Adam step on a linear loss: the mean change of the effective weights over
    their spread at initialisation (``scale``: effective weights per stored weight)."""
    @jax.jit
    def run():
        v = layer.init(jax.random.key(3), jnp.zeros((1, fan_in)))
        c = jax.random.normal(jax.random.key(4), (fan_in, layer.features))

        def loss(params):
            return jnp.sum(layer.apply({'params': params}, jnp.eye(fan_in)) * c)
        opt = optax.adam(1e-3)
        updates, _ = opt.update(jax.grad(loss)(v['params']), opt.init(v['params']))
        step = jnp.abs(updates['kernel'] * scale)
        return jnp.mean(step) / jnp.std(v['params']['kernel'] * scale)
    return float(run())


def test_the_effective_step_does_not_depend_on_fan_in():
    equalised = [relative_step(EqualDense(256), n, he_scale(n)) for n in (16, 256)]
    np.testing.assert_allclose(equalised, 1e-3, rtol=0.05)  # Adam's first step: lr
    he = nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')
    plain = [relative_step(nn.Dense(256, kernel_init=he), n, 1.0) for n in (16, 256)]
    assert plain[1] / plain[0] == pytest.approx(4.0, rel=0.1)  # sqrt(256 / 16)


def test_pixel_norm_gives_unit_root_mean_square_features():
    x = jax.random.normal(jax.random.key(0), (2, 3, 3, 8)) * 5.0
    rms = jnp.sqrt(jnp.mean(jnp.square(jax.jit(pixel_norm)(x)), axis=-1))
    np.testing.assert_allclose(rms, 1.0, rtol=1e-5)


def test_minibatch_stddev_on_a_known_batch():
    # 8 examples in groups of 4: examples m, m + 2, m + 4, m + 6 (the official reshape).
    x = np.zeros((8, 2, 2, 3), np.float32)
    x[[4, 6]] = 2.0  # group 0: values 0, 0, 2, 2 everywhere: standard deviation 1
    x[1::2] = 7.0    # group 1: all equal: sqrt(1e-8)
    y = np.asarray(jax.jit(minibatch_stddev)(jnp.asarray(x)))
    assert y.shape == (8, 2, 2, 4)
    np.testing.assert_array_equal(y[..., :3], x)
    np.testing.assert_allclose(y[0::2, ..., 3], np.sqrt(1 + 1e-8), rtol=1e-6)
    np.testing.assert_allclose(y[1::2, ..., 3], 1e-4, rtol=1e-3)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3, 3, 5)).astype(np.float32)
    expected = np.empty(8)
    for n in range(8):
        group = x[np.arange(n % 2, 8, 2)].astype(np.float64)
        expected[n] = np.mean(np.sqrt(np.var(group, axis=0) + 1e-8))
    y = np.asarray(jax.jit(minibatch_stddev)(jnp.asarray(x)))
    np.testing.assert_allclose(y[..., 5], np.broadcast_to(expected[:, None, None], (8, 3, 3)),
                               rtol=1e-5)
    small = np.asarray(minibatch_stddev(jnp.asarray(x[:2])))  # fewer than 4: one group
    np.testing.assert_allclose(small[0, 0, 0, 5], np.mean(np.sqrt(
        np.var(x[:2].astype(np.float64), axis=0) + 1e-8)), rtol=1e-5)
    with pytest.raises(JaxgenError, match='batch of 6 does not divide') as error:
        minibatch_stddev(jnp.zeros((6, 2, 2, 1)))
    assert '\n' not in str(error.value)


def test_resamplers_are_nearest_upsampling_and_average_pooling():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(downscale2d(x)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(upscale2d(x)[0, :2, :2, 0], [[0, 0], [0, 0]])
    np.testing.assert_array_equal(downscale2d(upscale2d(x)), x)
