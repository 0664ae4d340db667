"""Sliced Wasserstein distance (SWD) between two image sets, Progressive GAN's metric.

Source: Karras et al., 2018, "Progressive Growing of GANs", §5 and appendix D,
and their code, tkarras/progressive_growing_of_gans ``metrics/sliced_wasserstein.py``.
Per set and per pyramid level:

* a Laplacian pyramid (``pyr_down``/``pyr_up`` with the 5x5 binomial kernel
  ``[1, 4, 6, 4, 1]^2 / 256``, mirror borders, as ``cv2.pyrDown``/``pyrUp``),
  one level per resolution from the image size down to 16 px; the last level is
  the 16 px low-pass image itself;
* 128 random 7x7 neighbourhoods per image (centres uniform over the positions
  whose neighbourhood lies inside the image), all channels at one position, a
  descriptor of ``C * 49`` values in the official (channel, y, x) order;
* every descriptor of the set normalised per channel (mean 0, standard deviation
  1 over the set's descriptors and the 7x7 pixels; ``np.std``, ddof 0);
* 4 repeats of 128 random unit directions, shared by the two sets; the
  projections sorted per direction; the mean absolute difference of the sorted
  projections; the mean over repeats, x 1e3.

The result is each level's SWD x 1e3 (``swd_<res>``, finest first) and their mean
(``swd_avg``), the official names ``SWDx1e3_<res>`` / ``SWDx1e3_avg``.

Differences from the official code, all stated here:

* Scale: images are given in [-1, 1] and mapped to [0, 255] like the official
  uint8 input, but kept in float (not rounded to integers). The pyramid is linear
  and the per-channel normalisation removes any affine map of the pixels, so the
  scale changes nothing but rounding.
* Channels: 1 or 3 channels are used as they are (the official code asserts 3).
  Greyscale is not replicated to 3 channels: three equal channels would give
  descriptors of three equal parts and values about sqrt(3) times the 1-channel ones.
* Sizes: square images of at least 16 px. A size that is not a power of two
  (MNIST's 28) is first edge-padded, centred, to the next power of two (28 -> 32,
  2 px each side), then treated as that size: levels 32 and 16. For MNIST the edge
  pixels are background, so this is padding with background.
* Randomness: neighbourhood centres of image ``i`` (its index in the whole set)
  at level ``l`` come from ``fold_in(fold_in(key, l), i)``, and the directions of
  level ``l``, repeat ``r`` from ``fold_in(fold_in(direction_key, l), r)``. The
  descriptors of image ``i`` fill rows ``128 i ... 128 i + 127`` of a preallocated
  buffer, so any split of the set into batches, in any order, gives the same
  numbers. The two sets must have the same number of images (as officially).
"""

from __future__ import annotations

import functools
from typing import Iterable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

NHOOD, NHOODS_PER_IMAGE, DIR_REPEATS, DIRS_PER_REPEAT, MIN_RES = 7, 128, 4, 128, 16
KERNEL_1D = np.float32([1, 4, 6, 4, 1]) / 16.0
DIRECTION_CHUNK = 32  # directions sorted at once: bounds memory at 32 x rows floats


def padded_size(size: int) -> int:
    """The power of two an image side is edge-padded to (itself when it is one)."""
    return 1 << (int(size) - 1).bit_length()


def resolutions(size: int) -> tuple[int, ...]:
    """The pyramid's resolutions, finest first: the padded size halved down to 16."""
    res, out = padded_size(size), []
    while res >= MIN_RES:
        out.append(res)
        res //= 2
    return tuple(out)


def check_images(images, name: str = 'images') -> tuple[int, int]:
    """``(size, channels)`` of an NHWC batch in [-1, 1]; a one-line error otherwise."""
    shape = np.shape(images)
    if len(shape) != 4:
        raise JaxgenError(f'SWD: {name} must be NHWC [N, H, W, C], got shape {shape}')
    if shape[1] != shape[2]:
        raise JaxgenError(f'SWD: {name} must be square, got {shape[1]}x{shape[2]}')
    if shape[1] < MIN_RES:
        raise JaxgenError(f'SWD: {name} are {shape[1]}x{shape[2]}, smaller than the '
                          f'{MIN_RES} px the pyramid needs')
    if shape[3] not in (1, 3):
        raise JaxgenError(f'SWD: {name} must have 1 or 3 channels, got {shape[3]}')
    if shape[0] and (float(jnp.min(images)) < -1.0 or float(jnp.max(images)) > 1.0):
        raise JaxgenError(f'SWD: {name} must be in [-1, 1], got values in '
                          f'[{float(jnp.min(images)):.3g}, {float(jnp.max(images)):.3g}]; '
                          f'map [0, 1] data with x * 2 - 1')
    return shape[1], shape[3]


def _blur(x: jax.Array, kernel: np.ndarray) -> jax.Array:
    """Separable 5-tap convolution of NHWC ``x`` with mirror borders (scipy 'mirror')."""
    x = jnp.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode='reflect')
    h, w = x.shape[1] - 4, x.shape[2] - 4
    x = sum(kernel[k] * x[:, k:k + h] for k in range(5))
    return sum(kernel[k] * x[:, :, k:k + w] for k in range(5))


def pyr_down(x: jax.Array) -> jax.Array:
    """Blur, then keep every second pixel (the official ``pyr_down``)."""
    return _blur(x, KERNEL_1D)[:, ::2, ::2]


def pyr_up(x: jax.Array) -> jax.Array:
    """Zero-insert to twice the size, then blur with 4 x the kernel (``pyr_up``)."""
    n, h, w, c = x.shape
    up = jnp.zeros((n, 2 * h, 2 * w, c), x.dtype).at[:, ::2, ::2].set(x)
    return _blur(up, KERNEL_1D * 2.0)


def laplacian_pyramid(x: jax.Array, num_levels: int) -> list[jax.Array]:
    """Band-pass levels, finest first, and the low-pass image last."""
    pyramid = [x]
    for _ in range(1, num_levels):
        pyramid.append(pyr_down(pyramid[-1]))
        pyramid[-2] = pyramid[-2] - pyr_up(pyramid[-1])
    return pyramid


def to_pixels(images: jax.Array) -> jax.Array:
    """[-1, 1] images as float [0, 255], edge-padded to a power-of-two side."""
    size = images.shape[1]
    before = (padded_size(size) - size) // 2
    after = padded_size(size) - size - before
    x = (images.astype(jnp.float32) + 1.0) * 127.5
    return jnp.pad(x, ((0, 0), (before, after), (before, after), (0, 0)), mode='edge')


def neighbourhood_centres(key: jax.Array, level: int, indices: jax.Array,
                          res: int) -> jax.Array:
    """``[len(indices), 128, 2]`` (y, x) centres for the images with these set indices."""
    half = NHOOD // 2
    level_key = jax.random.fold_in(key, level)
    def one(i):
        return jax.random.randint(jax.random.fold_in(level_key, i), (NHOODS_PER_IMAGE, 2),
                                  half, res - half)
    return jax.vmap(one)(indices)


def _patches(level: jax.Array, centres: jax.Array) -> jax.Array:
    """``[N * 128, C * 49]`` descriptors in (channel, y, x) order."""
    offsets = jnp.arange(NHOOD) - NHOOD // 2
    def one(image, cent):
        ys = cent[:, 0, None] + offsets  # [128, 7]
        xs = cent[:, 1, None] + offsets
        patch = image[ys[:, :, None], xs[:, None, :]]  # [128, 7, 7, C]
        return jnp.transpose(patch, (0, 3, 1, 2)).reshape(NHOODS_PER_IMAGE, -1)
    return jax.vmap(one)(level, centres).reshape(-1, level.shape[-1] * NHOOD * NHOOD)


class Descriptors(NamedTuple):
    """A set's descriptor buffers, one ``[num_images * 128, C * 49]`` array per level."""
    levels: tuple[jax.Array, ...]


def empty(num_images: int, size: int, channels: int) -> Descriptors:
    """Zeroed buffers for a set of ``num_images`` images of ``size`` px."""
    rows, dim = num_images * NHOODS_PER_IMAGE, channels * NHOOD * NHOOD
    return Descriptors(tuple(jnp.zeros((rows, dim), jnp.float32) for _ in resolutions(size)))


@functools.partial(jax.jit, donate_argnums=0)
def _update(desc: Descriptors, images: jax.Array, key: jax.Array, start) -> Descriptors:
    pyramid = laplacian_pyramid(to_pixels(images), len(desc.levels))
    indices = start + jnp.arange(images.shape[0])
    levels = []
    for lod, (buffer, level) in enumerate(zip(desc.levels, pyramid)):
        rows = _patches(level, neighbourhood_centres(key, lod, indices, level.shape[1]))
        levels.append(jax.lax.dynamic_update_slice(
            buffer, rows, (start * NHOODS_PER_IMAGE, jnp.zeros((), start.dtype))))
    return Descriptors(tuple(levels))


def update(desc: Descriptors, images, key: jax.Array, start: int) -> Descriptors:
    """``desc`` with the descriptors of ``images``, the set's images ``start...``."""
    size, channels = check_images(images)
    rows, dim = desc.levels[0].shape
    if len(desc.levels) != len(resolutions(size)) or dim != channels * NHOOD * NHOOD:
        raise JaxgenError(f'SWD: a batch of {size}x{size}x{channels} images does not fit '
                          f'descriptors made for another image shape')
    if start < 0 or (start + len(images)) * NHOODS_PER_IMAGE > rows:
        raise JaxgenError(f'SWD: images {start}...{start + len(images) - 1} do not fit a '
                          f'set of {rows // NHOODS_PER_IMAGE} images')
    return _update(desc, jnp.asarray(images), key, jnp.asarray(start, jnp.int32))


@jax.jit
def normalise(desc: jax.Array) -> jax.Array:
    """Per channel: subtract the mean and divide by the std over the set (ddof 0)."""
    x = desc.reshape(desc.shape[0], -1, NHOOD * NHOOD)
    mean = jnp.mean(x, axis=(0, 2), keepdims=True)
    std = jnp.sqrt(jnp.mean(jnp.square(x - mean), axis=(0, 2), keepdims=True))
    return ((x - mean) / std).reshape(desc.shape)


def directions(key: jax.Array, level: int, repeat: int, dim: int) -> jax.Array:
    """``[dim, 128]`` unit directions of one level and repeat."""
    k = jax.random.fold_in(jax.random.fold_in(key, level), repeat)
    dirs = jax.random.normal(k, (dim, DIRS_PER_REPEAT), jnp.float32)
    return dirs / jnp.sqrt(jnp.sum(jnp.square(dirs), axis=0, keepdims=True))


def sort_rows(x: jax.Array) -> jax.Array:
    """``jnp.sort(x, axis=-1)`` for float32 without NaNs, through an order-preserving
    map to int32 (negative floats get their magnitude bits flipped): the same
    values, and on XLA:CPU about 4x faster than the float comparator."""
    flip = jnp.int32(0x7FFFFFFF)
    bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.int32)
    bits = jax.lax.sort(jnp.where(bits < 0, bits ^ flip, bits), dimension=x.ndim - 1,
                        is_stable=False)
    return jax.lax.bitcast_convert_type(jnp.where(bits < 0, bits ^ flip, bits), jnp.float32)


def sliced_wasserstein(a: jax.Array, b: jax.Array, dirs: jax.Array) -> jax.Array:
    """Mean |sorted projection of a - sorted projection of b| over rows and ``dirs``."""
    chunks = dirs.T.reshape(-1, DIRECTION_CHUNK, dirs.shape[0])
    def one(d):
        return jnp.mean(jnp.abs(sort_rows(d @ a.T) - sort_rows(d @ b.T)))
    return jnp.mean(jax.lax.map(one, chunks))


@jax.jit
def level_distance(a: jax.Array, b: jax.Array, key: jax.Array, level) -> jax.Array:
    """One level's SWD x 1e3 of two descriptor sets (normalised here), mean over repeats."""
    a, b = normalise(a), normalise(b)
    values = [sliced_wasserstein(a, b, directions(key, level, r, a.shape[1]))
              for r in range(DIR_REPEATS)]
    return jnp.mean(jnp.stack(values)) * 1e3


def distance(desc_a: Descriptors, desc_b: Descriptors, key: jax.Array,
             size: int) -> dict[str, float]:
    """SWD x 1e3 per level (``swd_<res>``) and their mean (``swd_avg``)."""
    shapes_a = [d.shape for d in desc_a.levels]
    if shapes_a != [d.shape for d in desc_b.levels]:
        raise JaxgenError(f'SWD: the two sets differ in size or image shape '
                          f'({shapes_a[0]} vs {desc_b.levels[0].shape} descriptors); '
                          f'use the same number of images of one shape')
    out = {f'swd_{res}': float(level_distance(a, b, key, lod)) for lod, (res, a, b)
           in enumerate(zip(resolutions(size), desc_a.levels, desc_b.levels))}
    out['swd_avg'] = float(np.mean(list(out.values())))
    return out


def descriptors(batches: Iterable, num_images: int, key: jax.Array) -> tuple[Descriptors, int]:
    """Stream batches (any sizes, in set order) into one set's descriptors."""
    desc, start, size = None, 0, None
    for batch in batches:
        size, channels = check_images(batch)
        desc = empty(num_images, size, channels) if desc is None else desc
        desc = update(desc, batch, key, start)
        start += len(batch)
    if desc is None or start != num_images:
        raise JaxgenError(f'SWD: the batches held {start} images, not the {num_images} '
                          f'announced')
    return desc, size


def swd(real, fake, key: jax.Array, batch_size: int = 256) -> dict[str, float]:
    """SWD x 1e3 of two image arrays ``[N, H, W, C]`` in [-1, 1] of one shape and ``N``."""
    for name, images in (('real images', real), ('fake images', fake)):
        check_images(images, name)
    if np.shape(real) != np.shape(fake):
        raise JaxgenError(f'SWD: real images {np.shape(real)} and fake images '
                          f'{np.shape(fake)} differ; use as many images of one shape')
    if len(real) < 2:
        raise JaxgenError('SWD needs at least 2 images per set')
    real_key, fake_key, dir_key = jax.random.split(key, 3)
    out = []
    for images, k in ((real, real_key), (fake, fake_key)):
        batches = (images[i:i + batch_size] for i in range(0, len(images), batch_size))
        out.append(descriptors(batches, len(images), k))
    return distance(out[0][0], out[1][0], dir_key, out[0][1])
