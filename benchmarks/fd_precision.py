"""jaxgen's float32 on-device Fréchet distance against float64 SciPy on real features.

    JAXGEN_DATA_DIR=<data> python benchmarks/fd_precision.py --out runs/fd_precision

The floor of the MNIST table (N training images against the 10,000 test images,
in the domain classifier's 256-d features) is the hardest case for float32: a
small distance beside traces near 700, and half of the covariance's eigenvalues
below 1e-3 of the largest. Writes ``results.json`` and ``table.md``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import report  # noqa: E402
from jaxgen import data  # noqa: E402
from jaxgen.metrics import classifier, distances, suite  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='runs/fd_precision')
    parser.add_argument('--samples', nargs='+', type=int, default=[10000, 50000])
    args = parser.parse_args()
    config = {'name': 'mnist', 'fallback': False}
    train, test = data.load(config, 'train'), data.load(config, 'test')
    extractor = classifier.for_config(config, test.name)
    real = extractor.features(suite.real_images(test.arrays, len(test.arrays['image'])))
    spectrum = np.linalg.eigvalsh(np.cov(np.float64(real), rowvar=False))
    rows = []
    for num in args.samples:
        fake = extractor.features(suite.real_images(train.arrays, num, 0))
        ours = distances.frechet_distance(
            distances.gaussian_stats(np.array_split(real, 40)),
            distances.gaussian_stats(np.array_split(fake, max(1, num // 250))))
        reference = distances.frechet_distance_scipy(real, fake)
        rows.append({'samples': num, 'jaxgen_float32': ours, 'scipy_float64': reference,
                     'relative_error': abs(ours - reference) / reference})
    report.write_json(args.out, {'trace': float(spectrum.sum()),
                                 'small_eigenvalues': int((spectrum < 1e-3 * spectrum.max()).sum()),
                                 'rows': rows})
    report.write_table(args.out, ['N', 'jaxgen float32', 'SciPy float64', 'relative error'],
                       [[r['samples'], f"{r['jaxgen_float32']:.4f}", f"{r['scipy_float64']:.4f}",
                         f"{r['relative_error']:.1e}"] for r in rows])


if __name__ == '__main__':
    main()
