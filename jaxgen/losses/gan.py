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

The other families (hinge, least squares, Wasserstein, and the relativistic RSGAN
and RaSGAN, whose generator losses read the real logits too) follow, and
``LOSS_FAMILIES`` pairs each discriminator loss with its generator losses, all
called with both ``real_logits`` and ``fake_logits``.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple

import jax
import jax.numpy as jnp


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


def relativistic_discriminator_loss(*, real_logits: jax.Array,
                                    fake_logits: jax.Array) -> jax.Array:
    """``-log sigmoid(C(x_r) - C(x_f))`` on the pairs ``(x_r, x_f)`` of the batch (RSGAN,
    Jolicoeur-Martineau, 2018): D estimates how much more realistic the real one is."""
    return jax.nn.softplus(fake_logits - real_logits)


def relativistic_generator_loss(*, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """``-log sigmoid(C(x_f) - C(x_r))``: the discriminator's loss, real and fake swapped."""
    return jax.nn.softplus(real_logits - fake_logits)


def _batch_mean(logits: jax.Array) -> jax.Array:
    return jnp.mean(logits, axis=0, keepdims=True)


def relativistic_average_discriminator_loss(*, real_logits: jax.Array,
                                            fake_logits: jax.Array) -> jax.Array:
    """``-log D_ra(x_r) - log(1 - D_ra(x_f))`` (RaSGAN, Jolicoeur-Martineau, 2018), with
    ``D_ra(x_r) = sigmoid(C(x_r) - mean C(x_f))`` and ``D_ra(x_f) = sigmoid(C(x_f) -
    mean C(x_r))``; the means are over the batch, so example ``i``'s loss depends on
    all of it. Real and fake batches must have the same size."""
    return (jax.nn.softplus(_batch_mean(fake_logits) - real_logits)
            + jax.nn.softplus(fake_logits - _batch_mean(real_logits)))


def relativistic_average_generator_loss(*, real_logits: jax.Array,
                                        fake_logits: jax.Array) -> jax.Array:
    """``-log D_ra(x_f) - log(1 - D_ra(x_r))``: the discriminator's loss, real and fake swapped."""
    return (jax.nn.softplus(_batch_mean(real_logits) - fake_logits)
            + jax.nn.softplus(real_logits - _batch_mean(fake_logits)))


class LossFamily(NamedTuple):
    """A discriminator loss and the generator losses it pairs with, by the name
    ``objective.generator_loss`` gives them. All take ``real_logits`` and
    ``fake_logits`` (keyword-only), so a generator loss may read both."""
    discriminator: Callable[..., jax.Array]
    generators: Mapping[str, Callable[..., jax.Array]]
    label_smoothing: bool = False  # whether the discriminator loss takes label_smoothing


def _fake_only(loss: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
    def generator(*, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
        del real_logits
        return loss(fake_logits=fake_logits)
    generator.__doc__ = loss.__doc__
    return generator


# Every family's generator loss is non-saturating (its gradient does not vanish where
# D rejects the fakes); only the minimax game also has its own, saturating, one.
LOSS_FAMILIES: dict[str, LossFamily] = {
    'minimax': LossFamily(discriminator_loss,
                          {k: _fake_only(v) for k, v in GENERATOR_LOSSES.items()},
                          label_smoothing=True),
    'hinge': LossFamily(hinge_discriminator_loss,
                        {'non_saturating': _fake_only(hinge_generator_loss)}),
    'least_squares': LossFamily(least_squares_discriminator_loss,
                                {'non_saturating': _fake_only(least_squares_generator_loss)}),
    'wasserstein': LossFamily(wasserstein_critic_loss,
                              {'non_saturating': _fake_only(wasserstein_generator_loss)}),
    'relativistic': LossFamily(relativistic_discriminator_loss,
                               {'non_saturating': relativistic_generator_loss}),
    'relativistic_average': LossFamily(relativistic_average_discriminator_loss,
                                       {'non_saturating': relativistic_average_generator_loss}),
}
