"""Progressive GAN's objective (tkarras/progressive_growing_of_gans ``loss.py``,
``G_wgan_acgan`` / ``D_wgangp_acgan``): WGAN-GP with lambda 10 and the drift term
``epsilon * D(x)^2`` on real images (epsilon 1e-3), which keeps the critic's output near
zero. Every term is weighted for the discriminator alone except the generator's
``-D(G(z))``.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, with_game

OPTIONS = ('loss', 'gradient_penalty', 'drift')


def drift_term(game: Game = Game()):
    """``mean(D(x)^2)`` over the real images."""
    def term(outputs):
        return jnp.mean(jnp.square(outputs[game.real_logits])), {}
    return term


def progan_objective(model, *, loss: str = 'wasserstein', gradient_penalty: float = 10.0,
                     drift: float = 1e-3) -> Objective:
    for name, weight in (('gradient_penalty', gradient_penalty), ('drift', drift)):
        if not (isinstance(weight, (int, float)) and weight >= 0.0):
            raise JaxgenError(f'objective.{name} must be a number >= 0, got {weight!r}')
    objective = with_game(empty(model), Game(), loss=loss, gradient_penalty=gradient_penalty)
    if drift:
        objective = objective.with_term('drift', drift_term(), discriminator=drift)
    return objective


def build(objective_config, model) -> Objective:
    c = objective_config
    reject_ignored(c, OPTIONS)
    return progan_objective(model, loss=c.get('loss', 'wasserstein'),
                            gradient_penalty=c.get('gradient_penalty', 10.0),
                            drift=c.get('drift', 1e-3))
