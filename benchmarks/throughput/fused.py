"""Seconds per train step, one step per compiled call against N fused by ``lax.scan``.

    python benchmarks/throughput/fused.py --models infogan dcgan --steps 1 10 --batch-size 128

jaxgen's train step exactly as ``train.py`` runs it (``steps_per_call`` steps in
one call, batches drawn on device); first call (compilation) and steady state
(median of ``--calls`` calls) per setting, with ``config.cpu_speedups`` off, on or
both (``--cpu-speedups``; the layouts of ``jaxgen/models/layers/conv.py`` are what keeps
fused steps fast on XLA:CPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

from configs import infogan  # noqa: E402
from jaxgen import data  # noqa: E402
from run import SPEEDUPS, JaxStep  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['infogan', 'dcgan'])
    parser.add_argument('--steps', nargs='+', type=int, default=[1, 10])
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--calls', type=int, default=3)
    parser.add_argument('--cpu-speedups', choices=sorted(SPEEDUPS), default='both',
                        help='config.cpu_speedups off, on, or both')
    args = parser.parse_args()
    dataset = data.load(infogan.get_config().data, 'train')
    print('| model | CPU speed-ups | steps per call | first call s | s per step |')
    print('|---|---|---|---|---|')
    for model in args.models:
        for speedups in SPEEDUPS[args.cpu_speedups]:
            for steps in args.steps:
                step = JaxStep(model, args.batch_size, dataset, steps, cpu_speedups=speedups)
                times = []
                for _ in range(args.calls):
                    start = time.perf_counter()
                    step()
                    times.append(time.perf_counter() - start)
                print(f"| {model} | {'on' if speedups else 'off'} | {steps} | "
                      f'{step.compile_seconds:.1f} | {np.median(times) / steps:.3f} |',
                      flush=True)


if __name__ == '__main__':
    main()
