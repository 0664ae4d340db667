"""32x32 and colour versions of MNIST and Fashion-MNIST, for models that need powers of two
or three channels.

* ``mnist32`` / ``fashion_mnist32``: each 28x28 image padded with 2 black pixels on every
  side (the LeNet-5 / DCGAN-on-MNIST convention), so the 28x28 content is unchanged.
* ``colour_mnist``: ``mnist32`` in RGB. Each image draws a digit colour and a different
  background colour from :data:`PALETTE` (uniformly among the ordered pairs of distinct
  colours, ``numpy.random.default_rng([SEED, split])``) and is rendered as
  ``background * (1 - a) + digit * a`` with ``a`` the MNIST intensity / 255. ``attributes``
  are **one-hot**, float32 ``[N, 2K]``: the first K columns the digit colour
  (``digit_<colour>``), the last K the background colour (``background_<colour>``), named
  in ``info['attribute_names']``; the indices are ``argmax`` of each half
  (``info['attribute_groups']``). ``label`` is the digit.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from jaxgen.data.derived import cache
from jaxgen.data.derived.edges import FASHION_CLASSES

PAD = 2
SEED = 0
# name -> RGB; an index into this order is a colour's attribute.
PALETTE: dict[str, tuple[int, int, int]] = {
    'black': (0, 0, 0), 'white': (255, 255, 255), 'red': (230, 25, 25),
    'green': (30, 170, 60), 'blue': (30, 60, 230), 'yellow': (250, 220, 30),
    'magenta': (220, 40, 200), 'cyan': (40, 210, 230),
}
DIGITS = [str(d) for d in range(10)]
SPLIT_INDEX = {'train': 0, 'test': 1}


def pad32(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, 28, 28, C]`` -> ``[N, 32, 32, C]``, 2 zero pixels on every side."""
    return np.pad(np.asarray(images), ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))


def _info(name: str, base_name: str, split: str, arrays: dict, recipe: str,
          parameters: dict, seed: int | None) -> dict:
    return {'name': name, 'kind': 'images', 'split': split, 'source': f'{base_name} ({split})',
            'recipe': recipe, 'parameters': parameters, 'seed': seed,
            'num_examples': int(arrays['label'].shape[0]), 'num_classes': 10,
            'class_names': list(FASHION_CLASSES if base_name == 'fashion_mnist' else DIGITS),
            'shape': list(arrays['image'].shape[1:])}


def _padded(config: Any, name: str, base_name: str, split: str, base: Callable):
    def build():
        raw = base(base_name, split)
        arrays = {'image': pad32(raw['image']), 'label': np.asarray(raw['label'], np.int32)}
        return arrays, _info(name, base_name, split, arrays, 'padded by 2 px on each side',
                             {'pad': PAD}, None)
    return cache.cached(cache.cache_dir_of(config), name, split, build)


def mnist32(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """MNIST padded to 32x32x1."""
    return _padded(config, 'mnist32', 'mnist', split, base)


def fashion_mnist32(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """Fashion-MNIST padded to 32x32x1."""
    return _padded(config, 'fashion_mnist32', 'fashion_mnist', split, base)


def draw_colours(n: int, seed: int, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(digit, background) palette indices of ``n`` images, never equal."""
    rng = np.random.default_rng([seed, SPLIT_INDEX[split]])
    k = len(PALETTE)
    digit = rng.integers(0, k, n)
    background = (digit + rng.integers(1, k, n)) % k  # any colour but the digit's
    return digit.astype(np.int32), background.astype(np.int32)


def colourise(images: np.ndarray, digit: np.ndarray, background: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W, 1]`` intensities -> uint8 ``[N, H, W, 3]`` in the given colours,
    through a table of ``round(bg + (fg - bg) * a / 255)`` for every colour pair and a."""
    rgb = np.asarray(list(PALETTE.values()), np.float64)
    alpha = np.arange(256)[:, None] / 255.0
    table = np.clip(np.rint(rgb[None, :, None] + (rgb[:, None, None] - rgb[None, :, None])
                            * alpha), 0, 255).astype(np.uint8)  # [digit, background, a, 3]
    return table[digit[:, None, None], background[:, None, None], np.asarray(images)[..., 0]]


def colour_arrays(raw: dict, seed: int, split: str) -> dict:
    image = pad32(raw['image'])
    digit, background = draw_colours(image.shape[0], seed, split)
    k = len(PALETTE)
    attributes = np.zeros((image.shape[0], 2 * k), np.float32)
    rows = np.arange(image.shape[0])
    attributes[rows, digit] = 1.0
    attributes[rows, k + background] = 1.0
    return {'image': colourise(image, digit, background),
            'label': np.asarray(raw['label'], np.int32), 'attributes': attributes}


def colour_mnist(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """MNIST at 32x32x3 in a random digit colour on a different random background."""
    def build():
        arrays = colour_arrays(base('mnist', split), SEED, split)
        info = _info('colour_mnist', 'mnist', split, arrays,
                     'mnist32 coloured: background*(1-a) + digit*a, a = intensity/255; '
                     'digit and background colours drawn uniformly among distinct pairs',
                     {'pad': PAD, 'palette': {c: list(v) for c, v in PALETTE.items()},
                      'rng': 'numpy.random.default_rng([seed, 0 train / 1 test])'}, SEED)
        names = list(PALETTE)
        info.update(
            attribute_names=[f'digit_{c}' for c in names] + [f'background_{c}' for c in names],
            attribute_groups={'digit_colour': list(range(len(names))),
                              'background_colour': list(range(len(names), 2 * len(names)))},
            attribute_encoding='one-hot per group')
        return arrays, info
    return cache.cached(cache.cache_dir_of(config), 'colour_mnist', split, build)
