"""f-GAN (Nowozin et al., 2016): any f-divergence through its Fenchel conjugate.

The discriminator is the variational function ``T = g_f(v)``; its loss is minus
the bound ``E_P[g_f(v)] - E_Q[f*(g_f(v))]``. The bound itself is logged as
``d_loss/bound``: at the optimal critic it equals ``D_f(P || Q)``. Choose the
divergence with ``objective.divergence`` (``kl``, ``reverse_kl``, ``pearson``,
``squared_hellinger``, ``jensen_shannon``, ``gan``, ``total_variation``) and the
generator's loss with ``objective.generator_loss`` (``non_saturating``, the
paper's choice, or ``saturating``).
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import fgan
from jaxgen.objectives.base import Objective, empty, reject_ignored


def critic_term(divergence: str):
    def term(outputs):
        loss = fgan.critic_loss(real_logits=outputs['real_logits'],
                                fake_logits=outputs['fake_logits'], divergence=divergence)
        value = jnp.mean(loss)
        return value, {'bound': -value}
    return term


def generator_term(divergence: str, kind: str):
    def term(outputs):
        return jnp.mean(fgan.generator_loss(fake_logits=outputs['fake_logits'],
                                            divergence=divergence, kind=kind)), {}
    return term


def fgan_objective(model, *, divergence: str = 'gan',
                   generator_loss: str = 'non_saturating') -> Objective:
    if divergence not in fgan.DIVERGENCES:
        raise JaxgenError(f'unknown objective.divergence {divergence!r}; choose one of: '
                          f'{", ".join(sorted(fgan.DIVERGENCES))}')
    if generator_loss not in ('saturating', 'non_saturating'):
        raise JaxgenError(f"objective.generator_loss for fgan must be 'saturating' or "
                          f"'non_saturating', got {generator_loss!r}")
    return (empty(model)
            .with_term('d_loss', critic_term(divergence), discriminator=1.0)
            .with_term('g_loss', generator_term(divergence, generator_loss), generator=1.0))


def build(objective_config, model) -> Objective:
    if set(model.players) != {'generator', 'discriminator'}:
        raise JaxgenError(f'objective fgan needs a generator and a discriminator; the model '
                          f'has players {sorted(model.players)}')
    reject_ignored(objective_config, ('divergence', 'generator_loss'))
    return fgan_objective(model, divergence=objective_config.get('divergence', 'gan'),
                          generator_loss=objective_config.get('generator_loss',
                                                              'non_saturating'))
