"""StarGAN's objective (Choi et al., 2018, eq. 1-6): one generator G(x, c) among many
domains, a discriminator with a real/fake head and a domain-classification head.

    L_D = -L_adv + λ_cls L_cls^r,     L_G = L_adv + λ_cls L_cls^f + λ_rec L_rec

with the settings of yunjey/stargan ``solver.py``: WGAN-GP (``loss='wasserstein'``,
``gradient_penalty`` 10), λ_cls = 1, λ_rec = 10. The model's outputs:
``real_logits``/``fake_logits`` (the source head, patch maps), ``real_class_logits``
(D's domain head on real images) with ``labels`` (their domains),
``fake_class_logits`` on ``G(x, c')`` with ``target_labels`` c', and
``reconstruction = G(G(x, c'), c)`` against ``real``. D's classification loss reads
real images only and G's fakes only (eq. 2 and 3).
"""

from __future__ import annotations

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, with_game
from jaxgen.objectives.translation import (check_family, check_weight, classification_term,
                                           l1_term)

OPTIONS = ('loss', 'gradient_penalty', 'classification', 'reconstruction')


def stargan_objective(model, *, loss: str = 'wasserstein', gradient_penalty: float = 10.0,
                      classification: float = 1.0, reconstruction: float = 10.0) -> Objective:
    d_weight, g_weight = check_family(loss, 'stargan')
    classification = check_weight(classification, 'classification')
    reconstruction = check_weight(reconstruction, 'reconstruction')
    objective = with_game(empty(model), Game(), loss=loss,
                          gradient_penalty=check_weight(gradient_penalty, 'gradient_penalty'),
                          d_weight=d_weight, g_weight=g_weight)
    if classification:
        objective = (objective
                     .with_term('classification_real',
                                classification_term('real_class_logits', 'labels'),
                                discriminator=classification)
                     .with_term('classification_fake',
                                classification_term('fake_class_logits', 'target_labels'),
                                generator=classification))
    if reconstruction:
        objective = objective.with_term('reconstruction', l1_term('reconstruction', 'real'),
                                        generator=reconstruction)
    return objective


def build(objective_config, model) -> Objective:
    if set(model.players) != {'generator', 'discriminator'} or \
            not hasattr(model, 'num_domains'):
        raise JaxgenError('objective stargan needs model.name=stargan (a conditional '
                          'generator and a discriminator with a domain head)')
    c = objective_config
    reject_ignored(c, OPTIONS)
    return stargan_objective(model, loss=c.get('loss', 'wasserstein'),
                             gradient_penalty=c.get('gradient_penalty', 10.0),
                             classification=c.get('classification', 1.0),
                             reconstruction=c.get('reconstruction', 10.0))
