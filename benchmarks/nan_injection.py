"""Reliability: a NaN-causing learning rate at a random step never reaches a checkpoint.

    python benchmarks/nan_injection.py --runs 20 --out runs/nan_injection

Each run trains the small ring GAN (MLP G and D, the tests' size) for 250 steps
with ``checkpoint_every`` drawn from 1 to 50, ``log_every`` 50 and 3 checkpoints
kept; one player's learning rate turns infinite at a random step after the first
checkpoint (``tests/test_safe_failures.py`` covers a divergence before any), so its
parameters stop being finite there. A run passes when it stops with one line
naming that step, that player and the last checkpoint written before the step,
and that checkpoint restores (``jaxgen.training.restore.load``) with every value
finite. Draws come from ``numpy.random.default_rng(seed)``; prints a table and
writes ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from configs import gan_ring  # noqa: E402
from jaxgen.errors import JaxgenError  # noqa: E402
from jaxgen.training import health, train  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402

STEPS = 250


def poison(config, player: str, bad_step: int):
    """``config`` with ``player``'s learning rate infinite from its ``bad_step``-th update
    (1-based) on, so that its parameters stop being finite at that step."""
    entry = config.optimizers[player].to_dict()
    entry['learning_rate'] = {'name': 'exponential_decay', 'init_value': entry['learning_rate'],
                              'transition_steps': 1, 'decay_rate': float('inf'),
                              'transition_begin': bad_step - 2, 'staircase': True}
    config.optimizers[player] = entry
    return config


def config_for(checkpoint_every: int, player: str, bad_step: int):
    c = gan_ring.get_config()
    c.num_steps, c.batch_size, c.log_every = STEPS, 16, 50
    c.sample_every, c.checkpoint_every, c.keep_checkpoints = STEPS, checkpoint_every, 3
    c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 4, (16,), (16,)
    return poison(c, player, bad_step)


def one_run(rng: np.random.Generator, root: str) -> dict:
    every = int(rng.integers(1, 51))
    player = str(rng.choice(['generator', 'discriminator']))
    bad = int(rng.integers(every + 1, STEPS))  # after the first checkpoint
    workdir = tempfile.mkdtemp(dir=root)
    last = (bad - 1) // every * every
    started = time.perf_counter()
    try:
        train(config_for(every, player, bad), workdir)
        message = None
    except JaxgenError as e:
        message = str(e)
    # The player, maybe with others that its non-finite values reached in the same step.
    head = (message or '').split(' are not finite', 1)[0]
    named = f'checkpoints/{last}, where a rerun resumes'
    record = {'checkpoint_every': every, 'player': player, 'bad_step': bad, 'last': last,
              'message': message, 'seconds': round(time.perf_counter() - started, 1),
              'one_line': message is not None and '\n' not in message,
              'right_message': bool(head.startswith(f'training diverged at step {bad}: ')
                                    and f"the {player}'s parameters" in head
                                    and named in message)}
    _, state, step = load(workdir, last)
    record['restores_finite'] = step == last and not health.nonfinite_parts(state)
    record['ok'] = record['one_line'] and record['right_message'] and record['restores_finite']
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='runs/nan_injection')
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    records = []
    with tempfile.TemporaryDirectory() as root:
        for i in range(args.runs):
            records.append(one_run(rng, root))
            r = records[-1]
            print(f"{i:2d} every {r['checkpoint_every']:2d}  {r['player']:13s} NaN at "
                  f"{r['bad_step']:3d}  last {r['last']}  ok {r['ok']}  ({r['seconds']}s)",
                  flush=True)
    passed = sum(r['ok'] for r in records)
    print(f'{passed} of {len(records)} runs stopped with the right one-line message and a '
          'finite last checkpoint')
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump({'seed': args.seed, 'passed': passed, 'runs': records}, f, indent=2)


if __name__ == '__main__':
    main()
