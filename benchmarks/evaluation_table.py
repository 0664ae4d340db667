"""The MNIST evaluation table: the floor (training images vs the test set) and models.

    python benchmarks/evaluation_table.py --out runs/eval_table --samples 10000 50000 \\
        --run DCGAN=runs/dcgan --run InfoGAN=runs/infogan --run VAE=runs/vae

Every row uses one protocol (``jaxgen/metrics/suite.py``): ``N`` images against
the 10,000 test images, in the domain classifier's features; FD, KID (100
subsets of 1,000), classifier score (10 splits), precision/recall (k = 3). The
floor row feeds ``N`` training images instead of samples (at most 60,000): what
a perfect generator would score at that ``N``. Writes ``results.json`` and
``table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import report  # noqa: E402
from jaxgen import data  # noqa: E402
from jaxgen.metrics import classifier, suite  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402

COLUMNS = ('fd', 'kid', 'classifier_score', 'precision', 'recall')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='runs/eval_table')
    parser.add_argument('--data', default='mnist')
    parser.add_argument('--samples', nargs='+', type=int, default=[10000])
    parser.add_argument('--run', action='append', default=[], metavar='NAME=WORKDIR')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    config = {'name': args.data, 'fallback': False}
    train, test = data.load(config, 'train'), data.load(config, 'test')
    extractor = classifier.for_config(config, test.name)
    real = suite.real_images(test.arrays, len(test.arrays['image']))
    rows = []
    for num in args.samples:
        start = time.time()
        floor = suite.compare(extractor, real, suite.real_images(train.arrays, num, args.seed),
                              jax.random.key(args.seed))
        rows.append({'name': 'floor (training images)', 'step': None, 'samples': num,
                     'seconds': round(time.time() - start, 1), **floor})
        print(json.dumps(rows[-1]), flush=True)
        for item in args.run:
            name, _, workdir = item.partition('=')
            exp, state, step = load(workdir)
            start = time.time()
            metrics = suite.model_metrics(exp.model, exp.variables(state), test.arrays,
                                          extractor, jax.random.key(args.seed), num)
            rows.append({'name': name, 'workdir': workdir, 'step': step, 'samples': num,
                         'ema': bool(state.ema), 'seconds': round(time.time() - start, 1),
                         **metrics})
            print(json.dumps(rows[-1]), flush=True)
    report.write_json(args.out, {'classifier': extractor.info, 'rows': rows})
    report.write_table(
        args.out, ['model', 'checkpoint step', 'N', 'FD', 'KID (± s.e.)', 'classifier score',
                   'precision', 'recall'],
        [[r['name'], r['step'] or '-', r['samples'], f"{r['fd']:.3f}",
          f"{r['kid']:.4f} ± {r['kid_error']:.4f}",
          f"{r['classifier_score']:.2f} ± {r['classifier_score_std']:.2f}",
          f"{r['precision']:.3f}", f"{r['recall']:.3f}"] for r in rows])


if __name__ == '__main__':
    main()
