"""Learning curves of the autoregressive reproductions (issue 32): test NLL (from each
workdir's ``eval.jsonl`` and any ``evaluation_<step>.json``) against images seen, with the
published figures as lines; prints a markdown table with the last logged train NLL
(TensorBoard).

    python benchmarks/autoregressive_curves.py --out docs/images/autoregressive_curves.png \\
        nade=runs/ar/nade pixelcnn=runs/ar/pixelcnn row_lstm=runs/ar/rowlstm \\
        diagonal_bilstm_1x32=runs/ar/bilstm1
"""

from __future__ import annotations

import argparse
import glob
import json
import os

from jaxgen.logging.writer import read_scalars
from jaxgen.visualisation.curves import plot_curves
from jaxgen.visualisation.grid import save_png

# Binarised-MNIST test NLL in nats: the PixelRNN paper's Table 4 (van den Oord et al.,
# 2016), as ../shared/GUIDE.md §6 quotes it; NADE also 88.86 in its own paper.
PUBLISHED = {'nade': 88.33, 'pixelcnn': 81.30, 'row_lstm': 80.54,
             'diagonal_bilstm_1x32': 80.75, 'diagonal_bilstm_7x16': 79.20}


def test_points(workdir: str) -> list[tuple[int, float]]:
    """(step, test NLL in nats) from the trainer's evaluations and ``jaxgen.evaluate``'s."""
    points = {}
    path = os.path.join(workdir, 'eval.jsonl')
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                points[record['step']] = record['nll_nats']
    for path in glob.glob(os.path.join(workdir, 'evaluation_*.json')):
        with open(path) as f:
            record = json.load(f)
        if 'nll_nats' in record and not path.endswith('_raw.json'):
            points[record['step']] = record['nll_nats']
    return sorted(points.items())


def batch_size(workdir: str) -> int:
    with open(os.path.join(workdir, 'config.json')) as f:
        return int(json.load(f)['config']['batch_size'])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='name=workdir; name a key of PUBLISHED '
                        '(a suffix after # is a label: nade#seed1=runs/nade_seed1)')
    parser.add_argument('--out', required=True, help='PNG path')
    args = parser.parse_args()
    series, lines = {}, {}
    print('| model | images seen (k) | steps | train NLL (last 500 steps) | test NLL | '
          'published | gap |')
    print('|---|---|---|---|---|---|---|')
    for run in args.runs:
        label, workdir = run.split('=', 1)
        name = label.split('#')[0]
        batch = batch_size(workdir)
        test = test_points(workdir)
        train = read_scalars(os.path.join(workdir, 'tensorboard')).get('nll', [])
        series[label] = [(s * batch / 1000, v) for s, v in test]
        lines[f'{name}, published: {PUBLISHED[name]}'] = PUBLISHED[name]
        if test:
            step, value = test[-1]
            last_train = f'{train[-1][1]:.2f}' if train else '—'
            print(f'| {label} | {step * batch / 1000:.0f} | {step} | {last_train} | '
                  f'{value:.2f} | {PUBLISHED[name]} | {value - PUBLISHED[name]:+.2f} |')
    image = plot_curves(series, title='binarised MNIST: test NLL against images seen',
                        hlines=lines, xlabel='thousands of images seen (log scale)',
                        ylabel='nats', logx=True, markers=True,
                        legend_outside=True, size_in=(10.0, 4.5))
    save_png(args.out, image)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
