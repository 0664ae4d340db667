"""GAN losses, computed stably from discriminator logits.

Every loss is pure, keyword-only and per-example (no reduction), like
``optax.losses``. With ``D(x) = sigmoid(logit)``:

* ``discriminator_loss``: ``-log D(x) - log(1 - D(G(z)))`` (the negated value
    function, minimised by the discriminator), optionally with one-sided label
    smoothing of the real targets (Salimans et al., 2016).
* ``generator_saturating_loss``: ``log(1 - D(G(z)))``, the minimax game's own
    generator loss. Its gradient vanishes when D confidently rejects fakes.
* ``generator_nonsaturating_loss``: ``-log D(G(z))``, the heuristic used in
    practice, with the same fixed point and strong gradients early in training.

All three are written with ``softplus`` so that no ``log(sigmoid(.))`` is
ever formed: ``-log sigmoid(l) = softplus(-l)`` and
``-log(1 - sigmoid(l)) = softplus(l)``.
"""

from __future__ import annotations

import jax


def _check_smoothing(label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(
            f'label_smoothing must be in [0, 1), got {label_smoothing}')


def discriminator_loss(
    *,
    real_logits: jax.Array,
    fake_logits: jax.Array,
    label_smoothing: float = 0.0,
) -> jax.Array:
    """Per-example discriminator loss ``-[t log D(x) + (1-t) log(1-D(x))] - log(1-D(G(z)))``.

    Args:
        real_logits: discriminator logits on real data, shape ``[B]`` or ``[B, 1]``.
        fake_logits: discriminator logits on generated data, same shape.
        label_smoothing: one-sided smoothing; the real target is ``1 - s``. Fake
            targets stay at 0, as one-sided smoothing prescribes.

    Returns:
        The loss per example, shaped like the logits.
    """
    _check_smoothing(label_smoothing)
    target = 1.0 - label_smoothing
    real_term = (target * jax.nn.softplus(-real_logits)
                 + (1.0 - target) * jax.nn.softplus(real_logits))
    fake_term = jax.nn.softplus(fake_logits)
    return real_term + fake_term


def generator_saturating_loss(*, fake_logits: jax.Array) -> jax.Array:
    """Per-example ``log(1 - D(G(z)))``: the minimax generator loss."""
    return -jax.nn.softplus(fake_logits)


def generator_nonsaturating_loss(*, fake_logits: jax.Array) -> jax.Array:
    """Per-example ``-log D(G(z))``: the non-saturating generator loss."""
    return jax.nn.softplus(-fake_logits)


GENERATOR_LOSSES = {
    'saturating': generator_saturating_loss,
    'non_saturating': generator_nonsaturating_loss,
}


# -- other GAN losses: discriminator (critic) and generator pairs --------------------


def hinge_discriminator_loss(*, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """``max(0, 1 - D(x)) + max(0, 1 + D(G(z)))`` (Lim & Ye, 2017; Miyato et al., 2018)."""
    return jax.nn.relu(1.0 - real_logits) + jax.nn.relu(1.0 + fake_logits)


def hinge_generator_loss(*, fake_logits: jax.Array) -> jax.Array:
    """``-D(G(z))``."""
    return -fake_logits


def least_squares_discriminator_loss(*, real_logits: jax.Array,
                                     fake_logits: jax.Array) -> jax.Array:
    """``(D(x) - 1)^2 / 2 + D(G(z))^2 / 2`` (Mao et al., 2017, with a=0, b=c=1)."""
    return 0.5 * (real_logits - 1.0) ** 2 + 0.5 * fake_logits ** 2


def least_squares_generator_loss(*, fake_logits: jax.Array) -> jax.Array:
    """``(D(G(z)) - 1)^2 / 2``."""
    return 0.5 * (fake_logits - 1.0) ** 2


def wasserstein_critic_loss(*, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """``D(G(z)) - D(x)``: the critic maximises the Kantorovich-Rubinstein dual.
    Pair it with a Lipschitz constraint (a gradient penalty, spectral norm)."""
    return fake_logits - real_logits


def wasserstein_generator_loss(*, fake_logits: jax.Array) -> jax.Array:
    """``-D(G(z))``."""
    return -fake_logits


# family -> (discriminator loss, generator loss); 'minimax' takes its generator
# loss from GENERATOR_LOSSES.
LOSS_FAMILIES = {
    'minimax': (discriminator_loss, None),
    'hinge': (hinge_discriminator_loss, hinge_generator_loss),
    'least_squares': (least_squares_discriminator_loss, least_squares_generator_loss),
    'wasserstein': (wasserstein_critic_loss, wasserstein_generator_loss),
}
