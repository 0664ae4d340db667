"""Differentiable random affine transforms of images: rotation, scaling, shift.

Used by InfoGAN's invariant information term (``model.augment``): Q must read the
categorical code from ``T(G(z, c))`` as well as from ``G(z, c)``, so the code has to
live in features a small rotation, rescaling or shift leaves alone (the
identity-preserving transformations of Elastic-InfoGAN, Ojha et al., 2020).

Pixels are resampled bilinearly (``jax.scipy.ndimage.map_coordinates``, order 1), so
gradients flow back to the image; points that fall outside it read ``fill``.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
from jax.scipy.ndimage import map_coordinates

from jaxgen.errors import JaxgenError, is_number


def affine(images: jax.Array, angles: jax.Array, scales: jax.Array, shifts: jax.Array,
           fill: float) -> jax.Array:
    """``images [B, H, W, C]`` rotated by ``angles [B]`` (radians, anticlockwise on the
    screen), scaled by ``scales [B]`` about the centre, then shifted by ``shifts [B, 2]``
    pixels (rows, columns)."""
    _, height, width, _ = images.shape
    centre = jnp.array([(height - 1) / 2.0, (width - 1) / 2.0], jnp.float32)
    grid = jnp.stack(jnp.meshgrid(jnp.arange(height, dtype=jnp.float32),
                                  jnp.arange(width, dtype=jnp.float32), indexing='ij'), -1)

    def one(image, angle, scale, shift):
        # Output pixel p reads the input at centre + R^-1 ((p - centre - shift) / scale),
        # R the anticlockwise turn on screen (rows grow downwards; test: np.rot90).
        d = (grid - centre - shift) / scale
        cos, sin = jnp.cos(angle), jnp.sin(angle)
        source = jnp.stack([cos * d[..., 0] + sin * d[..., 1],
                            -sin * d[..., 0] + cos * d[..., 1]], -1) + centre
        coords = [source[..., 0], source[..., 1]]
        return jnp.stack([map_coordinates(image[..., ch], coords, order=1, mode='constant',
                                          cval=fill) for ch in range(image.shape[-1])], -1)

    return jax.vmap(one)(images, angles, scales, shifts)


@dataclasses.dataclass(frozen=True)
class RandomAffine:
    """Draws ``angle ~ U(±rotate°)``, ``scale ~ U(1 ± scale)``, ``shift ~ U(±shift px)``
    per image and applies them with :func:`affine`."""
    rotate: float = 0.0
    scale: float = 0.0
    shift: float = 0.0
    fill: float = -1.0

    def __post_init__(self):
        for name, limit in (('rotate', 180.0), ('scale', 1.0), ('shift', math.inf)):
            value = getattr(self, name)
            if not is_number(value) or not 0.0 <= value < limit:
                raise JaxgenError(f'config.model.augment_{name} must be a number in '
                                  f'[0, {limit:g}); got {value!r}')

    @property
    def active(self) -> bool:
        return bool(self.rotate or self.scale or self.shift)

    def __call__(self, key: jax.Array, images: jax.Array) -> jax.Array:
        n = images.shape[0]
        ka, ks, kt = jax.random.split(key, 3)
        limit = math.radians(self.rotate)
        angles = jax.random.uniform(ka, (n,), jnp.float32, -limit, limit)
        scales = jax.random.uniform(ks, (n,), jnp.float32, 1.0 - self.scale, 1.0 + self.scale)
        shifts = jax.random.uniform(kt, (n, 2), jnp.float32, -self.shift, self.shift)
        return affine(images, angles, scales, shifts, self.fill)
