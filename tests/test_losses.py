"""GAN losses: values, stability, the optimal discriminator and the saturation story."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxgen import losses


def test_losses_are_per_example_and_match_naive_formulas():
    real = jnp.array([-2.0, 0.0, 3.0])
    fake = jnp.array([1.0, -1.0, 0.5])
    d = losses.discriminator_loss(real_logits=real, fake_logits=fake)
    chex.assert_shape(d, (3,))
    dr, df = jax.nn.sigmoid(real), jax.nn.sigmoid(fake)
    np.testing.assert_allclose(d, -jnp.log(dr) - jnp.log(1 - df), rtol=1e-6)
    np.testing.assert_allclose(losses.generator_saturating_loss(fake_logits=fake),
                               jnp.log(1 - df), rtol=1e-6)
    np.testing.assert_allclose(losses.generator_nonsaturating_loss(fake_logits=fake),
                               -jnp.log(df), rtol=1e-6)


def test_losses_are_keyword_only():
    with pytest.raises(TypeError):
        losses.generator_nonsaturating_loss(jnp.zeros(2))  # pylint: disable=too-many-function-args


def test_losses_are_stable_for_extreme_logits():
    big = jnp.array([-200.0, 200.0])
    for value in (losses.discriminator_loss(real_logits=big, fake_logits=big),
                  losses.generator_saturating_loss(fake_logits=big),
                  losses.generator_nonsaturating_loss(fake_logits=big)):
        chex.assert_tree_all_finite(value)
    np.testing.assert_allclose(losses.generator_nonsaturating_loss(fake_logits=big),
                               [200.0, 0.0], atol=1e-5)


def test_one_sided_label_smoothing_moves_only_the_real_target():
    logits = jnp.linspace(-3, 3, 7)
    smooth = losses.discriminator_loss(real_logits=logits, fake_logits=logits,
                                       label_smoothing=0.1)
    expected = (0.9 * jax.nn.softplus(-logits) + 0.1 * jax.nn.softplus(logits)
                + jax.nn.softplus(logits))
    np.testing.assert_allclose(smooth, expected, rtol=1e-6)
    # The smoothed optimum on real data is D = 0.9, not 1.
    grad = jax.grad(lambda l: losses.discriminator_loss(
        real_logits=l, fake_logits=jnp.array(-50.0), label_smoothing=0.1))(
            jnp.log(0.9 / 0.1))
    assert abs(float(grad)) < 1e-6
    with pytest.raises(ValueError, match='label_smoothing'):
        losses.discriminator_loss(real_logits=logits, fake_logits=logits, label_smoothing=1.0)


def _grid_densities():
    x = np.linspace(-12.0, 12.0, 24001)
    w = np.full_like(x, x[1] - x[0])
    p_data = stats.norm.pdf(x, 0.0, 1.0)
    p_g = stats.norm.pdf(x, 1.5, 2.0)
    return x, w, p_data, p_g


def test_optimal_discriminator_and_value_equals_2jsd_minus_log4():
    """Goodfellow et al., Prop. 1 and Thm. 1, on two known 1-D densities.

    The discriminator is a free logit per grid point, trained by gradient
    descent on our discriminator loss weighted by the densities; it must reach
    D* = p_data / (p_data + p_g), and V(D*, G) must equal 2 JSD - log 4, with
    the JSD computed independently by quadrature.
    """
    x, w, p_data, p_g = _grid_densities()
    p_data_j, p_g_j, w_j = map(jnp.asarray, (p_data, p_g, w))

    def negative_value(logits):
        # E_pdata[-log D] + E_pg[-log(1 - D)], by quadrature.
        per_point_real = losses.discriminator_loss(real_logits=logits,
                                                   fake_logits=jnp.full_like(logits, -1e4))
        per_point_fake = losses.discriminator_loss(real_logits=jnp.full_like(logits, 1e4),
                                                   fake_logits=logits)
        return jnp.sum(w_j * (p_data_j * per_point_real + p_g_j * per_point_fake))

    # Pointwise the problem is convex in the logit; Newton's method on the
    # per-point objective converges fast and uses only our loss's derivatives.
    grad = jax.grad(lambda l: jnp.sum(negative_value(l)))
    hess_diag = jax.grad(lambda l: jnp.sum(grad(l)))
    logits = jnp.zeros_like(p_data_j)
    for _ in range(60):
        logits = logits - grad(logits) / jnp.maximum(hess_diag(logits), 1e-30)
    d_learned = np.asarray(jax.nn.sigmoid(logits))
    d_star = p_data / (p_data + p_g)
    mass = (p_data + p_g) > 1e-8  # where the densities are representable
    np.testing.assert_allclose(d_learned[mass], d_star[mass], atol=1e-4)

    value = -float(negative_value(logits))
    m = 0.5 * (p_data + p_g)
    kl = lambda p, q: np.sum(w * p * (np.log(p + 1e-300) - np.log(q + 1e-300)))
    jsd = 0.5 * kl(p_data, m) + 0.5 * kl(p_g, m)
    np.testing.assert_allclose(value, 2 * jsd - np.log(4.0), atol=1e-4)
    # And the value function agrees when evaluated at D* directly.
    v_star = np.sum(w * (p_data * np.log(d_star + 1e-300) + p_g * np.log(1 - d_star + 1e-300)))
    np.testing.assert_allclose(v_star, 2 * jsd - np.log(4.0), atol=1e-6)
    assert -np.log(4.0) < value < 0.0  # distributions differ: JSD > 0


def test_saturating_loss_vanishes_where_non_saturating_does_not():
    """Early in training D rejects fakes, D(G(z)) ~ 0: the minimax loss's
    gradient vanishes there and the non-saturating one's does not (Goodfellow
    et al., section 3). Checked through a generator parameter too."""
    fake_logits = jnp.array([-15.0, -10.0, -8.0])  # D(G(z)) < 3.4e-4
    g_sat = jax.grad(lambda l: jnp.mean(losses.generator_saturating_loss(fake_logits=l)))(
        fake_logits)
    g_ns = jax.grad(lambda l: jnp.mean(losses.generator_nonsaturating_loss(fake_logits=l)))(
        fake_logits)
    assert float(jnp.max(jnp.abs(g_sat))) < 2e-4
    assert float(jnp.min(jnp.abs(g_ns))) > 0.33 - 1e-3  # |-(1 - D)| / 3 per example

    # Through a toy generator x = theta * z and a fixed, confident D(x) = sigmoid(-5 - 3x).
    z = jnp.linspace(0.5, 1.5, 8)
    def through_g(loss_fn, theta):
        return jnp.mean(loss_fn(fake_logits=-5.0 - 3.0 * theta * z))
    theta = jnp.array(1.0)
    sat = jax.grad(lambda t: through_g(losses.generator_saturating_loss, t))(theta)
    ns = jax.grad(lambda t: through_g(losses.generator_nonsaturating_loss, t))(theta)
    assert abs(float(sat)) < 1e-2 * abs(float(ns))
    assert abs(float(ns)) > 1.0
