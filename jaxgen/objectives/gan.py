"""The GAN objective (Goodfellow et al., 2014) as two weighted terms.

``d_loss`` trains the discriminator, ``g_loss`` the generator. The generator's
term is the saturating minimax loss ``log(1 - D(G(z)))`` or the
non-saturating ``-log D(G(z))``, chosen by config. Both read the model
outputs ``real_logits`` and ``fake_logits``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen import losses
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
    loss_fn = losses.GENERATOR_LOSSES[kind]

    def term(outputs):
        return jnp.mean(loss_fn(fake_logits=outputs['fake_logits'])), {}
    return term


def gan_objective(model, *, generator_loss: str = 'non_saturating',
                  label_smoothing: float = 0.0,
                  discriminator: str = 'discriminator',
                  generator: str = 'generator',
                  losses: tuple[str, ...] = ()) -> Objective:
    """``d_loss`` added to loss ``discriminator``, ``g_loss`` to loss ``generator``.

    ``losses`` names all the objective's losses when they are not the players'.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise JaxgenError(f'objective.label_smoothing must be in [0, 1), got '
                          f'{label_smoothing}')
    return (empty(model, losses)
            .with_term('d_loss', discriminator_term(label_smoothing),
                       **{discriminator: 1.0})
            .with_term('g_loss', generator_term(generator_loss), **{generator: 1.0}))


def build(objective_config, model) -> Objective:
    return gan_objective(model,
                         generator_loss=objective_config.generator_loss,
                         label_smoothing=objective_config.label_smoothing)
