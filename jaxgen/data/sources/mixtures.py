"""2-D Gaussian mixtures: 'ring' (modes on a circle) and 'grid' (5x5 modes).

The data are infinite: every call of :func:`draw` samples fresh points.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

NAMES = ('ring', 'grid')
DEFAULT_STD = {'ring': 0.02, 'grid': 0.05}
GRID_SIDE = 5


def mixture_centers(name: str, radius: float = 2.0, num_modes: int = 8) -> np.ndarray:
    """Mode centres, float32 [K, 2].

    'ring': ``num_modes`` points equally spaced on the circle of ``radius``, the first at angle 0.
    'grid': 25 points on a 5x5 grid centred at 0 whose neighbours are ``radius`` apart
    (``num_modes`` is ignored).
    """
    if name == 'ring':
        angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
        centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    elif name == 'grid':
        coords = (np.arange(GRID_SIDE) - (GRID_SIDE - 1) / 2) * radius
        xs, ys = np.meshgrid(coords, coords, indexing='ij')
        centers = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    else:
        raise JaxgenError(f'unknown mixture {name!r}; set config.data.name to one of {NAMES}')
    return centers.astype(np.float32)


def draw(arrays: dict, key: jax.Array, step: jax.Array, batch_size: int) -> dict:
    """Samples ``{'x': float32 [batch_size, 2]}``: a uniform mode plus isotropic Gaussian noise.

    Same calling convention as the image datasets: ``key`` is a data key that stays constant
    across steps, and the per-step key is ``fold_in(key, step)``, so the result is determined
    by ``(key, step)`` and differs from step to step. jit-compatible with ``batch_size`` static.
    """
    centers, std = jnp.asarray(arrays['centers']), jnp.asarray(arrays['std'])
    k_mode, k_noise = jax.random.split(jax.random.fold_in(key, jnp.asarray(step, jnp.int32)))
    mode = jax.random.randint(k_mode, (batch_size,), 0, centers.shape[0])
    noise = jax.random.normal(k_noise, (batch_size, 2), jnp.float32)
    return {'x': centers[mode] + std * noise}


def load_arrays(name: str, radius: float, std: float | None,
                num_modes: int) -> tuple[dict, dict]:
    """Returns ``(arrays, info)``; ``std=None`` means the mixture's default."""
    std = DEFAULT_STD[name] if std is None else float(std)
    if not radius > 0 or not std > 0:
        raise JaxgenError(
            f'mixture radius and std must be positive (got radius={radius}, std={std}); '
            f'set config.data.mixture.radius and .std to positive numbers')
    if name == 'ring' and (int(num_modes) != num_modes or num_modes < 1):
        raise JaxgenError(
            f'ring num_modes must be a positive integer (got {num_modes}); '
            f'set config.data.mixture.num_modes to e.g. 8')
    centers = mixture_centers(name, float(radius), int(num_modes))
    arrays = {'centers': centers, 'std': np.asarray(std, np.float32)}
    info = {
        'name': name,
        'source': f'synthetic 2-D Gaussian mixture ({name})',
        'num_examples': None,
        'fallback': False,
        'shape': [2],
        'centers': centers.tolist(),
        'std': std,
        'radius': float(radius),
        'num_modes': int(centers.shape[0]),
    }
    return arrays, info
