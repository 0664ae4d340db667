"""Run by tests/test_many_seeds.py in a fresh process under XLA's default flags (the
tests' own flags set LLVM -O0, at which more programs agree bit for bit).

    python tests/exact_seeds_worker.py OUT.json PROGRAM [STEPS]

Trains the ring GAN at its full size (configs/gan_ring.py, batch 512) for STEPS steps
(default 200), seeds 5, 6, 7: each as its own run, then all three as one many-seed run
with ``config.seeds_program=PROGRAM``; writes per seed whether the whole final state
equals its separate run's bit for bit.
"""

import json
import os
import sys

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import gan_ring  # noqa: E402
from jaxgen import data  # noqa: E402
from jaxgen.training import experiment, seeds  # noqa: E402

FIRST, N = 5, 3


def config(seed: int, num_seeds: int = 1, program: str = 'loop'):
    c = gan_ring.get_config()
    c.seed, c.num_seeds, c.seeds_program = seed, num_seeds, program
    return c


def trained(exp, dataset, steps: int):
    step = exp.make_train_step(dataset.draw, exp.config.batch_size)
    state = exp.init_state()
    for _ in range(steps):
        state, _ = step(state, dataset.arrays)
    return jax.device_get(state)


def main(out: str, program: str, steps: int) -> None:
    dataset = data.load(config(FIRST).data, 'train')
    separate = [trained(experiment.build(config(FIRST + i), dataset.info), dataset, steps)
                for i in range(N)]
    many = trained(experiment.build(config(FIRST, N, program), dataset.info), dataset, steps)
    equal = [all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(seeds.take(many, i)),
                                                      jax.tree.leaves(separate[i])))
             for i in range(N)]
    with open(out, 'w') as f:
        json.dump({'equal': equal, 'xla_flags': os.environ.get('XLA_FLAGS', '')}, f)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200)
