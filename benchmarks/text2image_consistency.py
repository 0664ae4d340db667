"""Text–image consistency of trained text-to-image GANs (issue 33): the paper's comparison
of GAN, GAN-CLS, GAN-INT and GAN-INT-CLS, measured instead of judged by eye.

    python benchmarks/text2image_consistency.py --workdirs runs/t2i/gan,runs/t2i/gan_cls,\\
        runs/t2i/gan_int,runs/t2i/gan_int_cls --num 1000 --out runs/t2i/consistency.json

For each workdir (latest checkpoint), ``metrics/own/text2image.consistency`` on the first
``--num`` test captions of held-in combinations and on the held-out (zero-shot) ones, judged
as the captioned set says (``text2image.judge_for``): on captioned_mnist the class by MNIST's
domain classifier, thickness and slant bins by Morpho-MNIST; on captioned_glyphs the
character by a glyph classifier, family, weight and style by a font classifier. One image
per caption, the noise from ``--seed``; G's averaged weights where the run keeps them
(``config.ema``), its trained ones with ``--noema``. Writes the JSON and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen import data  # noqa: E402  (after the path)
from jaxgen.metrics.own.text2image import consistency, judge_for
from jaxgen.training.restore import load


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workdirs', required=True, help='comma-separated workdirs')
    parser.add_argument('--num', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--step', type=int, default=None, help='checkpoint (default latest)')
    parser.add_argument('--out', default=None)
    parser.add_argument('--noema', dest='ema', action='store_false',
                        help="G's trained weights even where the run keeps averaged ones "
                             '(config.ema; by default the averaged weights are measured)')
    args = parser.parse_args()
    results, test, judge = {}, None, None
    for workdir in args.workdirs.split(','):
        began = time.time()
        exp, state, step = load(workdir, args.step)
        if test is None:
            split = data.load(exp.config.data, 'test')
            test, judge = split.arrays, judge_for(exp.config.data, split.info)
        r = consistency(exp.model, exp.variables(state, args.ema), test,
                        jax.random.key(args.seed), args.num, judge, real=not results)
        r.update(step=step, ema=bool(exp.ema[1]) and args.ema,
                 seconds=round(time.time() - began, 1))
        results[workdir.rstrip('/')] = r  # the path: runs of one variant share basenames
        print(workdir, json.dumps(r), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    columns = judge.names + ('all',)
    print('| run | ' + ' | '.join(f'{c} held-in' for c in columns) + ' | '
          + ' | '.join(f'{c} held-out' for c in columns) + ' |')
    print('|---' * (1 + 2 * len(columns)) + '|')
    first = next(iter(results.values()))
    rows = [(name, r, '') for name, r in results.items()]
    if 'real_class_acc_heldin' in first:
        rows.append(('test images (ceiling)', first, 'real_'))
    for name, r, prefix in rows:
        cells = [f"{100 * r[f'{prefix}{c}_acc_{p}']:.1f}%" for p in ('heldin', 'heldout')
                 for c in columns]
        print(f'| {name} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
