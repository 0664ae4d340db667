"""sklearn's 8x8 handwritten digits, made MNIST-like: the offline fallback for MNIST.

``sklearn.datasets.load_digits`` ships with sklearn (1,797 images, values 0..16, no download).
Each image is scaled to 0..255, resized 8x8 -> 20x20 bilinearly and padded by 4 pixels on each
side to 28x28, like MNIST's 20x20 digits in a 28x28 frame. The first 1,500 images are the train
split and the remaining 297 the test split; everything is deterministic.
"""

from __future__ import annotations

import numpy as np

NUM_TRAIN = 1500
SOURCE = 'sklearn.datasets.load_digits (8x8, upscaled to 28x28)'


def bilinear_matrix(size_in: int, size_out: int) -> np.ndarray:
    """[size_out, size_in] weights of bilinear resizing (half-pixel centres, clamped edges)."""
    src = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5
    lo = np.floor(src).astype(int)
    frac = src - lo
    weights = np.zeros((size_out, size_in))
    rows = np.arange(size_out)
    np.add.at(weights, (rows, np.clip(lo, 0, size_in - 1)), 1.0 - frac)
    np.add.at(weights, (rows, np.clip(lo + 1, 0, size_in - 1)), frac)
    return weights


def mnist_like(raw: np.ndarray) -> np.ndarray:
    """Maps float [N,8,8] digits in 0..16 to uint8 [N,28,28,1] images in 0..255.

    Resizing is done in float64 numpy, so the result is the same on every machine.
    """
    x = np.asarray(raw, np.float64) * (255.0 / 16.0)
    w = bilinear_matrix(8, 20)
    x = np.einsum('ij,njk,lk->nil', w, x, w)
    x = np.pad(x, ((0, 0), (4, 4), (4, 4)))
    return np.clip(np.round(x), 0, 255).astype(np.uint8)[..., None]


def load_arrays(split: str) -> tuple[dict, dict]:
    """Returns ``(arrays, info)`` for the 'train' (1,500) or 'test' (297) split."""
    from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
    raw = load_digits()
    image, label = mnist_like(raw.images), np.asarray(raw.target, np.int32)
    part = slice(None, NUM_TRAIN) if split == 'train' else slice(NUM_TRAIN, None)
    arrays = {'image': image[part], 'label': label[part]}
    info = {
        'name': 'digits',
        'source': SOURCE,
        'split': split,
        'num_examples': int(arrays['image'].shape[0]),
        'num_classes': 10,
        'fallback': False,
        'shape': [28, 28, 1],
    }
    return arrays, info
