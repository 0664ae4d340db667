"""f-GAN with every divergence of Nowozin et al. (2016), Table 2, on one dataset.

    python benchmarks/fgan_divergences.py --data ring --steps 5000 --out runs/fgan_ring
    python benchmarks/fgan_divergences.py --data mnist --steps 2000 --out runs/fgan_mnist

Trains ``configs/fgan.py`` once per divergence, writes each run's samples
picture, one panel picture of all of them (``fgan_<data>.png``), and, on the
2-D mixtures, the VEEGAN mode-coverage numbers (``results.json``, a table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import report  # noqa: E402
from configs import fgan  # noqa: E402
from jaxgen import visualisation  # noqa: E402
from jaxgen.losses.fgan import DIVERGENCES  # noqa: E402
from jaxgen.training import train  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default='ring')
    parser.add_argument('--out', default='runs/fgan_ring')
    parser.add_argument('--steps', type=int, default=5000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--divergences', default=','.join(sorted(DIVERGENCES)))
    args = parser.parse_args()
    points = args.data in ('ring', 'grid')
    results, panels, images = {}, [], []
    for divergence in args.divergences.split(','):
        c = fgan.get_config(args.data)
        c.seed, c.num_steps, c.objective.divergence = args.seed, args.steps, divergence
        c.sample_every = c.checkpoint_every = args.steps
        c.log_every = max(1, args.steps // 10)
        c.eval_every = args.steps if points else 0
        workdir = os.path.join(args.out, divergence)
        start = time.time()
        try:
            train(c, workdir)
            status = 'ok'
        except Exception as e:  # a divergence that blows up is a result, not a crash
            status = f'failed: {str(e).splitlines()[0]}'
        result = {'status': status, 'seconds': round(time.time() - start, 1)}
        if points and status == 'ok':
            with open(os.path.join(workdir, 'eval.jsonl')) as f:
                result.update(json.loads(f.read().splitlines()[-1]))
        results[divergence] = result
        print(divergence, result, flush=True)
        if status != 'ok':
            continue
        exp, state, _ = load(workdir)
        samples = np.asarray(exp.model.sample(exp.variables(state), jax.random.key(0),
                                              2500 if points else 16))
        if points:
            panels.append((divergence, samples))
            centers = np.asarray(exp.data_info['centers'])
        else:
            images.append((divergence, samples))
    report.write_json(args.out, results)
    path = os.path.join(args.out, f'fgan_{args.data}.png')
    if points and panels:
        visualisation.save_png(path, visualisation.scatter_panels(
            panels, centers, ncols=4, suptitle=f'f-GAN on the {args.data}, {args.steps} steps'))
    elif images:
        grid = np.stack([s for _, s in images])
        visualisation.save_png(path, visualisation.labelled_grid(
            grid, row_labels=[d for d, _ in images],
            title=f'f-GAN on {args.data}, {args.steps} steps', cell_px=40))


if __name__ == '__main__':
    main()
