"""Input checks shared by LPIPS and domain LPIPS: each failure is one-line JaxgenError."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

TOLERANCE = 1e-3  # values up to 1e-3 outside [-1, 1] (rounding) are accepted


def check_pair(name: str, a, b, *, channels: tuple[int, ...], min_size: int | None = None,
               hint: str = '') -> None:
    """Shapes (NHWC, equal, ``channels``, at least ``min_size`` px) always; the value range
    when the arrays are concrete (under ``jax.jit`` it cannot be read and is not checked)."""
    for x in (a, b):
        if np.ndim(x) != 4:
            raise JaxgenError(f'{name} takes NHWC image batches [N, H, W, C]; got an array of '
                              f'shape {tuple(np.shape(x))}')
    if np.shape(a) != np.shape(b):
        raise JaxgenError(f'{name} compares pairs: the two batches must have one shape, got '
                          f'{tuple(np.shape(a))} and {tuple(np.shape(b))}')
    h, w, c = np.shape(a)[1:]
    if c not in channels:
        raise JaxgenError(f'{name} takes images with {" or ".join(map(str, channels))} '
                          f'channel(s) (NHWC), got {c} in shape {tuple(np.shape(a))}')
    if min_size is not None and min(h, w) < min_size:
        raise JaxgenError(f'{name} needs images of at least {min_size}x{min_size} px, got '
                          f'{h}x{w}{hint}')
    for x in (a, b):
        if isinstance(x, jax.core.Tracer):
            continue
        xp = jnp if isinstance(x, jax.Array) else np  # device arrays: reduced on device
        lo, hi = float(xp.min(x)), float(xp.max(x))
        if not (lo >= -1 - TOLERANCE and hi <= 1 + TOLERANCE):
            raise JaxgenError(f'{name} takes images in [-1, 1], got values in [{lo:.4g}, {hi:.4g}] '
                              f'(images in [0, 1]? map with x*2-1; in [0, 255]? x/127.5-1)')
