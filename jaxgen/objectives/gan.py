"""The GAN objective (Goodfellow et al., 2014) as two weighted terms, and its family.

``d_loss`` trains the discriminator, ``g_loss`` the generator. Both read the
model outputs ``real_logits`` and ``fake_logits``. ``objective.loss`` picks the
pair:

* ``minimax`` (default): the discriminator's cross-entropy, and for the
  generator the saturating ``log(1 - D(G(z)))`` or the non-saturating
  ``-log D(G(z))`` (``objective.generator_loss``);
* ``hinge``, ``least_squares``, ``wasserstein`` (see ``jaxgen.losses.gan``).

Penalties on the discriminator are further terms, weighted for it alone:

* ``gradient_penalty`` (Gulrajani et al., 2017): ``(|grad_x D(x_hat)| - 1)^2`` at
  random interpolates of real and fake data; WGAN-GP is ``loss='wasserstein'``
  with ``gradient_penalty=10``;
* ``r1`` (Mescheder et al., 2018): ``|grad_x D(x)|^2 / 2`` on real data, times gamma.

The penalty terms read ``critic`` (a function: data -> logits with the current
discriminator), ``real`` and ``mix`` (per-example interpolation weights) from
the model's outputs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen import losses
from jaxgen.losses import gan as gan_losses
from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty


def discriminator_term(label_smoothing: float = 0.0):
    def term(outputs):
        real, fake = outputs['real_logits'], outputs['fake_logits']
        loss = losses.discriminator_loss(real_logits=real, fake_logits=fake,
                                         label_smoothing=label_smoothing)
        metrics = {'D(x)': jnp.mean(jax.nn.sigmoid(real)),
                   'D(G(z))': jnp.mean(jax.nn.sigmoid(fake))}
        return jnp.mean(loss), metrics
    return term


def generator_term(kind: str = 'non_saturating'):
    if kind not in losses.GENERATOR_LOSSES:
        raise JaxgenError(f'unknown generator_loss {kind!r}; choose one of: '
                          f'{", ".join(sorted(losses.GENERATOR_LOSSES))}')
    return _generator_term(losses.GENERATOR_LOSSES[kind])


def _generator_term(loss_fn):
    def term(outputs):
        return jnp.mean(loss_fn(fake_logits=outputs['fake_logits'])), {}
    return term


def _critic_term(loss_fn):
    """A discriminator loss on raw scores, logging the mean scores."""
    def term(outputs):
        real, fake = outputs['real_logits'], outputs['fake_logits']
        return (jnp.mean(loss_fn(real_logits=real, fake_logits=fake)),
                {'D(x)': jnp.mean(real), 'D(G(z))': jnp.mean(fake)})
    return term


def family_terms(family: str, generator_loss: str = 'non_saturating',
                 label_smoothing: float = 0.0):
    """``(discriminator term, generator term)`` of a loss family."""
    if family not in gan_losses.LOSS_FAMILIES:
        raise JaxgenError(f'unknown objective.loss {family!r}; choose one of: '
                          f'{", ".join(sorted(gan_losses.LOSS_FAMILIES))}')
    if family == 'minimax':
        return discriminator_term(label_smoothing), generator_term(generator_loss)
    d_loss, g_loss = gan_losses.LOSS_FAMILIES[family]
    return _critic_term(d_loss), _generator_term(g_loss)


def _input_grads(critic, x):
    grads = jax.grad(lambda x_: jnp.sum(critic(x_)))(x)
    return jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1)


def gradient_penalty_term(target: float = 1.0):
    """``mean((|grad_x D(x_hat)| - target)^2)``, ``x_hat`` between real and fake."""
    def term(outputs):
        real, fake = outputs['real'], outputs['fake']
        mix = outputs['mix'].reshape((-1,) + (1,) * (real.ndim - 1))
        x_hat = mix * real + (1.0 - mix) * fake
        norms = jnp.sqrt(_input_grads(outputs['critic'], x_hat) + 1e-12)
        return jnp.mean((norms - target) ** 2), {'grad_norm': jnp.mean(norms)}
    return term


def r1_term():
    """``mean(|grad_x D(x)|^2) / 2`` on real data."""
    def term(outputs):
        return 0.5 * jnp.mean(_input_grads(outputs['critic'], outputs['real'])), {}
    return term


def gan_objective(model, *, generator_loss: str = 'non_saturating',
                  label_smoothing: float = 0.0,
                  discriminator: str = 'discriminator',
                  generator: str = 'generator',
                  losses: tuple[str, ...] = (),
                  loss: str = 'minimax',
                  gradient_penalty: float = 0.0,
                  r1: float = 0.0) -> Objective:
    """``d_loss`` added to loss ``discriminator``, ``g_loss`` to loss ``generator``,
    and the penalties, when their weights are positive, to ``discriminator``.

    ``losses`` names all the objective's losses when they are not the players'.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise JaxgenError(f'objective.label_smoothing must be in [0, 1), got '
                          f'{label_smoothing}')
    if label_smoothing and loss != 'minimax':
        raise JaxgenError(f'objective.label_smoothing applies to loss=minimax only, not {loss!r}')
    for name, weight in (('gradient_penalty', gradient_penalty), ('r1', r1)):
        if not weight >= 0.0:
            raise JaxgenError(f'objective.{name} must be >= 0, got {weight}')
    d_term, g_term = family_terms(loss, generator_loss, label_smoothing)
    objective = (empty(model, losses)
                 .with_term('d_loss', d_term, **{discriminator: 1.0})
                 .with_term('g_loss', g_term, **{generator: 1.0}))
    if gradient_penalty:
        objective = objective.with_term('gradient_penalty', gradient_penalty_term(),
                                        **{discriminator: gradient_penalty})
    if r1:
        objective = objective.with_term('r1', r1_term(), **{discriminator: r1})
    return objective


def build(objective_config, model) -> Objective:
    c = objective_config
    return gan_objective(model, generator_loss=c.get('generator_loss', 'non_saturating'),
                         label_smoothing=c.get('label_smoothing', 0.0),
                         loss=c.get('loss', 'minimax'),
                         gradient_penalty=c.get('gradient_penalty', 0.0),
                         r1=c.get('r1', 0.0))
