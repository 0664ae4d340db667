"""CycleGAN's objective (Zhu et al., 2017, eq. 3 and §5.2): two GAN games, cycle
consistency both ways and an identity term.

Players: ``generator_ab`` (G: A -> B), ``generator_ba`` (F: B -> A), and
``discriminator_a`` / ``discriminator_b``, each judging images *of its domain*
(the official code's ``netD_A`` judges domain B: the names here say which domain).
Losses: ``generators`` (both generators minimise the one sum, as the official code's
single optimizer over ``itertools.chain(netG_A, netG_B)`` does), ``discriminator_a``
and ``discriminator_b``. The model's outputs: ``real_x``, ``fake_x`` (a translation
into domain x), ``real_logits_x``, ``fake_logits_x``, ``history_logits_x`` (D_x on
fakes from its 50-image pool), ``cycle_x`` (x -> other -> x) and ``identity_x``
(x through the generator *into* x), for x in a, b.

Terms (junyanz/pytorch-CycleGAN-and-pix2pix ``models/cycle_gan_model.py``):

* two games, ``loss`` ``least_squares`` by default (``--gan_mode lsgan``), D's loss
  on the pooled fakes, weighted as the official code (``objectives/translation.py``);
* ``cycle_a = ||F(G(a)) - a||_1 · λ_A`` and ``cycle_b = ||G(F(b)) - b||_1 · λ_B``,
  λ = 10 (``--lambda_A 10 --lambda_B 10``); setting one to 0 gives the paper's
  Table 4 ablation "GAN + forward cycle";
* ``identity_b = ||G(b) - b||_1 · λ_B · λ_idt`` and ``identity_a = ||F(a) - a||_1 ·
  λ_A · λ_idt``, λ_idt = 0.5 (``--lambda_identity 0.5``; 0: off).
"""

from __future__ import annotations

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, with_game
from jaxgen.objectives.translation import check_family, check_weight, l1_term

PLAYERS = ('generator_ab', 'generator_ba', 'discriminator_a', 'discriminator_b')
LOSSES = ('generators', 'discriminator_a', 'discriminator_b')
OPTIONS = ('loss', 'cycle_a', 'cycle_b', 'identity', 'gan_weight', 'gradient_penalty')


def game(domain: str) -> Game:
    """The game of the discriminator of ``domain`` ('a' or 'b')."""
    return Game(name=domain, real_logits=f'real_logits_{domain}',
                fake_logits=f'fake_logits_{domain}', discriminator=f'discriminator_{domain}',
                generator='generators', critic=f'critic_{domain}', real=f'real_{domain}',
                fake=f'fake_{domain}', mix='mix', history_logits=f'history_logits_{domain}')


def cyclegan_objective(model, *, loss: str = 'least_squares', cycle_a: float = 10.0,
                       cycle_b: float = 10.0, identity: float = 0.5, gan_weight: float = 1.0,
                       gradient_penalty: float = 0.0) -> Objective:
    d_weight, g_weight = check_family(loss, 'cyclegan')
    cycle_a, cycle_b = check_weight(cycle_a, 'cycle_a'), check_weight(cycle_b, 'cycle_b')
    identity, gan_weight = check_weight(identity, 'identity'), check_weight(gan_weight,
                                                                            'gan_weight')
    objective = empty(model, LOSSES)
    for domain in ('a', 'b'):
        objective = with_game(objective, game(domain), loss=loss,
                              gradient_penalty=gradient_penalty, d_weight=d_weight,
                              g_weight=g_weight * gan_weight)
    for domain, weight in (('a', cycle_a), ('b', cycle_b)):
        if weight:
            objective = objective.with_term(f'cycle_{domain}',
                                            l1_term(f'cycle_{domain}', f'real_{domain}'),
                                            generators=weight)
        if weight and identity:
            objective = objective.with_term(f'identity_{domain}',
                                            l1_term(f'identity_{domain}', f'real_{domain}'),
                                            generators=weight * identity)
    return objective


def build(objective_config, model) -> Objective:
    if tuple(sorted(model.players)) != tuple(sorted(PLAYERS)):
        raise JaxgenError(f'objective cyclegan needs model.name=cyclegan (players {PLAYERS}), '
                          f'got players {tuple(model.players)}')
    c = objective_config
    reject_ignored(c, OPTIONS)
    return cyclegan_objective(model, loss=c.get('loss', 'least_squares'),
                              cycle_a=c.get('cycle_a', 10.0), cycle_b=c.get('cycle_b', 10.0),
                              identity=c.get('identity', 0.5),
                              gan_weight=c.get('gan_weight', 1.0),
                              gradient_penalty=c.get('gradient_penalty', 0.0))
