"""Progressive growth as ``config.stages`` (``training/stages.py``), counted in images shown.

Resolution 4 stabilises; each later resolution fades in (``fade_start``, ``fade_steps``:
alpha from 0 to 1 over the stage, ``progan.py``) and then stabilises, each phase its own
stage. As in the official code (``train.py``, ``reset_opt_for_new_lod``) the optimizers
start afresh at the start of every fade-in and every stabilisation. The batch size may
change with the resolution (the official ``minibatch_dict``); a phase's steps are its
images divided by that resolution's batch, rounded up.
"""

from __future__ import annotations

import math
from typing import Mapping

from jaxgen.errors import JaxgenError
from jaxgen.models.progressive.progan import log2_resolution


def phase_steps(images: int, batch_size: int, what: str) -> int:
    if not isinstance(images, int) or images < batch_size:
        raise JaxgenError(f'the growth schedule is shorter than one stage: {what} shows '
                          f'{images!r} images, fewer than one batch of {batch_size}')
    return math.ceil(images / batch_size)


def growth_stages(final_resolution: int, batch_sizes: Mapping[int, int],
                  stabilise_images: int, fade_images: int,
                  reset_optimizer: bool = True) -> tuple[tuple[dict, ...], int]:
    """``(stages, num_steps)``: 4 -> ... -> ``final_resolution``; ``batch_sizes`` maps
    each resolution to its batch size. The last stage runs to ``config.num_steps``."""
    top = log2_resolution(final_resolution, 'the final resolution')
    if top < 3:
        raise JaxgenError('the growth schedule is shorter than one stage: a final resolution '
                          'of 4 never grows; use 8 or more')
    missing = [2 ** r for r in range(2, top + 1) if 2 ** r not in batch_sizes]
    if missing:
        raise JaxgenError(f'the growth schedule has no batch size for resolutions {missing}')

    def stage(until, resolution, fade_steps=0, fade_start=0, reset=reset_optimizer):
        return {'until': until, 'batch_size': batch_sizes[resolution],
                'model': {'resolution': resolution, 'fade_start': fade_start,
                          'fade_steps': fade_steps}, 'reset_optimizer': reset}

    until = phase_steps(stabilise_images, batch_sizes[4], 'stabilising 4x4')
    stages = [stage(until, 4, reset=False)]
    for r in range(3, top + 1):
        res = 2 ** r
        fade = phase_steps(fade_images, batch_sizes[res], f'fading in {res}x{res}')
        stages.append(stage(until + fade, res, fade, until))
        until += fade + phase_steps(stabilise_images, batch_sizes[res],
                                    f'stabilising {res}x{res}')
        stages.append(stage(until, res))
    last = dict(stages[-1])
    del last['until']  # the last stage runs to num_steps
    return (*stages[:-1], last), until
