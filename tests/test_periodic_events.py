"""The loop's schedule: with several steps fused into one call, every log, picture and
checkpoint still falls on its step, and the last step has them all.

The expected schedule is worked out here by brute force: from step ``s`` the loop may
fuse ``F`` steps only if no event falls on ``s + 1 .. s + F - 1``; an event is a
multiple of its period, or the last step.
"""

import os

from jaxgen.logging import read_scalars
from jaxgen.training import Checkpoints, train
from tests.test_train import ring_config


def schedule(num_steps, fused, periods):
    """``(steps after each call, {event: steps it happens at})``, by brute force."""
    def event(step):
        return step == num_steps or any(step % every == 0 for every in periods.values())

    calls, step = [], 0
    while step < num_steps:
        span = fused if step + fused <= num_steps and not any(
            event(step + k) for k in range(1, fused)) else 1
        step += span
        calls.append(step)
    happens = {name: [s for s in calls if s % every == 0 or s == num_steps]
               for name, every in periods.items()}
    return calls, happens


def test_fused_calls_stop_at_every_event_and_the_end_has_them_all(tmp_path):
    # A log 2 steps after a fused call of 3 would overshoot it by one; a checkpoint at 7
    # and the end at 13 (a multiple of no period) must also be hit.
    c = ring_config(num_steps=13, log_every=5, sample_every=13, checkpoint_every=7,
                    keep_checkpoints=5, steps_per_call=3)
    calls, happens = schedule(13, 3, {'log': 5, 'pictures': 13, 'checkpoint': 7})
    assert calls == [3, 4, 5, 6, 7, 10, 13]   # the brute force, spelled out
    seen = []
    workdir = str(tmp_path / 'run')
    train(c, workdir, hooks=[lambda step, _: seen.append(step)])
    assert seen == calls
    logged = read_scalars(os.path.join(workdir, 'tensorboard'))
    assert [s for s, _ in logged['d_loss']] == happens['log'] == [5, 10, 13]
    assert Checkpoints(workdir).all_steps() == happens['checkpoint'] == [7, 13]
    pictures = sorted(os.listdir(os.path.join(workdir, 'pictures')))
    assert pictures == ['samples_0000000.png', 'samples_0000013.png']
