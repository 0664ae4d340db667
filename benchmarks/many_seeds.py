"""Many seeds in one program against separate runs: the ring GAN (configs/gan_ring.py).

    python benchmarks/many_seeds.py --seeds 8 --steps 2000 --out runs/many_seeds

Runs ``python train.py --config configs/gan_ring.py`` once per seed (``--config.seed=i``,
one after the other, each a fresh process as a user would run them) and three times
with ``--config.num_seeds=N`` in one process, once per ``--config.seeds_program``:
``loop`` (the separate run's compiled step, seed after seed), ``map`` (``lax.map`` of
the step in one program) and ``vmap`` (``jax.vmap`` of it), the same steps and
outputs (a log every 500 steps, pictures and a checkpoint at the end), and times
each command's wall clock, process start and compilation included. Then it
restores every final checkpoint and checks that each seed's samples (4096 points
from the same key) and whole train state equal its separate run's, bit for bit.
Prints and writes ``<out>/results.json``: wall times, their ratio, the checks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import chex  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgen.training import restore  # noqa: E402


def command(workdir: str, steps: int, *extra: str) -> list[str]:
    return [sys.executable, os.path.join(ROOT, 'train.py'),
            '--config', os.path.join(ROOT, 'configs', 'gan_ring.py'), '--workdir', workdir,
            f'--config.num_steps={steps}', f'--config.log_every={min(500, steps)}',
            f'--config.sample_every={steps}', f'--config.checkpoint_every={steps}', *extra]


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def samples(exp, state) -> np.ndarray:
    return np.asarray(exp.model.generate(exp.variables(state), {'num': 4096},
                                         jax.random.key(0)))


def identical(many: str, separate: list[str]) -> dict:
    """Per seed: samples and whole final state equal to the separate run's, bit for bit."""
    same_samples, same_state = [], []
    for i, workdir in enumerate(separate):
        one, mine, _ = restore.load(many, seed_index=i)
        _, theirs, _ = restore.load(workdir)
        same_samples.append(bool(np.array_equal(samples(one, mine), samples(one, theirs))))
        try:
            chex.assert_trees_all_equal(jax.device_get(mine), jax.device_get(theirs))
            same_state.append(True)
        except AssertionError:
            same_state.append(False)
    return {'samples_identical': same_samples, 'states_identical': same_state}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, default=8)
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--out', default='runs/many_seeds')
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    separate = [os.path.join(args.out, 'separate', f'seed_{i}') for i in range(args.seeds)]
    separate_s = [timed(command(w, args.steps, f'--config.seed={i}'))
                  for i, w in enumerate(separate)]
    results = {'seeds': args.seeds, 'steps': args.steps,
               'separate_s': [round(s, 2) for s in separate_s],
               'separate_total_s': round(sum(separate_s), 2)}
    for mode in ('loop', 'map', 'vmap'):  # config.seeds_program (training/seeds.py)
        workdir = os.path.join(args.out, f'many_{mode}')
        many_s = timed(command(workdir, args.steps, f'--config.num_seeds={args.seeds}',
                               f'--config.seeds_program={mode}'))
        results[mode] = {'many_s': round(many_s, 2),
                         'ratio': round(sum(separate_s) / many_s, 2),
                         **identical(workdir, separate)}
    results['machine'] = (f'{platform.processor() or platform.machine()}, '
                          f'{os.cpu_count()} cores, {jax.devices()[0].platform}')
    results['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    print(json.dumps(results, indent=1))
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
