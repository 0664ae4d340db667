"""Puzzle-GAN with and without the discriminator's extra negatives (issue 33).

Trains ``configs/puzzlegan.py`` (MNIST, or ``--dataset``) twice, with
``model.extra_negatives`` True and False and everything else equal, then measures both on
the first ``--samples`` test images (``--parts canvas``: the parts placed at their boxes
instead of the official crops) (``metrics/own/puzzlegan.py``): mask IoU against the
true boxes, appearance L1 inside the patches, and the FD of the completions to the same
test images in the domain classifier's features. Writes ``<out>/results.json`` and prints
a markdown table.

    nice -n 19 python benchmarks/puzzlegan_negatives.py --steps 400 --features 32 \\
        --out runs/puzzle
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=wrong-import-position

from configs import puzzlegan
from jaxgen import data
from jaxgen.metrics import classifier
from jaxgen.metrics.own.puzzlegan import evaluation
from jaxgen.training import train
from jaxgen.training.restore import load


def config_for(args, extra: bool):
    c = puzzlegan.get_config(args.dataset)
    c.seed = args.seed
    c.num_steps = args.steps
    c.batch_size = args.batch
    c.log_every = max(1, args.steps // 10)
    c.sample_every = c.checkpoint_every = args.steps
    c.model.features = args.features
    c.model.extra_negatives = extra
    c.model.parts = args.parts
    c.cpu_speedups = True
    return c


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='mnist')
    parser.add_argument('--steps', type=int, default=400)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--features', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--samples', type=int, default=1000)
    parser.add_argument('--out', default='runs/puzzle')
    parser.add_argument('--parts', default='crops', choices=('crops', 'canvas'))
    parser.add_argument('--negatives', default='both', choices=('both', 'with', 'without'))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for extra in {'both': (True, False), 'with': (True,), 'without': (False,)}[args.negatives]:
        c = config_for(args, extra)
        workdir = os.path.join(args.out, f"{args.dataset}_{args.parts}_"
                               f"{'with' if extra else 'without'}_negatives_seed{args.seed}")
        began = time.time()
        train(c, workdir)
        seconds = time.time() - began
        exp, state, step = load(workdir)
        test = data.load(c.data, 'test')
        extractor = classifier.for_config({**c.data.to_dict(), 'patches': 0}, test.name)
        results = evaluation(exp.model)(exp.variables(state), test.arrays,
                                        jax.random.key(args.seed), num_samples=args.samples,
                                        extractor=extractor)
        rows.append({'extra_negatives': extra, 'workdir': workdir, 'step': int(step),
                     'train_seconds': round(seconds), **results,
                     'classifier_test_accuracy': extractor.info.get('test_accuracy')})
        print(json.dumps(rows[-1]), flush=True)
    record = {'args': vars(args), 'hardware': f'{os.cpu_count()} CPU cores, '
              f'{platform.processor() or platform.machine()}', 'jax': jax.__version__,
              'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), 'runs': rows}
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(record, f, indent=2)
    print('| extra negatives | mask IoU | appearance L1 | FD | train s |')
    print('|---|---|---|---|---|')
    for r in rows:
        print(f"| {'yes' if r['extra_negatives'] else 'no'} | {r['mask_iou']:.3f} | "
              f"{r['appearance_l1']:.3f} | {r['fd']:.2f} | {r['train_seconds']} |")


if __name__ == '__main__':
    main()
