"""The text-to-image GAN's objective (Reed et al., 2016), after ``main_cls_int.lua``
(github.com/reedscot/icml2016), from the GAN's pieces (``objectives/gan.py``):

* D: ``real + cls_weight·wrong + (1 − cls_weight)·fake`` (``fDx``: errD_real, errD_wrong
  times cls_weight, errD_fake times 1 − cls_weight; ``scripts/train_*.sh`` set
  cls_weight 0.5), written as the minimax game's ``d_loss`` on (real, fake) weighted
  1 − cls_weight plus ``d_loss_wrong`` on (real, real with mismatched text) weighted
  cls_weight, whose real parts add up to weight 1. Without ``model.cls`` it is the plain GAN: real + fake.
* G: non-saturating, ``-log D(G(z, e), e)``. With ``model.interpolate`` (GAN-INT), G's
  loss is that of ``fGx``: one BCE over the B matching and B/2 interpolated fakes, the
  latter weighted ``interp_weight`` (1.0 in ``train_*.sh``), averaged over the B + B/2
  entries: ``(2/3)·g_loss + (interp_weight/3)·g_loss_int``.
* With an inverse network (``model.inverse``): ``inverse`` = mean ``||z − S(G(z, e))||²``
  on stop-gradient fakes, weighted ``inverse_weight`` for the inverse alone.

Options the model's variant ignores (``cls_weight`` without ``model.cls``,
``interp_weight`` without ``model.interpolate``, ``inverse_weight`` without an inverse)
are errors.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import gan as gan_losses
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, with_game


def wrong_term(outputs):
    """D's loss on the (real, matching text) and (real, mismatched text) pairs:
    ``-log D(x, e) - log(1 - D(x, e_wrong))``."""
    real, wrong = outputs['real_logits'], outputs['wrong_logits']
    value = jnp.mean(gan_losses.discriminator_loss(real_logits=real, fake_logits=wrong))
    return value, {'D(x,wrong text)': jnp.mean(jax.nn.sigmoid(wrong))}


def interp_term(outputs):
    """``-log D(G(z, e_int), e_int)`` on the interpolated embeddings' fakes."""
    return jnp.mean(gan_losses.generator_nonsaturating_loss(
        fake_logits=outputs['interp_logits'])), {}


def inverse_term(outputs):
    """mean ``||z − S(G(z, e))||²`` (the fakes reach S with their gradient stopped)."""
    return jnp.mean(jnp.sum((outputs['z'] - outputs['inverse_z']) ** 2, axis=-1)), {}


def build(objective_config, model) -> Objective:
    c = objective_config
    reads = (('cls_weight',) * model.cls + ('interp_weight',) * model.interpolate
             + ('inverse_weight',) * (model.inverse is not None))
    reject_ignored(c, reads)
    cls_weight = float(c.get('cls_weight', 0.5)) if model.cls else 0.0
    interp_weight = float(c.get('interp_weight', 1.0))
    if not 0.0 <= cls_weight < 1.0:
        raise JaxgenError(f'objective.cls_weight must be in [0, 1), got {cls_weight}')
    g_weight = 2.0 / 3.0 if model.interpolate else 1.0
    # D's loss reads d_fake_logits when the model makes them (model.d_pass=separate)
    game = Game(history_logits='d_fake_logits')
    objective = with_game(empty(model), game, loss='minimax', d_weight=1.0 - cls_weight,
                          g_weight=g_weight)
    if model.cls:
        # The mismatched pairs are a second kind of negative, for D alone.
        objective = objective.with_term('d_loss_wrong', wrong_term, discriminator=cls_weight)
    if model.interpolate:
        objective = objective.with_term('g_loss_int', interp_term,
                                        generator=interp_weight / 3.0)
    if model.inverse is not None:
        objective = objective.with_term('inverse', inverse_term,
                                        inverse=float(c.get('inverse_weight', 1.0)))
    return objective

