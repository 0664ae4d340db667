"""Bringing stored uint8 images to one size and channel count, deterministically.

* **Resize** (``resize``, an int: square ``resize x resize``; 0 keeps the size): Pillow's
  bilinear filter, which widens its support when shrinking (antialiased), so the result
  depends only on the pixels. Images that are not square are stretched, not cropped.
* **Channels** (``channels``: 1 or 3; 0 keeps them): greyscale is replicated to 3 channels;
  colour becomes 1 channel by ITU-R 601 luminance with Pillow's integer weights
  (``(19595 R + 38470 G + 7471 B + 2**15) >> 16``); an alpha channel is dropped.

:func:`shape_fields` applies both to whole arrays of named fields (``image``, ``image_a``,
``image_b``; ``patches`` ``[N, P, h, w, C]`` get the channel conversion only);
:func:`shape_image` does it to one ``[H, W, C]`` image, for loaders that read images of
differing native sizes one at a time.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
from PIL import Image

from jaxgen.errors import JaxgenError

CHANNELS = (0, 1, 3)
LUMA = np.array([19595, 38470, 7471], np.uint32)  # Pillow's convert('L') weights, / 2**16
RESIZED_FIELDS = ('image', 'image_a', 'image_b')
BILINEAR = Image.Resampling.BILINEAR


def check(resize, channels) -> tuple[int, int]:
    """``(resize, channels)`` as ints, or a one-line error naming the setting."""
    if isinstance(resize, bool) or not isinstance(resize, int) or resize < 0:
        raise JaxgenError(f'config.data.resize={resize!r}; use a positive image size in pixels '
                          f'(e.g. 64), or 0 to keep the stored size')
    if channels not in CHANNELS or isinstance(channels, bool):
        raise JaxgenError(f'config.data.channels={channels!r}; use 1 (greyscale), 3 (colour) '
                          f'or 0 to keep the stored channels')
    return int(resize), int(channels)


def convert_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """uint8 ``[..., C]`` (C = 1, 2, 3 or 4) to ``[..., channels]``; 0 keeps them."""
    x = np.asarray(x)
    c = x.shape[-1]
    if c in (2, 4):  # drop alpha: greyscale+alpha, RGBA
        x, c = x[..., :c - 1], c - 1
    if c not in (1, 3):
        raise JaxgenError(f'images with {x.shape[-1]} channels cannot be converted; '
                          f'store greyscale (1), RGB (3) or RGBA (4) images')
    if not channels or channels == c:
        return np.ascontiguousarray(x)
    if channels == 3:
        return np.repeat(x, 3, axis=-1)
    luma = (x.astype(np.uint32) * LUMA).sum(-1, keepdims=True) + (1 << 15)
    return (luma >> 16).astype(np.uint8)


def shape_image(x: np.ndarray, resize: int = 0, channels: int = 0) -> np.ndarray:
    """One uint8 ``[H, W, C]`` image resized to ``resize x resize`` and converted to
    ``channels`` (0: keep either)."""
    x = convert_channels(x, channels)
    if not resize or x.shape[:2] == (resize, resize):
        return x
    if x.shape[-1] == 1:
        out = Image.fromarray(x[..., 0]).resize((resize, resize), BILINEAR)
        return np.asarray(out, np.uint8)[..., None]
    out = Image.fromarray(x).resize((resize, resize), BILINEAR)
    return np.asarray(out, np.uint8)


def shape_fields(arrays: Mapping[str, np.ndarray], fields: Iterable[str], resize: int = 0,
                 channels: int = 0) -> dict:
    """``arrays`` with each of ``fields`` present brought to ``resize`` and ``channels``.

    Image fields are uint8 ``[N, H, W, C]``; ``patches`` (``[N, P, h, w, C]``) keep their
    size and only change channels. Other fields are returned as they are. Arrays already at
    the asked size and channels are returned unchanged (no copy).
    """
    resize, channels = check(resize or 0, channels or 0)
    out = dict(arrays)
    for field in fields:
        if field not in arrays:
            continue
        x = np.asarray(arrays[field])
        if field not in RESIZED_FIELDS:
            out[field] = convert_channels(x, channels)
            continue
        if x.ndim != 4:
            raise JaxgenError(f'field {field!r} has shape {x.shape}; images must be stored '
                              f'as uint8 [N, H, W, C]')
        same_size = not resize or x.shape[1:3] == (resize, resize)
        if same_size and (not channels or x.shape[-1] == channels):
            continue
        if same_size:
            out[field] = convert_channels(x, channels)
        else:
            out[field] = np.stack([shape_image(image, resize, channels) for image in x]) \
                if len(x) else np.zeros((0, resize, resize, channels or x.shape[-1]), np.uint8)
    return out
