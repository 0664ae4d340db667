"""A picture of each derived image dataset: ``docs/images/data_<name>.png``.

    python benchmarks/data_gallery.py [--out docs/images] [--cache_dir DIR] [--split train]

Loads every dataset through ``jaxgen.data.load`` (building and caching it if needed; MNIST
and Fashion-MNIST from ``JAXGEN_DATA_DIR``) and draws a few stored examples, the first of
each class: pairs side by side (edge map | image), unpaired domains as an a row over a b
row, colour MNIST in three rows, glyphs as fonts (rows) by characters (columns), and key
patches (``data_patches_mnist.png``: an image, then each of its 3 patches at its box).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen import data  # noqa: E402
from jaxgen.data.derived import patches as patches_lib  # noqa: E402
from jaxgen.visualisation.grid import labelled_grid, save_png  # noqa: E402

UINT8 = (0.0, 255.0)


def first_of_each(labels: np.ndarray, classes, per_class: int = 1) -> np.ndarray:
    """Row indices: the first ``per_class`` examples of each class, class-major."""
    return np.asarray([i for c in classes for i in np.flatnonzero(labels == c)[:per_class]])


def grey_to_rgb(images: np.ndarray) -> np.ndarray:
    return np.repeat(images, 3, -1) if images.shape[-1] == 1 else images


def paired(dataset) -> np.ndarray:
    arrays, info = dataset.arrays, dataset.info
    classes = sorted(set(arrays['label'].tolist()))
    rows = first_of_each(arrays['label'], classes, 2).reshape(len(classes), 2).T
    cells = np.concatenate([arrays['image_a'][rows], arrays['image_b'][rows]], axis=3)
    return labelled_grid(cells, col_labels=[info['class_names'][c] for c in classes],
                         title=f'{info["name"]}: edge map (a) | image (b)', value_range=UINT8)


def unpaired(dataset) -> np.ndarray:
    arrays, info = dataset.arrays, dataset.info
    cells = np.stack([arrays[f'image_{s}'][first_of_each(arrays[f'label_{s}'], range(10))]
                      for s in 'ab'])
    return labelled_grid(cells, row_labels=[f'a: {info["domain_names"][0]}',
                                            f'b: {info["domain_names"][1]}'],
                         col_labels=list(range(10)), title=f'{info["name"]} (unpaired)',
                         value_range=UINT8)


def by_class(dataset, rows: int = 2) -> np.ndarray:
    arrays, info = dataset.arrays, dataset.info
    index = first_of_each(arrays['label'], range(10), rows).reshape(10, rows).T
    names = info.get('class_names') or [str(c) for c in range(10)]
    title = f'{info["name"]} {"x".join(map(str, info["shape"]))}'
    return labelled_grid(arrays['image'][index], col_labels=names, title=title,
                         value_range=UINT8, cell_px=64 if max(map(len, names)) > 2 else 40)


def glyph_grid(dataset) -> np.ndarray:
    arrays, info = dataset.arrays, dataset.info
    fonts, chars = info['domain_names'], info['class_names']
    index = np.full((len(fonts), len(chars)), -1)
    for i in range(len(arrays['label']) - 1, -1, -1):  # the first example of each pair
        index[arrays['domain'][i], arrays['label'][i]] = i
    return labelled_grid(arrays['image'][index], row_labels=fonts, col_labels=chars,
                         title='glyphs: font (domain) x character (class)',
                         value_range=UINT8, cell_px=28)


def patch_grid(dataset, num: int = 3, size: int = 14) -> np.ndarray:
    arrays = patches_lib.add_patches(
        {'image': dataset.arrays['image'][first_of_each(dataset.arrays['label'], range(8))]},
        num, size, seed=0)
    image, boxes = arrays['image'], arrays['boxes']
    cells = [grey_to_rgb(image)]
    for p in range(num):
        canvas = np.full(image.shape[:3] + (3,), 64, np.uint8)
        for i, (t, l, h, w) in enumerate(boxes[:, p]):
            canvas[i, t:t + h, l:l + w] = grey_to_rgb(arrays['patches'][i, p])
        cells.append(canvas)
    return labelled_grid(np.stack(cells, 1), col_labels=['image'] + [
        f'patch {p + 1}' for p in range(num)],
        title=f'{num} key patches, {size} px', value_range=UINT8)


PICTURES = {
    'edges2fashion': paired, 'edges2mnist': paired, 'mnist2digits': unpaired,
    'mnist32': by_class, 'fashion_mnist32': by_class,
    'colour_mnist': lambda d: by_class(d, rows=3), 'glyphs': glyph_grid,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='docs/images')
    parser.add_argument('--cache_dir', default=None)
    parser.add_argument('--split', default='train', choices=('train', 'test'))
    parser.add_argument('--only', nargs='*', default=None, help='dataset names to draw')
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, picture in PICTURES.items():
        if args.only and name not in args.only:
            continue
        dataset = data.load({'name': name, 'cache_dir': args.cache_dir}, args.split)
        save_png(os.path.join(args.out, f'data_{name}.png'), picture(dataset))
        print('wrote', f'data_{name}.png', flush=True)
    if not args.only or 'patches' in args.only:
        dataset = data.load({'name': 'mnist', 'cache_dir': args.cache_dir}, args.split)
        save_png(os.path.join(args.out, 'data_patches_mnist.png'), patch_grid(dataset))
        print('wrote data_patches_mnist.png')


if __name__ == '__main__':
    main()
