"""The ELBO as composable terms: reconstruction + (β-weighted, warmed-up) KL.

    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z))

``reconstruction`` is the first term (negated, a loss), ``kl`` the second,
computed analytically for the Gaussian encoder and the N(0, I) prior; both are
weighted for the encoder and the decoder and both are logged, with the ELBO
itself. ``kl`` may be scaled by β and warmed up linearly from 0 over
``warmup_steps`` (the step comes with the batch).
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import vae as vae_losses
from jaxgen.objectives.base import Objective, empty

PLAYERS = {'encoder': 1.0, 'decoder': 1.0}


def reconstruction_term(outputs):
    """``-E_q[log p(x|z)]``, averaged over the k samples and the batch."""
    return -jnp.mean(outputs['log_px_z']), {}


def kl_term(beta: float = 1.0, warmup_steps: int = 0):
    """``β_t · KL(q(z|x) || N(0, I))`` with ``β_t = β · min(1, step / warmup_steps)``."""
    if beta < 0 or warmup_steps < 0:
        raise JaxgenError(f'config.objective.beta and warmup_steps must be >= 0, got '
                          f'{beta} and {warmup_steps}')

    def term(outputs):
        kl = jnp.mean(vae_losses.gaussian_kl_standard_normal(mean=outputs['mean'],
                                                             log_var=outputs['log_var']))
        scale = jnp.asarray(beta, jnp.float32)
        if warmup_steps:
            step = outputs['step'] if outputs.get('step') is not None else warmup_steps
            scale = scale * jnp.minimum(1.0, jnp.asarray(step, jnp.float32) / warmup_steps)
        return scale * kl, {'KL': kl, 'beta': scale}
    return term


def elbo_metric(outputs):
    """The ELBO itself (a metric: the objective adds it to no loss)."""
    kl = vae_losses.gaussian_kl_standard_normal(mean=outputs['mean'], log_var=outputs['log_var'])
    return jnp.mean(jnp.mean(outputs['log_px_z'], axis=0) - kl), {}


def vae_objective(model, *, beta: float = 1.0, warmup_steps: int = 0) -> Objective:
    return (empty(model)
            .with_term('reconstruction', reconstruction_term, **PLAYERS)
            .with_term('kl', kl_term(beta, warmup_steps), **PLAYERS)
            .with_term('elbo', elbo_metric))


def build(objective_config, model) -> Objective:
    if not getattr(model, 'stochastic', False):
        raise JaxgenError('objective vae needs a Gaussian encoder: set config.model.stochastic'
                          '=True (objective ae trains a plain autoencoder)')
    return vae_objective(model, beta=objective_config.beta,
                         warmup_steps=objective_config.warmup_steps)
