"""The ELBO as composable terms: reconstruction + (β-weighted, warmed-up) KL.

    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z))

``reconstruction`` is the first term (negated, a loss), ``kl`` the second,
computed analytically for the Gaussian encoder and the N(0, I) prior; both are
weighted for the encoder and the decoder and both are logged, with the ELBO
itself. ``kl`` may be scaled by β (logged as ``kl/beta``) and warmed up linearly
from 0 over ``warmup_steps``: a schedule the objective gives the batch's step
(logged as ``kl/scale``; a batch without a step is then an error).
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import vae as vae_losses
from jaxgen.objectives.base import Objective, empty, reject_ignored

PLAYERS = {'encoder': 1.0, 'decoder': 1.0}


def reconstruction_term(outputs):
    """``-E_q[log p(x|z)]``, averaged over the k samples and the batch."""
    return -jnp.mean(outputs['log_px_z']), {}


def kl_term(beta: float = 1.0):
    """``β · KL(q(z|x) || N(0, I))``; its warm-up is the term's schedule (``kl_warmup``)."""
    if beta < 0:
        raise JaxgenError(f'config.objective.beta must be >= 0, got {beta}')

    def term(outputs):
        kl = jnp.mean(vae_losses.gaussian_kl_standard_normal(mean=outputs['mean'],
                                                             log_var=outputs['log_var']))
        return beta * kl, {'KL': kl, 'beta': jnp.asarray(beta, jnp.float32)}
    return term


def kl_warmup(warmup_steps: int = 0):
    """``step -> min(1, step / warmup_steps)``, the KL's scale; ``None`` (no schedule) for 0."""
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise JaxgenError(f'config.objective.warmup_steps must be a whole number of steps >= 0, '
                          f'got {warmup_steps!r}')
    if not warmup_steps:
        return None
    return lambda step: jnp.minimum(1.0, jnp.asarray(step, jnp.float32) / warmup_steps)


def elbo_metric(outputs):
    """The ELBO itself (a metric: the objective adds it to no loss)."""
    kl = vae_losses.gaussian_kl_standard_normal(mean=outputs['mean'], log_var=outputs['log_var'])
    return jnp.mean(jnp.mean(outputs['log_px_z'], axis=0) - kl), {}


def vae_objective(model, *, beta: float = 1.0, warmup_steps: int = 0) -> Objective:
    return (empty(model)
            .with_term('reconstruction', reconstruction_term, **PLAYERS)
            .with_term('kl', kl_term(beta), kl_warmup(warmup_steps), **PLAYERS)
            .with_term('elbo', elbo_metric))


def build(objective_config, model) -> Objective:
    if not getattr(model, 'stochastic', False):
        raise JaxgenError('objective vae needs a Gaussian encoder: set config.model.stochastic'
                          '=True (objective ae trains a plain autoencoder)')
    reject_ignored(objective_config, ('beta', 'warmup_steps'))
    return vae_objective(model, beta=objective_config.beta,
                         warmup_steps=objective_config.warmup_steps)
