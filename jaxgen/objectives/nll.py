"""The exact negative log-likelihood of an autoregressive model (NADE, PixelCNN,
PixelRNN), in nats per image; for 8-bit data also in bits per dimension.

    nll(x) = -log p(x) = -sum_d log p(x_d | x_<d)

One term, ``nll`` (the batch mean, nats per image), weighted 1 for every player;
``nll/bits_per_dim`` = nll / (D ln 2) is logged for 256-way outputs.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored


def nll_term(bits: bool):
    def term(outputs):
        nll = -jnp.mean(outputs['log_prob'])
        metrics = {'bits_per_dim': nll / (outputs['num_dims'] * math.log(2))} if bits else {}
        return nll, metrics
    return term


def build(objective_config, model) -> Objective:
    reject_ignored(objective_config, ())
    if not callable(getattr(model, 'log_prob', None)):
        raise JaxgenError(f'objective nll needs a model with an exact likelihood (nade, '
                          f'pixelcnn, pixelrnn); {type(model).__name__} has none')
    bits = getattr(model, 'levels', 2) == 256
    return empty(model).with_term('nll', nll_term(bits), **{p: 1.0 for p in model.players})
