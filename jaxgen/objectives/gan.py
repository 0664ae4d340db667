"""The GAN objective (Goodfellow et al., 2014) as weighted terms, and its family.

A *game* is a discriminator term ``d_loss`` and a generator term ``g_loss``. Both
read the same two named outputs, D's logits on real and on fake data (by default
``real_logits`` and ``fake_logits``), so a generator loss may use the real logits
too (the relativistic losses do). Which outputs a game reads, which losses its
terms go to and what its terms are called are the game's parameters (``Game``),
so one objective can hold two games (CycleGAN's D_A and D_B) or a game on latent
codes (the AAE) without renaming any output: ``with_game`` adds one game.

``objective.loss`` picks the pair (``jaxgen.losses.gan.LOSS_FAMILIES``):

* ``minimax`` (default): the discriminator's cross-entropy, and for the generator
  the saturating ``log(1 - D(G(z)))`` or the non-saturating ``-log D(G(z))``
  (``objective.generator_loss``); the only family with ``label_smoothing``;
* ``hinge``, ``least_squares``, ``wasserstein``, ``relativistic`` (RSGAN) and
  ``relativistic_average`` (RaSGAN), each with one, non-saturating, generator loss.

An option the chosen family ignores is an error. What ``d_loss`` logs says what it
is: ``D(x)``, ``D(G(z))`` (probabilities) for minimax only; the mean raw logits
``real_logit``, ``fake_logit`` otherwise; ``critic_real``, ``critic_fake`` and
their difference ``critic_gap`` for the Wasserstein critic; and the relativistic
probabilities ``D_rel(x_r,x_f)`` or ``D_ra(x_r)``, ``D_ra(x_f)``.

Penalties on the discriminator are further terms, weighted for it alone:

* ``gradient_penalty`` (Gulrajani et al., 2017): ``(|grad_x D(x_hat)| - 1)^2`` at
  random interpolates of real and fake data; WGAN-GP is ``loss='wasserstein'``
  with ``gradient_penalty=10``;
* ``r1`` (Mescheder et al., 2018): ``|grad_x D(x)|^2 / 2`` on real data, times gamma.

The penalty terms read the game's ``critic`` (a function: data -> logits with the
current discriminator), ``real``, ``fake`` and ``mix`` (per-example interpolation
weights) outputs.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import gan as gan_losses
from jaxgen.objectives.base import Objective, empty, reject_ignored


@dataclasses.dataclass(frozen=True)
class Game:
    """The outputs one GAN game reads and the losses its terms are added to."""
    name: str = ''                       # term names: d_loss_<name>, g_loss_<name>
    real_logits: str = 'real_logits'     # D's logits on real data ...
    fake_logits: str = 'fake_logits'     # ... and on generated data
    discriminator: str = 'discriminator'  # the loss d_loss and the penalties go to
    generator: str = 'generator'         # the loss g_loss goes to
    critic: str = 'critic'               # for the penalties: data -> D's logits,
    real: str = 'real'                   # real data,
    fake: str = 'fake'                   # generated data,
    mix: str = 'mix'                     # and interpolation weights
    # D's loss reads its fakes' logits here instead when the model's outputs have it
    # (fakes through a history pool; the generator's loss reads fake_logits):
    history_logits: str = 'history_logits'

    def term(self, base: str) -> str:
        return f'{base}_{self.name}' if self.name else base


def _mean(x):
    return jnp.mean(x, axis=0, keepdims=True)


# family -> (mean real logits, mean fake logits) -> what d_loss logs about D's outputs
FAMILY_METRICS = {
    'minimax': lambda r, f: {'D(x)': jnp.mean(jax.nn.sigmoid(r)),
                             'D(G(z))': jnp.mean(jax.nn.sigmoid(f))},
    'hinge': lambda r, f: {'real_logit': jnp.mean(r), 'fake_logit': jnp.mean(f)},
    'least_squares': lambda r, f: {'real_logit': jnp.mean(r), 'fake_logit': jnp.mean(f)},
    'wasserstein': lambda r, f: {'critic_real': jnp.mean(r), 'critic_fake': jnp.mean(f),
                                 'critic_gap': jnp.mean(r) - jnp.mean(f)},
    'relativistic': lambda r, f: {'real_logit': jnp.mean(r), 'fake_logit': jnp.mean(f),
                                  'D_rel(x_r,x_f)': jnp.mean(jax.nn.sigmoid(r - f))},
    'relativistic_average': lambda r, f: {
        'real_logit': jnp.mean(r), 'fake_logit': jnp.mean(f),
        'D_ra(x_r)': jnp.mean(jax.nn.sigmoid(r - _mean(f))),
        'D_ra(x_f)': jnp.mean(jax.nn.sigmoid(f - _mean(r)))},
}


def family_terms(family: str, generator_loss: str = 'non_saturating',
                 label_smoothing: float = 0.0, game: Game = Game()):
    """``(discriminator term, generator term)`` of a loss family, reading ``game``'s logits."""
    if family not in gan_losses.LOSS_FAMILIES:
        raise JaxgenError(f'unknown objective.loss {family!r}; choose one of: '
                          f'{", ".join(sorted(gan_losses.LOSS_FAMILIES))}')
    spec = gan_losses.LOSS_FAMILIES[family]
    if generator_loss not in spec.generators:
        known = {k for s in gan_losses.LOSS_FAMILIES.values() for k in s.generators}
        what = (f'objective.generator_loss={generator_loss!r} does not exist for loss={family}'
                if generator_loss in known else f'unknown generator_loss {generator_loss!r}')
        raise JaxgenError(f'{what}; loss={family} has: {", ".join(sorted(spec.generators))}')
    if label_smoothing and not spec.label_smoothing:
        raise JaxgenError(f'objective.label_smoothing applies to loss=minimax only, not '
                          f'{family!r}: set it to 0')
    d_kwargs = {'label_smoothing': label_smoothing} if spec.label_smoothing else {}
    g_loss, metrics = spec.generators[generator_loss], FAMILY_METRICS[family]

    def logits(outputs):
        return {'real_logits': outputs[game.real_logits],
                'fake_logits': outputs[game.fake_logits]}

    def d_term(outputs):
        both = logits(outputs)
        if game.history_logits in outputs:
            both['fake_logits'] = outputs[game.history_logits]
        return (jnp.mean(spec.discriminator(**both, **d_kwargs)),
                metrics(both['real_logits'], both['fake_logits']))

    def g_term(outputs):
        return jnp.mean(g_loss(**logits(outputs))), {}
    return d_term, g_term


def _input_grads(critic, x):
    grads = jax.grad(lambda x_: jnp.sum(critic(x_)))(x)
    return jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1)


def gradient_penalty_term(target: float = 1.0, game: Game = Game()):
    """``mean((|grad_x D(x_hat)| - target)^2)``, ``x_hat`` between real and fake."""
    def term(outputs):
        real, fake = outputs[game.real], outputs[game.fake]
        mix = outputs[game.mix].reshape((-1,) + (1,) * (real.ndim - 1))
        x_hat = mix * real + (1.0 - mix) * fake
        norms = jnp.sqrt(_input_grads(outputs[game.critic], x_hat) + 1e-12)
        return jnp.mean((norms - target) ** 2), {'grad_norm': jnp.mean(norms)}
    return term


def r1_term(game: Game = Game()):
    """``mean(|grad_x D(x)|^2) / 2`` on real data."""
    def term(outputs):
        return 0.5 * jnp.mean(_input_grads(outputs[game.critic], outputs[game.real])), {}
    return term


def with_game(objective: Objective, game: Game = Game(), *, loss: str = 'minimax',
              generator_loss: str = 'non_saturating', label_smoothing: float = 0.0,
              gradient_penalty: float = 0.0, r1: float = 0.0, d_weight: float = 1.0,
              g_weight: float = 1.0) -> Objective:
    """``objective`` plus one game: ``d_loss`` added to loss ``game.discriminator``
    (times ``d_weight``), ``g_loss`` to loss ``game.generator`` (times ``g_weight``),
    and the penalties, when their weights are positive, to ``game.discriminator``."""
    if not 0.0 <= label_smoothing < 1.0:
        raise JaxgenError(f'objective.label_smoothing must be in [0, 1), got '
                          f'{label_smoothing}')
    for name, weight in (('gradient_penalty', gradient_penalty), ('r1', r1)):
        if not weight >= 0.0:
            raise JaxgenError(f'objective.{name} must be >= 0, got {weight}')
    d_term, g_term = family_terms(loss, generator_loss, label_smoothing, game)
    objective = (objective
                 .with_term(game.term('d_loss'), d_term, **{game.discriminator: d_weight})
                 .with_term(game.term('g_loss'), g_term, **{game.generator: g_weight}))
    if gradient_penalty:
        objective = objective.with_term(game.term('gradient_penalty'),
                                        gradient_penalty_term(game=game),
                                        **{game.discriminator: gradient_penalty})
    if r1:
        objective = objective.with_term(game.term('r1'), r1_term(game),
                                        **{game.discriminator: r1})
    return objective


def gan_objective(model, *, generator_loss: str = 'non_saturating',
                  label_smoothing: float = 0.0,
                  discriminator: str = 'discriminator',
                  generator: str = 'generator',
                  losses: tuple[str, ...] = (),
                  loss: str = 'minimax',
                  gradient_penalty: float = 0.0,
                  r1: float = 0.0,
                  game: Game | None = None) -> Objective:
    """One game over ``model``: ``game``, or the default one with its terms added to
    losses ``discriminator`` and ``generator``.

    ``losses`` names all the objective's losses when they are not the players'.
    """
    game = game or Game(discriminator=discriminator, generator=generator)
    return with_game(empty(model, losses), game, loss=loss, generator_loss=generator_loss,
                     label_smoothing=label_smoothing, gradient_penalty=gradient_penalty,
                     r1=r1)


OPTIONS = ('generator_loss', 'label_smoothing', 'loss', 'gradient_penalty', 'r1')


def build(objective_config, model) -> Objective:
    c = objective_config
    reject_ignored(c, OPTIONS)
    return gan_objective(model, generator_loss=c.get('generator_loss', 'non_saturating'),
                         label_smoothing=c.get('label_smoothing', 0.0),
                         loss=c.get('loss', 'minimax'),
                         gradient_penalty=c.get('gradient_penalty', 0.0),
                         r1=c.get('r1', 0.0))
