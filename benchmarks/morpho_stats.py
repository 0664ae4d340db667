"""Morpho-MNIST on the MNIST test set: the morphometrics' means and standard deviations,
the effect of each perturbation, and a picture of each perturbation.

    python benchmarks/morpho_stats.py [--fresh] [--effects 500] [--rows 6]
        [--image docs/images/morpho_perturbations.png] [--json PATH]

Builds (or reads from the cache) ``morpho_mnist``'s test split (10k images, MNIST from
``JAXGEN_DATA_DIR``); ``--fresh`` builds it again in a temporary cache to time the build
(2 worker processes). Prints a markdown table: each morphometric's mean and standard
deviation, and the reference digit (MNIST train image 0) measured here beside the values
Castro et al. publish for it (dccastro/Morpho-MNIST, tests/test_measure.py, from their
released original/train-morpho.csv). The paper and repository publish no per-metric means
or standard deviations of the MNIST test set (its Figure shows distributions as plots only),
so there is no published mean to put beside ours. ``--effects N`` perturbs the first N test
images with every perturbation and prints the mean morphometrics after each. The picture:
rows = test images, columns = original / thin / thick / swell / fracture.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen.data import base_arrays  # noqa: E402
from jaxgen.data.derived import morpho, morpho_sets  # noqa: E402
from jaxgen.visualisation.grid import labelled_grid, save_png  # noqa: E402

# Published morphometrics of MNIST train image 0 (Morpho-MNIST's tests/test_measure.py).
PUBLISHED_TRAIN_0 = dict(area=107.3125, length=50.26650429449552,
                         thickness=2.4606583773939543, slant=0.23107446620980754,
                         width=14.539571782767355, height=19.849053691610763)
UNITS = dict(area='px²', length='px', thickness='px', slant='rad', width='px', height='px')


def stats_table(attributes: np.ndarray, reference: np.ndarray) -> str:
    lines = ['| morphometric | mean | std | train image 0, here | train image 0, published |',
             '|---|---|---|---|---|']
    for i, name in enumerate(morpho.ATTRIBUTE_NAMES):
        column = attributes[:, i].astype(np.float64)
        lines.append(f'| {name} ({UNITS[name]}) | {column.mean():.3f} | {column.std():.3f} | '
                     f'{reference[i]:.3f} | {PUBLISHED_TRAIN_0[name]:.3f} |')
    return '\n'.join(lines)


def effects_table(images: np.ndarray, processes: int) -> tuple[str, dict]:
    lines = ['| perturbation | ' + ' | '.join(morpho.ATTRIBUTE_NAMES) + ' |',
             '|---' * (len(morpho.ATTRIBUTE_NAMES) + 1) + '|']
    means = {}
    for k, kind in enumerate(morpho.PERTURBATIONS):
        kinds = np.full(len(images), k)
        _, measured = morpho_sets.perturb_batch(images, kinds, (0, 1), processes)
        means[kind] = measured.mean(0).astype(np.float64).tolist()
        lines.append(f'| {kind} | ' + ' | '.join(f'{v:.3f}' for v in means[kind]) + ' |')
    return '\n'.join(lines), means


def picture(images: np.ndarray, labels: np.ndarray, path: str) -> None:
    cells = [[image[..., 0]] + [morpho.perturb(image, kind, morpho.image_rng((0, 1), i))
                                for kind in morpho.PERTURBATIONS[1:]]
             for i, image in enumerate(images)]
    grid = np.asarray(cells, np.float32)[..., None] / 255.0
    array = labelled_grid(grid, row_labels=[str(int(l)) for l in labels],
                          col_labels=['original', 'thin', 'thick', 'swell', 'fracture'],
                          title='Morpho-MNIST perturbations (MNIST test images)',
                          value_range=(0.0, 1.0), cell_px=72)
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    save_png(path, array)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--fresh', action='store_true', help='rebuild in a temp cache, timed')
    parser.add_argument('--effects', type=int, default=500)
    parser.add_argument('--rows', type=int, default=6)
    parser.add_argument('--processes', type=int, default=morpho_sets.PROCESSES)
    parser.add_argument('--image', default='docs/images/morpho_perturbations.png')
    parser.add_argument('--json', default=None, help='also write the figures here')
    args = parser.parse_args()

    config = {}
    base = base_arrays(config)
    start = time.perf_counter()
    if args.fresh:
        with tempfile.TemporaryDirectory() as tmp:
            arrays, info = morpho_sets.morpho_mnist({'cache_dir': tmp}, 'test', base,
                                                    processes=args.processes)
    else:
        arrays, info = morpho_sets.morpho_mnist(config, 'test', base, processes=args.processes)
    wall = time.perf_counter() - start
    train = base('mnist', 'train')['image']
    # MNIST train image 0 is row 34387 of the train split as jaxgen (TFDS) orders it.
    ref_image = train[34387]
    reference = morpho.measure(ref_image)

    print(f'# Morpho-MNIST, MNIST test set ({len(arrays["label"])} images)\n')
    print(f'host: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; '
          f'date: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}')
    print(f'morpho_mnist test split: {"built" if args.fresh else "loaded"} in {wall:.1f} s '
          f'(build recorded in its info: {info.get("build_seconds")} s, '
          f'{info.get("processes")} processes)\n')
    print(stats_table(arrays['attributes'], reference) + '\n')
    result = {'num_images': int(len(arrays['label'])), 'wall_s': wall,
              'build_seconds': info.get('build_seconds'),
              'mean': arrays['attributes'].astype(np.float64).mean(0).tolist(),
              'std': arrays['attributes'].astype(np.float64).std(0).tolist(),
              'reference_here': reference.tolist(), 'reference_published': PUBLISHED_TRAIN_0}
    if args.effects:
        start = time.perf_counter()
        table, result['effects'] = effects_table(arrays['image'][:args.effects], args.processes)
        print(f'Mean morphometrics of the first {args.effects} test images after each '
              f'perturbation ({time.perf_counter() - start:.1f} s):\n\n{table}\n')
    rows = np.asarray([np.flatnonzero(arrays['label'] == c)[0] for c in range(args.rows)])
    picture(arrays['image'][rows], arrays['label'][rows], args.image)
    print(f'picture: {args.image}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
