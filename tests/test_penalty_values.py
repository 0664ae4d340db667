"""The gradient penalty (WGAN-GP, Gulrajani et al., 2017) and R1 (Mescheder et al., 2018),
at critics whose input gradients are known in closed form, with slopes away from 1 so
that a missing square root, square or factor changes the number.

* linear critic ``D(x) = x . w``: ``grad_x D = w`` everywhere;
* quadratic critic ``D(x) = c/2 |x|^2`` over image-shaped inputs: ``grad_x D = c x``,
  so the penalty depends on where between real and fake the point lies.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.objectives.gan import gradient_penalty_term, r1_term

W = jnp.array([1.8, 2.4])   # |w| = 3


def linear_outputs(w=W):
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 2)))
    return {'real': x, 'fake': x[::-1] * 2.0, 'mix': jnp.linspace(0.1, 0.9, 5),
            'critic': lambda data: data @ w}


def test_gradient_penalty_of_a_linear_critic_is_slope_minus_one_squared():
    value, metrics = gradient_penalty_term()(linear_outputs())
    # (|w| - 1)^2 = 4; without the square root (|w|^2 - 1)^2 = 64; without the square 2
    assert float(value) == pytest.approx(4.0, rel=1e-5)
    assert float(metrics['grad_norm']) == pytest.approx(3.0, rel=1e-5)
    value, _ = gradient_penalty_term(target=2.0)(linear_outputs())
    assert float(value) == pytest.approx(1.0, rel=1e-5)


def test_r1_of_a_linear_critic_is_half_the_squared_slope():
    value, _ = r1_term()(linear_outputs())
    assert float(value) == pytest.approx(0.5 * 9.0, rel=1e-5)   # gamma/2 |grad|^2, not |grad|^2


def quadratic_outputs(c):
    rng = np.random.default_rng(1)
    real = rng.normal(size=(4, 2, 3, 1))
    fake = rng.normal(size=(4, 2, 3, 1)) * 3.0 + 1.0
    mix = np.array([0.05, 0.3, 0.6, 0.95])
    outputs = {'real': jnp.asarray(real), 'fake': jnp.asarray(fake), 'mix': jnp.asarray(mix),
               'critic': lambda x: 0.5 * c * jnp.sum(x ** 2, axis=(1, 2, 3))}
    return outputs, real, fake, mix


def reference_penalties(c, real, fake, mix):
    """Numpy: x_hat = mix real + (1 - mix) fake per example, |grad D(x_hat)| = c |x_hat|."""
    x_hat = mix[:, None, None, None] * real + (1.0 - mix[:, None, None, None]) * fake
    norms = c * np.sqrt(np.sum(x_hat ** 2, axis=(1, 2, 3)))
    gp = np.mean((norms - 1.0) ** 2)
    r1 = 0.5 * np.mean(c ** 2 * np.sum(real ** 2, axis=(1, 2, 3)))
    return gp, r1, norms


def test_penalties_of_a_quadratic_critic_on_images_match_numpy():
    c = 0.7
    outputs, real, fake, mix = quadratic_outputs(c)
    gp, r1, norms = reference_penalties(c, real, fake, mix)
    value, metrics = gradient_penalty_term()(outputs)
    assert float(value) == pytest.approx(gp, rel=1e-5)
    assert float(metrics['grad_norm']) == pytest.approx(np.mean(norms), rel=1e-5)
    assert float(r1_term()(outputs)[0]) == pytest.approx(r1, rel=1e-5)


def test_penalties_differentiate_into_the_critic():
    """The penalties train the critic: d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w| and
    d/dw |w|^2 / 2 = w; for the quadratic critic, d/dc mean((c n - 1)^2) = mean(2 (c n - 1) n)."""
    gp_grad = jax.grad(lambda w: gradient_penalty_term()(linear_outputs(w))[0])(W)
    np.testing.assert_allclose(gp_grad, 2.0 * (3.0 - 1.0) * np.asarray(W) / 3.0, rtol=1e-5)
    r1_grad = jax.grad(lambda w: r1_term()(linear_outputs(w))[0])(W)
    np.testing.assert_allclose(r1_grad, W, rtol=1e-5)

    c = 0.7
    _, real, fake, mix = quadratic_outputs(c)
    _, _, norms = reference_penalties(1.0, real, fake, mix)   # |x_hat|
    got = jax.grad(lambda c_: gradient_penalty_term()(quadratic_outputs(c_)[0])[0])(c)
    assert float(got) == pytest.approx(np.mean(2.0 * (c * norms - 1.0) * norms), rel=1e-5)
    got = jax.grad(lambda c_: r1_term()(quadratic_outputs(c_)[0])[0])(c)
    assert float(got) == pytest.approx(c * np.mean(np.sum(real ** 2, axis=(1, 2, 3))), rel=1e-5)
