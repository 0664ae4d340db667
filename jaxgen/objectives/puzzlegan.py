"""Puzzle-GAN's objective (Lee et al., 2017), as the official code computes it
(hellbell/KeyPatchGan ``models/model.py`` ``backward_D`` lines 161-190, ``backward_G``
lines 199-212; weights from ``main.py`` lines 63-64).

Losses: ``discriminator`` (D) and ``generator``, which the generator, the part encoder
and the mask network all minimise (the official single ``optimizer_G`` over the three,
``model.py`` lines 106-110). Terms:

* one minimax ``Game`` (``objectives/gan.py``): D's cross-entropy on real and fake, the
  non-saturating ``-log D(G(parts, z))`` for the generator side;
* ``d_extra_negatives`` (D only, with ``model.extra_negatives``): the cross-entropy of the
  shuffled-parts and shuffled-background images as fakes, added to D's loss with weight 1
  as ``d_loss_shfpart_realbg + d_loss_realpart_shfbg``;
* ``mask`` = ``sum_pixels |M_pred - M_true|``, ``M_true`` the union of the patch boxes
  (``criterionMask``, an L1 summed, ``size_average=False``);
* ``appearance`` = ``sum_pixels |G * M_pred - x * M_true|`` (``criterionAppr`` on
  ``image_gen * gen_mask`` and ``input_image * gt_mask``: the fake is masked by the
  *predicted* mask, so this term also reaches the mask network).

Both L1 terms are per-image sums averaged over the batch (the official sums over the batch
too: its weights times the batch size, 64, give the same gradient). They are scheduled:
``np.logspace(-2, -4, num=epochs)[epoch]`` in the official code, a constant per epoch
falling geometrically from the first weight to the second; here ``schedule_steps`` (the
run's length) is split into ``schedule_epochs`` equal epochs. Options (``config.objective``):
``mask_weight`` and ``appearance_weight`` ((start, end)), ``schedule_epochs`` (25, the
official ``--epoch``), ``schedule_steps``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored
from jaxgen.objectives.gan import Game, with_game

LOSSES = ('generator', 'discriminator')
PLAYERS = ('discriminator', 'generator', 'mask_net', 'part_encoder')
OPTIONS = ('mask_weight', 'appearance_weight', 'schedule_epochs', 'schedule_steps')


def _image_sum(x):
    return jnp.sum(x.reshape(x.shape[0], -1), axis=1)


def mask_term(outputs):
    """Mean over images of ``sum |M_pred - M_true|``."""
    return jnp.mean(_image_sum(jnp.abs(outputs['mask'] - outputs['target_mask']))), {}


def appearance_term(outputs):
    """Mean over images of ``sum |G * M_pred - x * M_true|``; logs the L1 per pixel inside
    the true boxes, ``inside_l1``."""
    fake, real, mask, target = (outputs[k] for k in ('fake', 'real', 'mask', 'target_mask'))
    value = jnp.mean(_image_sum(jnp.abs(fake * mask - real * target)))
    inside = jnp.sum(jnp.abs(fake - real) * target) / jnp.maximum(
        jnp.sum(target) * fake.shape[-1], 1.0)
    return value, {'inside_l1': jax.lax.stop_gradient(inside)}


def extra_negatives_term(outputs):
    """``BCE(D(shuffled parts), 0) + BCE(D(shuffled background), 0)``, batch means."""
    parts, background = outputs['shuffled_parts_logits'], outputs['shuffled_background_logits']
    value = jnp.mean(jax.nn.softplus(parts)) + jnp.mean(jax.nn.softplus(background))
    return value, {'D(shuffled_parts)': jnp.mean(jax.nn.sigmoid(parts)),
                   'D(shuffled_background)': jnp.mean(jax.nn.sigmoid(background))}


def logspace_schedule(start: float, end: float, epochs: int, steps: int):
    """``step -> np.logspace(log10 start, log10 end, epochs)[epoch]``, ``steps`` split into
    ``epochs`` equal epochs (the last one running on past ``steps``)."""
    per_epoch = max(1, int(steps) // int(epochs))

    def schedule(step):
        epoch = jnp.minimum(jnp.asarray(step) // per_epoch, epochs - 1).astype(jnp.float32)
        fraction = epoch / max(epochs - 1, 1)
        return jnp.float32(start) * (jnp.float32(end) / jnp.float32(start)) ** fraction
    return schedule


def _pair(value, name: str) -> tuple[float, float]:
    try:
        start, end = (float(v) for v in value)
    except (TypeError, ValueError):
        raise JaxgenError(f'config.objective.{name} must be (start, end) weights, got '
                          f'{value!r}') from None
    if not (start > 0 and end > 0):
        raise JaxgenError(f'config.objective.{name} must be positive (start, end) weights '
                          f'(a geometric schedule), got {value!r}')
    return start, end


def puzzlegan_objective(model, *, mask_weight=(0.64, 0.0064), appearance_weight=(0.64, 0.0064),
                        schedule_epochs: int = 25, schedule_steps: int = 1000) -> Objective:
    if int(schedule_epochs) < 1 or int(schedule_steps) < 1:
        raise JaxgenError(f'config.objective.schedule_epochs and schedule_steps must be >= 1,'
                          f' got {schedule_epochs} and {schedule_steps}')
    objective = with_game(empty(model, LOSSES), Game(), loss='minimax')
    if model.extra_negatives:
        objective = objective.with_term('d_extra_negatives', extra_negatives_term,
                                        discriminator=1.0)
    for name, term, weights in (('mask', mask_term, mask_weight),
                                ('appearance', appearance_term, appearance_weight)):
        start, end = _pair(weights, f'{name}_weight')
        objective = objective.with_term(
            name, term, logspace_schedule(start, end, int(schedule_epochs), int(schedule_steps)),
            generator=1.0)
    return objective


def build(objective_config, model) -> Objective:
    if tuple(sorted(model.players)) != PLAYERS or not hasattr(model, 'extra_negatives'):
        raise JaxgenError(f'objective puzzlegan needs model.name=puzzlegan (players '
                          f'{PLAYERS}), got players {tuple(model.players)}')
    c = objective_config
    reject_ignored(c, OPTIONS)
    return puzzlegan_objective(model, mask_weight=c.get('mask_weight', (0.64, 0.0064)),
                               appearance_weight=c.get('appearance_weight', (0.64, 0.0064)),
                               schedule_epochs=c.get('schedule_epochs', 25),
                               schedule_steps=c.get('schedule_steps', 1000))
