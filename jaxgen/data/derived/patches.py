"""Key patches: random square crops of each image and their boxes, for part-to-whole
generation (Puzzle-GAN / KeyPatchGAN, Lee et al. 2017, which gives the generator 3 key
patches of each image).

:func:`add_patches` adds ``patches`` uint8 ``[N, P, size, size, C]`` and ``boxes`` int32
``[N, P, 4]`` (top, left, height, width) to the arrays of any image dataset. Crops are
biased towards content: each image's ``P`` boxes are drawn among all positions without
replacement, with probability proportional to the box's *content* (Gumbel top-k), the sum
over the box of ``|pixel - the image's per-channel median|``: ink on MNIST's black, dark
edges on white, the digit on colour MNIST's background. So a box is empty only when fewer
than ``P`` boxes hold any content (an empty image gets uniform boxes), and boxes with more
ink are likelier. Everything is a function of ``seed`` (``numpy.random.default_rng``), so
it is deterministic.
"""

from __future__ import annotations

import numpy as np

from jaxgen.errors import JaxgenError

EMPTY = 1e-9  # relative weight of a box without content
CHUNK = 4096  # images per step of the content sums, to bound memory


def _check(arrays: dict, field: str, num: int, size: int) -> np.ndarray:
    if field not in arrays:
        raise JaxgenError(f'key patches need an image field {field!r}, but the dataset has '
                          f'{sorted(arrays)}; set the patch field to one of its image fields')
    images = np.asarray(arrays[field])
    if images.ndim != 4:
        raise JaxgenError(f'key patches need images [N, H, W, C], got {field} of shape '
                          f'{images.shape}; use an image dataset')
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise JaxgenError(f'number of key patches {num!r} must be a positive integer; set '
                          f'config.data.patches to e.g. 3')
    h, w = images.shape[1:3]
    integer = isinstance(size, (int, np.integer)) and not isinstance(size, bool)
    if not integer or not 0 < size <= min(h, w):
        raise JaxgenError(f'patch size {size!r} does not fit the {h}x{w} images; set '
                          f'config.data.patch_size to an integer from 1 to {min(h, w)}')
    return images


def content_sums(images: np.ndarray, size: int) -> np.ndarray:
    """``[N, H-size+1, W-size+1]`` content of every ``size``x``size`` box (int64)."""
    x = np.asarray(images).astype(np.int32)
    median = np.median(x, axis=(1, 2), keepdims=True).astype(np.int32)
    table = np.pad(np.abs(x - median).sum(-1).astype(np.int64).cumsum(1).cumsum(2),
                   ((0, 0), (1, 0), (1, 0)))
    return (table[:, size:, size:] - table[:, :-size, size:]
            - table[:, size:, :-size] + table[:, :-size, :-size])


def choose_boxes(images: np.ndarray, num: int, size: int, seed: int) -> np.ndarray:
    """int32 ``[N, num, 4]`` boxes (top, left, size, size), drawn without replacement with
    probability proportional to their content (Gumbel top-k), the likeliest first."""
    n, h, w = images.shape[:3]
    positions = (h - size + 1) * (w - size + 1)
    if num > positions:
        raise JaxgenError(f'{num} key patches of {size} px do not fit {positions} positions '
                          f'of the {h}x{w} images; lower config.data.patches or patch_size')
    rng = np.random.default_rng(seed)
    best = []
    for start in range(0, n, CHUNK):  # bounded memory; the same draws for any N
        content = content_sums(images[start:start + CHUNK], size)
        content = content.reshape(len(content), positions).astype(np.float64)
        # Empty boxes keep a tiny weight: drawn only when too few boxes hold content.
        keys = np.log(content + EMPTY * (1.0 + content.max(1, keepdims=True)))
        keys += rng.gumbel(size=keys.shape)
        top = np.argpartition(-keys, num - 1, axis=1)[:, :num]
        order = np.argsort(-np.take_along_axis(keys, top, 1), axis=1, kind='stable')
        best.append(np.take_along_axis(top, order, 1))
    best = np.concatenate(best)
    boxes = np.empty((n, num, 4), np.int32)
    boxes[..., 0], boxes[..., 1] = np.divmod(best, w - size + 1)
    boxes[..., 2:] = size
    return boxes


def crop(images: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """uint8 ``[N, P, h, w, C]``: the pixels of ``images`` under each (equal-sized) box."""
    h, w = int(boxes[0, 0, 2]), int(boxes[0, 0, 3])
    rows = boxes[..., 0, None] + np.arange(h)  # [N, P, h]
    cols = boxes[..., 1, None] + np.arange(w)  # [N, P, w]
    n = np.arange(images.shape[0])[:, None, None, None]
    return images[n, rows[..., :, None], cols[..., None, :]]


def add_patches(arrays: dict, num: int, size: int, seed: int = 0,
                field: str = 'image') -> dict:
    """``arrays`` with ``patches`` and ``boxes`` of ``num`` key patches of ``size`` pixels
    cropped from ``arrays[field]``; the input is not modified."""
    images = _check(arrays, field, num, size)
    boxes = choose_boxes(images, int(num), int(size), seed)
    return {**arrays, 'patches': crop(images, boxes), 'boxes': boxes}
