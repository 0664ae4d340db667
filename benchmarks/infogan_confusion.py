"""Where an InfoGAN checkpoint's categorical-code accuracy goes, category by category.

    JAXGEN_DATA_DIR=<data> python benchmarks/infogan_confusion.py --workdir runs/infogan_u1

Classifies the test images by Q's most likely category (the model's own
``categories``), matches categories to labels one-to-one (Hungarian), and
prints each category's matched label with its count and the other labels it
takes more than ``--min`` images of. Writes ``confusion.json`` into the workdir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen import data  # noqa: E402
from jaxgen.metrics.codes import hungarian_matching  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--min', type=int, default=50)
    args = parser.parse_args()
    exp, state, step = load(args.workdir)
    test = data.load(exp.config.data, 'test')
    variables, images = exp.variables(state), test.arrays['image']
    predicted = np.concatenate([np.asarray(exp.model.categories(variables, images[i:i + 1000]))
                                for i in range(0, len(images), 1000)])
    counts, mapping = hungarian_matching(predicted, test.arrays['label'])
    accuracy = sum(counts[c, l] for c, l in mapping.items()) / counts.sum()
    print(f'step {step}: accuracy {accuracy:.4f}')
    rows = []
    for c, label in sorted(mapping.items()):
        others = {int(l): int(n) for l, n in enumerate(counts[c]) if l != label and n > args.min}
        rows.append({'category': c, 'label': label, 'count': int(counts[c, label]),
                     'others': others})
        print(f'category {c} -> {label} ({counts[c, label]})',
              ', '.join(f'{l}: {n}' for l, n in others.items()))
    with open(os.path.join(args.workdir, 'confusion.json'), 'w') as f:
        json.dump({'step': step, 'accuracy': float(accuracy), 'rows': rows}, f, indent=2)


if __name__ == '__main__':
    main()
