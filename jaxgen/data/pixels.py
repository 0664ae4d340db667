"""Pixel conventions shared by loaders, models and metrics: uint8 in storage,
float32 in [-1, 1] (``'tanh'``) or [0, 1] (``'unit'``) in the step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

SCALES = ('tanh', 'unit')
BINARIZE = ('dynamic', 'static')


# The float32 value of each uint8 pixel, correctly rounded once on the host. A lookup
# does no arithmetic, so every program gets the same bits: XLA divides by multiplying
# with a rounded reciprocal in some fusions and not in others, so ``x / 127.5 - 1``
# differed in the last bit between the streamed and the on-device draw of one batch.
_LEVELS = np.arange(256, dtype=np.float64)
_TABLES = {'tanh': (_LEVELS / 127.5 - 1.0).astype(np.float32),
           'unit': (_LEVELS / 255.0).astype(np.float32)}


def scale_images(images: jax.Array, scale: str = 'tanh') -> jax.Array:
    """uint8 pixels to float32 in [-1, 1] (``'tanh'``) or [0, 1] (``'unit'``), the same
    bits in every program; other dtypes are read as pixel levels in [0, 255]."""
    images = jnp.asarray(images)
    if images.dtype == jnp.uint8:
        return jnp.asarray(_TABLES[scale])[images.astype(jnp.int32)]
    x = images.astype(jnp.float32)
    # Clipped because XLA may divide by multiplying with a rounded reciprocal.
    if scale == 'tanh':
        return jnp.clip(x / 127.5 - 1.0, -1.0, 1.0)
    return jnp.clip(x / 255.0, 0.0, 1.0)


def as_tanh(images, scale: str | None):
    """Images in the data's ``scale`` mapped to [-1, 1], where every metric and picture
    of generated images reads them: ``'unit'`` [0, 1] doubles and shifts; anything else is
    already [-1, 1] (works on numpy and jax arrays alike)."""
    return images * 2.0 - 1.0 if scale == 'unit' else images


def check_scale(scale: str) -> None:
    if scale not in SCALES:
        raise JaxgenError(
            f'unknown data scale {scale!r}; set config.data.scale to one of {SCALES}')


def check_binarize(scale: str, binarize: str | None) -> None:
    if binarize and (binarize not in BINARIZE or scale != 'unit'):
        raise JaxgenError(f'config.data.binarize={binarize!r} needs one of {BINARIZE} and '
                          f"config.data.scale='unit' (got scale={scale!r})")


def binarize_static(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """One fixed Bernoulli draw per pixel (p = intensity), as uint8 0/255."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(images.shape) < images / 255.0, 255, 0).astype(np.uint8)
