"""The plain autoencoder's objective: reconstruction only, no prior fitting."""

from __future__ import annotations

from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.vae import PLAYERS, reconstruction_term


def build(objective_config, model) -> Objective:
    reject_ignored(objective_config, ())
    return empty(model).with_term('reconstruction', reconstruction_term, **PLAYERS)
