"""pix2pix's objective (Isola et al., 2017, eq. 4): a conditional GAN on (input,
output) pairs plus ``λ · L1`` between the translation and the target.

    G* = arg min_G max_D  L_cGAN(G, D) + λ L_L1(G),   λ = 100

The discriminator sees ``(x, y)`` against ``(x, G(x))`` (the model's outputs
``real_logits`` and ``fake_logits``); the L1 term reads ``translation`` and
``target``. Options (``config.objective``):

* ``loss``: ``minimax`` (the official ``gan_mode='vanilla'``, G non-saturating),
  ``least_squares`` or ``wasserstein`` (with ``gradient_penalty``), weighted as the
  official code weights them (``objectives/translation.py``);
* ``l1``: λ (100, ``--lambda_L1 100``); 0 gives "cGAN alone" of Table 1;
* ``gan_weight``: the weight of G's adversarial loss (1); 0 gives "L1 alone" (D
  still trains, and is still logged, but G ignores it).
"""

from __future__ import annotations

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, with_game
from jaxgen.objectives.translation import check_family, check_weight, l1_term

OPTIONS = ('loss', 'l1', 'gan_weight', 'gradient_penalty')


def pix2pix_objective(model, *, loss: str = 'minimax', l1: float = 100.0,
                      gan_weight: float = 1.0, gradient_penalty: float = 0.0) -> Objective:
    d_weight, g_weight = check_family(loss, 'pix2pix')
    l1, gan_weight = check_weight(l1, 'l1'), check_weight(gan_weight, 'gan_weight')
    if not l1 and not gan_weight:
        raise JaxgenError('config.objective.l1 and gan_weight are both 0: the generator '
                          'would learn nothing; set either (the paper: l1=100, gan_weight=1)')
    objective = with_game(empty(model), Game(), loss=loss, gradient_penalty=gradient_penalty,
                          d_weight=d_weight, g_weight=g_weight * gan_weight)
    if l1:
        objective = objective.with_term('l1', l1_term('translation', 'target'), generator=l1)
    return objective


def build(objective_config, model) -> Objective:
    if set(model.players) != {'generator', 'discriminator'} or \
            not hasattr(model, 'translate'):
        raise JaxgenError('objective pix2pix needs model.name=pix2pix (a translating '
                          'generator and a pair discriminator)')
    c = objective_config
    reject_ignored(c, OPTIONS)
    return pix2pix_objective(model, loss=c.get('loss', 'minimax'), l1=c.get('l1', 100.0),
                             gan_weight=c.get('gan_weight', 1.0),
                             gradient_penalty=c.get('gradient_penalty', 0.0))
