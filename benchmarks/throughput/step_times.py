"""Wall time of each of jaxgen's train steps, one by one: where a lazy phase costs.

    python benchmarks/throughput/step_times.py --model stylegan --steps 33
    python benchmarks/throughput/step_times.py --model stylegan --steps 17 --cpu-speedups \
        --profile runs/profile_r1

Builds the step exactly as ``benchmarks/throughput/run.py`` does (same config, widths
and batch; ``--cpu-speedups`` sets ``config.cpu_speedups``, ``--lazy-phases``
``config.lazy_phases``), calls it ``--steps`` times after the compiling call, and
prints every step's seconds, the median, the mean and the steps slower than twice the
median (StyleGAN's R1 runs on steps 16, 32, ...: the ``rule.every`` phases sit in a
``lax.cond`` under ``--lazy-phases cond``, in programs of their own under ``host``, the
default on a CPU). ``--profile DIR`` writes a
``jax.profiler`` trace (Perfetto) of step ``--profile-step`` (default: the first step
that runs every lazy phase, 16 for StyleGAN; step 2 for a model without one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks.throughput import run  # noqa: E402  (keeps freed memory, as train.py)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgen import config as config_lib, data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', default='stylegan', choices=sorted(run.CONFIGS))
    parser.add_argument('--steps', type=int, default=33)
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--cpu-speedups', action='store_true')
    parser.add_argument('--lazy-phases', choices=config_lib.LAZY_PHASES, default='auto',
                        help='config.lazy_phases (training/lazy.py)')
    parser.add_argument('--profile', default=None)
    parser.add_argument('--profile-step', type=int, default=None)
    args = parser.parse_args()
    config = run.get_config(args.model)
    dataset = data.load(config.data, 'train')
    step = run.JaxStep(args.model, args.batch_size or config.batch_size, dataset,
                       cpu_speedups=args.cpu_speedups,
                       lazy_phases=args.lazy_phases)  # compiles, runs step 1
    cycle = run.lazy_cycle(args.model)
    profiled = args.profile_step or max(cycle, 2)
    times = []
    for i in range(2, args.steps + 2):  # step i of training (1-based)
        profile = args.profile and i == profiled
        if profile:
            jax.profiler.start_trace(args.profile, create_perfetto_trace=True)
        start = time.perf_counter()
        step()
        times.append((i, time.perf_counter() - start))
        if profile:
            jax.profiler.stop_trace()
    seconds = np.array([t for _, t in times])
    median = float(np.median(seconds))
    print(f'{args.model}, batch {step.exp.config.batch_size}, cpu_speedups='
          f'{args.cpu_speedups}, lazy_phases={args.lazy_phases}, compile {step.compile_seconds:.1f} s, lazy cycle {cycle}')
    print('seconds per step:', ' '.join(f'{i}:{t:.2f}' for i, t in times))
    print(f'median {median:.3f} s, mean {seconds.mean():.3f} s; slower than twice the '
          f'median: {[i for i, t in times if t > 2 * median]}')


if __name__ == '__main__':
    main()
