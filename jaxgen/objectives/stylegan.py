"""StyleGAN's objective (NVlabs/stylegan ``training/loss.py``: ``G_logistic_nonsaturating``,
``D_logistic_simplegp``): the non-saturating logistic GAN loss and R1, ``gamma / 2 *
|grad_x D(x)|^2`` on real images (gamma 10). With ``r1_every`` k > 1 the penalty is
StyleGAN2's lazy regularisation: a loss of its own, ``r1``, weighted ``gamma * k``, that
the rule minimises for the discriminator every k steps (``config.rule.every``); with
k = 1 it is added to the discriminator's loss on every step, as StyleGAN did.
"""

from __future__ import annotations

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, r1_term, with_game

OPTIONS = ('loss', 'r1', 'r1_every')


def stylegan_objective(model, *, loss: str = 'minimax', r1: float = 10.0,
                       r1_every: int = 16) -> Objective:
    if not (isinstance(r1, (int, float)) and r1 >= 0.0):
        raise JaxgenError(f'objective.r1 (gamma) must be a number >= 0, got {r1!r}')
    if not (isinstance(r1_every, int) and r1_every >= 1):
        raise JaxgenError(f'objective.r1_every must be a positive integer, got {r1_every!r}')
    lazy = r1_every > 1
    objective = with_game(empty(model, ('generator', 'discriminator', 'r1') if lazy else ()),
                          Game(), loss=loss, r1=0.0 if lazy else r1)
    if lazy and r1:
        objective = objective.with_term('r1', r1_term(), r1=r1 * r1_every)
    return objective


def build(objective_config, model) -> Objective:
    c = objective_config
    reject_ignored(c, OPTIONS)
    return stylegan_objective(model, loss=c.get('loss', 'minimax'), r1=c.get('r1', 10.0),
                              r1_every=c.get('r1_every', 16))
