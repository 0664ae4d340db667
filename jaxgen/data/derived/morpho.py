"""Morpho-MNIST's morphometrics and perturbations (Castro et al., 2019, "Morpho-MNIST:
quantitative assessment and diagnostics for representation learning", JMLR 20(178)).

Follows the definitions of the official code (github.com/dccastro/Morpho-MNIST, MIT,
``morphomnist/morpho.py``, ``measure.py``, ``perturb.py``, ``skeleton.py``): an image is
upsampled 4x (bicubic pyramid expansion), thresholded at half its range, and its medial axis
(skeleton) and distance map computed with scikit-image. Then

* area: foreground pixels / scale^2 (px^2);
* length: skeleton length, 1 per axial and sqrt(2) per diagonal neighbour step (px);
* thickness: twice the mean distance-to-boundary along the skeleton (px);
* slant: arctan(-horizontal shear) of the upsampled image's second moments (radians,
  positive = leaning right);
* width, height: of the bounding parallelogram (sheared by the slant) that keeps all but
  2% of the image mass along each direction (px).

Perturbations act on the upsampled binary image and are downscaled back to 28x28 uint8:
thinning/thickening erode/dilate with a disk of radius ``amount * thickness / 2``; swelling
warps a disk around a random skeleton point by a radial power law; fracture cuts
``num_frac`` strokes perpendicular to the skeleton at random points away from tips and
forks.

Where this differs from the official code: the bounding parallelogram's cumulative sums
come from sorting instead of a loop, and the medial axis from skimage's own loop with its
lookup table built once (both identical in value, 4x faster in all); random choices come
from a seeded ``numpy.random.Generator``, not numpy's global state; a fracture's brush is
centred on its line (upstream stamps it ``r`` high-resolution pixels up and left of it, ``r``
the brush radius, and skips stamps that cross the image border).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from scipy import ndimage
from skimage import draw, morphology, transform

ATTRIBUTE_NAMES = ('area', 'length', 'thickness', 'slant', 'width', 'height')
PERTURBATIONS = ('none', 'thin', 'thick', 'swell', 'fracture')
PARAMETERS = {'threshold': 0.5, 'scale': 4, 'bound_frac': 0.02, 'medial_axis_rng': 42,
              'thin': {'amount': 0.7}, 'thick': {'amount': 1.0},
              'swell': {'strength': 3.0, 'radius': 7.0},
              'fracture': {'thickness': 1.5, 'prune': 2.0, 'num_frac': 3}}
SOURCE = ('Castro et al. 2019, Morpho-MNIST (github.com/dccastro/Morpho-MNIST, MIT), '
          'definitions reimplemented with scikit-image')
_SKEL_LEN_MASK = np.array([[0., 0., 0.], [0., 0., 1.], [np.sqrt(2.), 1., np.sqrt(2.)]])
_NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]])


class Morphology(NamedTuple):
    """The processing pipeline of one image (all but ``scale`` are [scale*H, scale*W])."""
    hires: np.ndarray     # upsampled image, uint8
    binary: np.ndarray    # thresholded ``hires``
    skeleton: np.ndarray  # medial axis of ``binary``
    distance: np.ndarray  # distance to the background
    scale: int

    @property
    def thickness(self) -> float:
        return float(2. * np.mean(self.distance[self.skeleton]) / self.scale)


def analyse(image: np.ndarray, threshold: float = .5, scale: int = 4) -> Morphology:
    """Upsamples, thresholds and skeletonises a [H, W] (or [H, W, 1]) uint8 image."""
    image = np.asarray(image)
    image = image[..., 0] if image.ndim == 3 else image
    if scale > 1:
        up = transform.pyramid_expand(image, upscale=scale, order=3, channel_axis=None)
        image = (255. * up).astype(np.uint8)
    low, high = int(image.min()), int(image.max())
    binary = image >= low + (high - low) * threshold
    skeleton, distance = medial_axis(binary)
    return Morphology(image, binary, skeleton, distance, scale)


@functools.cache
def _medial_table() -> tuple[np.ndarray, np.ndarray]:
    """skimage's medial-axis lookup table, which it rebuilds (1,024 labellings, about
    three quarters of the time of a measurement) at every call: built once here."""
    def pattern(index):
        return np.array([bool(index & 2 ** k) for k in range(9)]).reshape(3, 3)
    eight = ndimage.generate_binary_structure(2, 2)
    keep = [ndimage.label(pattern(i), eight)[1] != ndimage.label(pattern(i & ~16), eight)[1]
            or pattern(i).sum() < 3 for i in range(512)]
    table = np.ascontiguousarray((np.arange(512) & 16).astype(bool) & np.array(keep), np.uint8)
    return table, np.array([9 - bin(i).count('1') for i in range(512)])  # and cornerness


def medial_axis(binary: np.ndarray, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """(skeleton, distance): ``skimage.morphology.medial_axis(binary, return_distance=True,
    rng=seed)`` (the official code's call), identical, with its lookup table cached."""
    try:
        from skimage.morphology import _skeletonize as sk  # pylint: disable=C0415
        loop, lookup = sk._skeletonize_loop, sk._table_lookup  # pylint: disable=W0212
    except (ImportError, AttributeError):  # another skimage layout: the public, slower call
        return morphology.medial_axis(binary, return_distance=True, rng=seed)
    binary = binary.astype(bool)
    distance = ndimage.distance_transform_edt(binary)
    table, cornerness = _medial_table()
    corner = lookup(binary, cornerness)
    i, j = np.mgrid[:binary.shape[0], :binary.shape[1]]
    tiebreak = np.random.default_rng(seed).permutation(np.arange(binary.sum()))
    order = np.lexsort((tiebreak, corner[binary], distance[binary]))
    result = np.ascontiguousarray(binary, np.uint8)
    loop(result, np.ascontiguousarray(i[binary], np.intp), np.ascontiguousarray(j[binary], np.intp),
         np.ascontiguousarray(order, np.int32), table)
    return result.astype(bool), distance


def moments(image: np.ndarray) -> tuple[float, float, float, float, float]:
    """(x centroid, y centroid, u20, u11, u02) with y along the first axis."""
    img = np.asarray(image, np.float64)
    x, y = np.arange(img.shape[1])[None, :], np.arange(img.shape[0])[:, None]
    m00 = img.sum()
    mx, my = (x * img).sum() / m00, (y * img).sum() / m00
    u20 = (x ** 2 * img).sum() / m00 - mx ** 2
    u11 = (x * y * img).sum() / m00 - mx * my
    u02 = (y ** 2 * img).sum() / m00 - my ** 2
    return mx, my, u20, u11, u02


def _mass_below(values: np.ndarray, weights: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """For each cut t, the total weight of values < t (the official loops, by sorting)."""
    order = np.argsort(values, kind='stable')
    cumulative = np.concatenate([[0.], np.cumsum(weights[order])])
    return cumulative[np.searchsorted(values[order], cuts, side='left')]


def parallelogram(image: np.ndarray, frac: float = .02) -> tuple[float, float, float, float]:
    """(left, right, top, bottom) of the bounding parallelogram sheared by the image's
    horizontal shear: ``frac / 2`` of the mass is left out on each side."""
    img = np.asarray(image, np.float64)
    h, w = img.shape
    _, middle, _, u11, u02 = moments(img)
    shear = u11 / u02
    y, x = np.mgrid[:h, :w]
    total = img.sum()
    locs = np.arange(w, dtype=np.float64)
    hcdf = _mass_below((x + .5 - shear * (y - middle)).ravel(), img.ravel(), locs) / total
    vcdf = _mass_below(y.ravel().astype(np.float64), img.ravel(), np.arange(h, dtype=np.float64)) / total
    left, right = np.interp([frac / 2, 1 - frac / 2], hcdf, locs)
    top, bottom = np.interp([frac / 2, 1 - frac / 2], vcdf, np.arange(h))
    return float(left), float(right), float(top), float(bottom)


def measure_morphology(m: Morphology, bound_frac: float = .02) -> np.ndarray:
    """float64 [6]: area, length, thickness, slant, width, height (:data:`ATTRIBUTE_NAMES`)."""
    skel = m.skeleton.astype(np.float64)
    length = np.einsum('ij,ij->', ndimage.correlate(skel, _SKEL_LEN_MASK, mode='constant'),
                       skel) / m.scale
    _, _, _, u11, u02 = moments(m.hires)
    slant = np.arctan(-u11 / u02)
    left, right, top, bottom = parallelogram(m.hires, bound_frac)
    return np.array([m.binary.sum() / m.scale ** 2, length, m.thickness, slant,
                     (right - left) / m.scale, (bottom - top) / m.scale])


def measure(image: np.ndarray, threshold: float = .5, scale: int = 4,
            bound_frac: float = .02) -> np.ndarray:
    """The six morphometrics of one [H, W] or [H, W, 1] uint8 image."""
    return measure_morphology(analyse(image, threshold, scale), bound_frac)


def downscale(m: Morphology, hires: np.ndarray) -> np.ndarray:
    """A high-resolution (binary) image back to [H, W] uint8."""
    img = np.asarray(hires, np.float64)
    if m.scale > 1:
        img = transform.pyramid_reduce(img, downscale=m.scale, order=3, channel_axis=None)
    return (255. * img).astype(np.uint8)


def thin(m: Morphology, amount: float = .7) -> np.ndarray:
    radius = int(amount * m.scale * m.thickness / 2.)
    return morphology.erosion(m.binary, morphology.disk(radius))


def thicken(m: Morphology, amount: float = 1.) -> np.ndarray:
    radius = int(amount * m.scale * m.thickness / 2.)
    return morphology.dilation(m.binary, morphology.disk(radius))


def _erase(skel: np.ndarray, seeds: np.ndarray, r: int) -> np.ndarray:
    erased = np.pad(skel, r)
    brush = ~morphology.disk(r).astype(bool)
    for i, j in zip(*np.where(seeds)):
        erased[i:i + 2 * r + 1, j:j + 2 * r + 1] &= brush
    return erased[r:-r, r:-r] if r else erased


def skeleton_points(m: Morphology, rng: np.random.Generator, num: int,
                    prune: float | None = None) -> np.ndarray:
    """``num`` random (row, col) skeleton points, ``prune`` px away from tips and forks."""
    skel = m.skeleton
    if prune is not None:
        r = int(prune * m.scale)
        for n in (1, 3):  # tips, then forks, as the official LocationSampler
            count = ndimage.convolve(skel.astype(int), _NEIGHBOURS, mode='constant') * skel
            skel = _erase(skel, count == n, r)
    coords = np.argwhere(skel)
    if not len(coords):
        raise ValueError('overpruned skeleton')
    return coords[rng.integers(len(coords), size=num)]


def swell(m: Morphology, rng: np.random.Generator, strength: float = 3.,
          radius: float = 7.) -> np.ndarray:
    centre = skeleton_points(m, rng, 1)[0][::-1].astype(np.float64)  # (x, y)
    r = radius * np.sqrt(m.thickness) / 2. * m.scale

    def warp(xy):
        offset = xy - centre
        distance = np.hypot(*offset.T)
        weight = (distance / r) ** (strength - 1)
        weight[distance > r] = 1.
        return centre + weight[:, None] * offset

    return transform.warp(m.binary, warp)


def fracture(m: Morphology, rng: np.random.Generator, thickness: float = 1.5,
             prune: float = 2., num_frac: int = 3) -> np.ndarray:
    r = int(np.ceil((thickness * m.scale - 1) / 2))
    brush = ~morphology.disk(r).astype(bool)
    out = np.pad(m.binary, r)
    try:
        centres = skeleton_points(m, rng, num_frac, prune)
    except ValueError:  # the skeleton vanished with pruning: sample without, as upstream
        centres = skeleton_points(m, rng, num_frac)
    window = 2 * m.scale
    padded = np.pad(m.skeleton, window)
    for i, j in centres:
        _, _, u20, u11, u02 = moments(padded[i:i + 2 * window + 1, j:j + 2 * window + 1])
        angle = .5 * np.arctan2(2. * u11, u20 - u02) + np.pi / 2.  # across the stroke
        length = m.distance[i, j] + .5 * m.scale
        normal = length * np.array([np.sin(angle), np.cos(angle)])
        p0, p1 = (np.array([i, j]) + normal).astype(int), (np.array([i, j]) - normal).astype(int)
        for a, b in zip(*draw.line(*p0, *p1)):
            a, b = a + r, b + r  # into the padded frame, centred brush
            if r <= a < out.shape[0] - r and r <= b < out.shape[1] - r:
                out[a - r:a + r + 1, b - r:b + r + 1] &= brush
    return out[r:-r, r:-r] if r else out


def perturb(image: np.ndarray, kind: str, rng: np.random.Generator | None = None,
            params: dict | None = None) -> np.ndarray:
    """``image`` ([H, W] or [H, W, 1] uint8) with perturbation ``kind`` (one of
    :data:`PERTURBATIONS`) applied, [H, W] uint8. ``rng`` is needed by 'swell'/'fracture'.
    'none' gives the thresholded image downscaled, as upstream's unperturbed digits."""
    params = {**PARAMETERS, **(params or {})}
    m = analyse(image, params['threshold'], params['scale'])
    if kind == 'none':
        hires = m.binary
    elif kind == 'thin':
        hires = thin(m, **params['thin'])
    elif kind == 'thick':
        hires = thicken(m, **params['thick'])
    elif kind == 'swell':
        hires = swell(m, rng, **params['swell'])
    elif kind == 'fracture':
        hires = fracture(m, rng, **params['fracture'])
    else:
        raise ValueError(f'unknown perturbation {kind!r}; use one of {PERTURBATIONS}')
    return downscale(m, hires)


def image_rng(key: tuple, index: int) -> np.random.Generator:
    """The generator of image ``index``'s perturbation under ``key`` (seed, split, ...):
    independent of how the work is split between processes."""
    return np.random.default_rng([*key, index])
