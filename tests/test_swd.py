"""Sliced Wasserstein distance (jaxgen/metrics/swd.py) against an independent
float64 NumPy reference of tkarras/progressive_growing_of_gans
``metrics/sliced_wasserstein.py``, and its properties."""

import jax
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.metrics import swd


def smooth_images(seed, n, size, channels, amplitude=0.5):
    """Blurred noise in [-amplitude, amplitude]: images with structure at every scale."""
    x = np.random.default_rng(seed).standard_normal((n, size, size, channels))
    for _ in range(2):
        x = blur(x)
    return np.float32(amplitude * x / np.abs(x).max())


def blur(x):
    """[1, 2, 1] / 4 along both axes, wrap-around borders."""
    for axis in (1, 2):
        x = (np.roll(x, 1, axis) + 2 * x + np.roll(x, -1, axis)) / 4
    return x


# ---- the reference: NumPy float64 only, written from the official code --------------

GAUSS = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0


def ref_convolve(x, kernel):  # scipy.ndimage.convolve(mode='mirror') on [N, H, W, C]
    p = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode='reflect')
    h, w = x.shape[1:3]
    return sum(kernel[i, j] * p[:, i:i + h, j:j + w] for i in range(5) for j in range(5))


def ref_pyramid(x, levels):
    pyramid = [x]
    for _ in range(1, levels):
        pyramid.append(ref_convolve(pyramid[-1], GAUSS)[:, ::2, ::2])
        up = np.zeros_like(pyramid[-2])
        up[:, ::2, ::2] = pyramid[-1]
        pyramid[-2] = pyramid[-2] - ref_convolve(up, GAUSS * 4.0)
    return pyramid


def ref_descriptors(level, centres):  # centres [N, 128, 2] (y, x)
    rows = []
    for image, cent in zip(level, centres):
        for y, x in cent:
            patch = image[y - 3:y + 4, x - 3:x + 4, :]  # [7, 7, C]
            rows.append(np.transpose(patch, (2, 0, 1)).reshape(-1))
    desc = np.array(rows).reshape(len(rows), level.shape[-1], 49)
    desc = (desc - desc.mean(axis=(0, 2), keepdims=True)) / desc.std(axis=(0, 2), keepdims=True)
    return desc.reshape(len(rows), -1)


def ref_swd(real, fake, key):
    """The same definition, given jaxgen's neighbourhood centres and directions."""
    keys = jax.random.split(key, 3)
    size = real.shape[1]
    pad = ((0, 0), ((32 - size) // 2,) * 2, ((32 - size) // 2,) * 2, (0, 0)) \
        if size == 28 else ((0, 0),) * 4
    res = {28: (32, 16), 16: (16,), 32: (32, 16), 64: (64, 32, 16)}[size]
    descs = []
    for images, k in ((real, keys[0]), (fake, keys[1])):
        x = np.pad((np.float64(images) + 1.0) * 127.5, pad, mode='edge')
        descs.append([ref_descriptors(level, np.asarray(swd.neighbourhood_centres(
            k, lod, np.arange(len(images)), level.shape[1])))
            for lod, level in enumerate(ref_pyramid(x, len(res)))])
    out = {}
    for lod, (a, b) in enumerate(zip(*descs)):
        values = []
        for r in range(4):
            dirs = np.float64(swd.directions(keys[2], lod, r, a.shape[1]))
            values.append(np.mean(np.abs(np.sort(a @ dirs, 0) - np.sort(b @ dirs, 0))))
        out[f'swd_{res[lod]}'] = np.mean(values) * 1e3
    out['swd_avg'] = np.mean(list(out.values()))
    return out


# ---- tests ------------------------------------------------------------------------------

@pytest.mark.parametrize('size,channels,n', [(28, 1, 8), (64, 3, 3)])
def test_equals_float64_numpy_reference(size, channels, n):
    real = smooth_images(0, n, size, channels)
    fake = smooth_images(1, n, size, channels, amplitude=0.8)
    got = swd.swd(real, fake, jax.random.key(3), batch_size=4)  # 28 px: two batches
    want = ref_swd(real, fake, jax.random.key(3))
    assert list(got) == list(want) == [f'swd_{r}' for r in swd.resolutions(size)] + ['swd_avg']
    np.testing.assert_allclose([got[k] for k in want], [want[k] for k in want], rtol=2e-5)


def test_pyr_down_and_up_equal_the_official_scipy_calls():
    """The official pyr_down/pyr_up are scipy.ndimage.convolve(mode='mirror') on NCHW;
    jaxgen pads with numpy's 'reflect' (the same border) on NHWC."""
    ndimage = pytest.importorskip('scipy.ndimage')
    x = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    nchw, kernel = np.transpose(x, (0, 3, 1, 2)), np.float32(GAUSS)[None, None]
    down = ndimage.convolve(nchw, kernel, mode='mirror')[:, :, ::2, ::2]
    up = np.zeros((2, 3, 32, 32), np.float32)
    up[:, :, ::2, ::2] = nchw
    up = ndimage.convolve(up, kernel * 4.0, mode='mirror')
    np.testing.assert_allclose(np.transpose(swd.pyr_down(x), (0, 3, 1, 2)), down, atol=1e-3)
    np.testing.assert_allclose(np.transpose(swd.pyr_up(x), (0, 3, 1, 2)), up, atol=1e-3)


def test_pyramid_matches_the_official_levels():
    """A constant image has no band-pass content; the low-pass level keeps the constant,
    and each level has the official resolution (64 -> 64, 32, 16)."""
    x = np.full((1, 64, 64, 1), 0.25, np.float32)
    levels = swd.laplacian_pyramid(swd.to_pixels(x), 3)
    assert [lv.shape[1] for lv in levels] == [64, 32, 16]
    np.testing.assert_allclose(levels[0], 0.0, atol=1e-4)
    np.testing.assert_allclose(levels[2], 1.25 * 127.5, rtol=1e-6)


def test_neighbourhood_centres_cover_every_inner_position():
    """Centres are uniform over 3 ... res - 4: every 7x7 window inside the image."""
    centres = np.asarray(swd.neighbourhood_centres(jax.random.key(0), 1, np.arange(64), 16))
    assert centres.shape == (64, 128, 2)
    assert set(np.unique(centres)) == set(range(3, 13))


def test_set_against_itself_is_zero_and_small_next_to_a_change():
    images = smooth_images(2, 16, 32, 1)
    key = jax.random.key(0)
    desc, _ = swd.descriptors([images], 16, key)
    same = swd.distance(desc, desc, key, 32)
    assert all(v == 0.0 for v in same.values())
    other_positions = swd.swd(images, images, key)['swd_avg']
    sign = np.where(np.arange(16) % 2 == 0, 1.0, -1.0)[:, None, None, None]
    changed = swd.swd(images, np.float32(images + 0.3 * sign), key)['swd_avg']
    assert 0 < other_positions < 0.5 * changed


def test_sort_rows_equals_numpy_sort():
    x = np.random.default_rng(0).standard_normal((3, 500)).astype(np.float32)
    x[0, :6] = [0.0, -0.0, 1e-40, -1e-40, -3.0, np.finfo(np.float32).min]
    np.testing.assert_array_equal(np.asarray(swd.sort_rows(x)), np.sort(x, axis=-1))


def test_grows_with_a_known_shift_and_with_blur():
    """Half the images brightened by s, half darkened by s (a constant shift of all
    images is removed by the per-set normalisation), and k passes of a blur."""
    images = smooth_images(4, 16, 32, 1, amplitude=0.4)
    key = jax.random.key(1)
    sign = np.where(np.arange(16) % 2 == 0, 1.0, -1.0)[:, None, None, None]
    shifted = [swd.swd(images, np.float32(images + s * sign), key)['swd_16']
               for s in (0.0, 0.15, 0.3, 0.6)]
    assert np.all(np.diff(shifted) > 0), shifted
    constant = swd.swd(images, images + np.float32(0.5), key)
    np.testing.assert_allclose(constant['swd_avg'], shifted[0], rtol=1e-3)
    blurred, current = [], np.float64(images)
    for _ in range(4):
        blurred.append(swd.swd(images, np.float32(current), key)['swd_32'])
        current = blur(current)
    assert np.all(np.diff(blurred) > 0), blurred


def test_batch_order_invariance():
    images = smooth_images(5, 10, 16, 3)
    other = smooth_images(6, 10, 16, 3)
    key = jax.random.key(2)
    one, _ = swd.descriptors([images], 10, key)
    split = swd.empty(10, 16, 3)
    for start, stop in ((6, 10), (0, 2), (2, 6)):  # out of order, uneven sizes
        split = swd.update(split, images[start:stop], key, start)
    for a, b in zip(one.levels, split.levels):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert swd.swd(images, other, key, batch_size=10) == swd.swd(images, other, key,
                                                                 batch_size=4)


@pytest.mark.parametrize('images,message', [
    (np.full((2, 16, 16, 1), 1.5, np.float32), 'must be in \\[-1, 1\\]'),
    (np.zeros((16, 16, 1), np.float32), 'must be NHWC'),
    (np.zeros((2, 16, 32, 1), np.float32), 'must be square'),
    (np.zeros((2, 16, 16, 2), np.float32), '1 or 3 channels'),
    (np.zeros((2, 8, 8, 1), np.float32), 'smaller than the 16 px'),
    (np.zeros((2, 32, 32, 1), np.float32), 'differ; use as many'),
    (np.zeros((3, 16, 16, 1), np.float32), 'differ; use as many'),
    (np.zeros((1, 16, 16, 1), np.float32), 'at least 2 images'),
])
def test_one_line_errors(images, message):
    other = images if 'at least' in message else np.zeros((2, 16, 16, 1), np.float32)
    with pytest.raises(JaxgenError, match=message) as err:
        swd.swd(other, images, jax.random.key(0))
    assert '\n' not in str(err.value)


def test_one_line_errors_when_streaming():
    desc = swd.empty(4, 16, 1)
    for images, message in ((np.zeros((2, 32, 32, 1), np.float32), 'does not fit'),
                            (np.zeros((3, 16, 16, 1), np.float32), 'do not fit a set of 4')):
        with pytest.raises(JaxgenError, match=message):
            swd.update(desc, images, jax.random.key(0), 2)
    with pytest.raises(JaxgenError, match='not the 5 announced'):
        swd.descriptors([np.zeros((4, 16, 16, 1), np.float32)], 5, jax.random.key(0))
