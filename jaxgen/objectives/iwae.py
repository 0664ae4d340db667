"""The importance-weighted bound (Burda et al., 2016) as a training objective.

    L_k(x) = E[log (1/k) sum_i p(x, z_i) / q(z_i | x)],  z_i ~ q(z | x)

L_1 is the ELBO; L_k never decreases with k and tends to log p(x). The model
draws ``config.model.num_samples`` = k codes per example.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import vae as vae_losses
from jaxgen.models.autoencoders.vae import log_weights
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.vae import PLAYERS, elbo_metric


def iwae_term(outputs):
    log_w = log_weights(z=outputs['z'], mean=outputs['mean'], log_var=outputs['log_var'],
                        log_px_z=outputs['log_px_z'])
    bound = vae_losses.iwae_bound(log_weights=log_w)
    return -jnp.mean(bound), {'bound': jnp.mean(bound)}


def build(objective_config, model) -> Objective:
    reject_ignored(objective_config, ())
    if not getattr(model, 'stochastic', False):
        raise JaxgenError('objective iwae needs a Gaussian encoder (config.model.stochastic=True)')
    return (empty(model)
            .with_term('iwae', iwae_term, **PLAYERS)
            .with_term('elbo', elbo_metric))
