"""Tests of Morpho-MNIST (jaxgen/data/derived/morpho.py, morpho_sets.py): measurements of
constructed images with known answers, perturbations, determinism, the dataset builders on
stub data, and (with JAXGEN_DATA_DIR) real MNIST."""

from __future__ import annotations

import base64
import os
import zlib

import chex
import numpy as np
import pytest
from scipy import ndimage
from skimage import morphology

from jaxgen.data import base_arrays
from jaxgen.data.derived import morpho, morpho_sets
from jaxgen.errors import JaxgenError

# MNIST train image 0 (row 34387 of TFDS's train split) and its morphometrics as published
# with Morpho-MNIST (dccastro/Morpho-MNIST, MIT: tests/train-image-00000.npy and the
# figures of tests/test_measure.py, from the released original/train-morpho.csv).
REFERENCE = np.frombuffer(zlib.decompress(base64.b64decode(
    'eNpjYBicgFlISKiuY73Usv/f65HF5VTiZq36CwIP1/z9dNgBScrw3V8o+B0bFGShjqxN6DZY4ti27x8x7QqYk/3'
    '371luBu1ZWBzCxzjrbxROZ3b/3ceES4573183nBqVPz5ckMOIQzLww9+/5ZI4JHV3/f07TRqHpEDsn7+7cVr68+'
    '9PB6wSek3b//49j80n6lOeAsPt1zZMGYmiu6AgPemHISPudBUc2IEYBgqtBsfD4QBOdBnzNY9AMl9auTFt6gBKX'
    'GlvEaBHugMAiR5rhg==')), np.uint8).reshape(28, 28)
PUBLISHED = dict(area=107.3125, length=50.26650429449552, thickness=2.4606583773939543,
                 slant=0.23107446620980754, width=14.539571782767355, height=19.849053691610763)
A = {name: i for i, name in enumerate(morpho.ATTRIBUTE_NAMES)}


def bar(width: float, theta: float, height: float = 20., size: int = 28) -> np.ndarray:
    """A parallelogram bar, ``width`` px across horizontally, ``height`` px tall, leaning
    right by ``theta`` radians, anti-aliased (8x8 samples a pixel), uint8 [size, size]."""
    c = (np.arange(size * 8) + .5) / 8 - size / 2
    y, x = c[:, None], c[None, :]
    inside = (np.abs(y) < height / 2) & (np.abs(x + np.tan(theta) * y) < width / 2)
    return np.round(inside.reshape(size, 8, size, 8).mean((1, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize('width,theta', [(3., 0.), (4., .3), (2.5, -.25), (3.5, .45)])
def test_bar_measures_its_thickness_and_slant(width, theta):
    m = morpho.measure(bar(width, theta))
    assert abs(m[A['slant']] - theta) < .02, m
    assert abs(m[A['thickness']] - width * np.cos(theta)) < .12 * width * np.cos(theta), m
    assert abs(m[A['height']] - 20.) < .3, m
    assert abs(m[A['area']] - 20. * width) < .06 * 20 * width, m
    assert 20. / np.cos(theta) - 2 < m[A['length']] < 20. / np.cos(theta) + width, m


def test_width_grows_with_the_bar_and_slant_sign():
    narrow, wide = morpho.measure(bar(2., .2)), morpho.measure(bar(5., .2))
    assert abs(wide[A["width"]] - narrow[A["width"]] - 3.) < .6
    left, right = morpho.measure(bar(3., -.3)), morpho.measure(bar(3., .3))
    assert left[A['slant']] < -.25 and right[A['slant']] > .25  # > 0 leans right


def test_reference_digit_measures_as_published():
    """Area, slant and size as published; thickness and length within 3% and 6% (the
    medial axis of today's scikit-image differs from the one of 2018)."""
    m = dict(zip(morpho.ATTRIBUTE_NAMES, morpho.measure(REFERENCE)))
    assert abs(m['area'] - PUBLISHED['area']) < .01 * PUBLISHED['area']
    assert abs(m['slant'] - PUBLISHED['slant']) < .002
    assert abs(m['width'] - PUBLISHED['width']) < .05
    assert abs(m['height'] - PUBLISHED['height']) < .05
    assert abs(m['thickness'] - PUBLISHED['thickness']) < .03 * PUBLISHED['thickness']
    assert abs(m['length'] - PUBLISHED['length']) < .06 * PUBLISHED['length']


def _official_parallelogram(img, frac=.02):
    """morphomnist.morpho.bounding_parallelogram's loops, for comparison."""
    img = np.asarray(img, float)
    h, w = img.shape
    x, y = np.arange(w)[None, :], np.arange(h)[:, None]
    _, middle, _, u11, u02 = morpho.moments(img)
    shear = u11 / u02
    hcdf = [((x + .5 < t + shear * (y - middle)) * img).sum() / img.sum() for t in range(w)]
    vcdf = [((y < t) * img).sum() / img.sum() for t in range(h)]
    left, right = np.interp([frac / 2, 1 - frac / 2], hcdf, np.arange(w))
    top, bottom = np.interp([frac / 2, 1 - frac / 2], vcdf, np.arange(h))
    return left, right, top, bottom


def test_fast_paths_equal_the_official_computations():
    m = morpho.analyse(REFERENCE)
    np.testing.assert_allclose(morpho.parallelogram(m.hires), _official_parallelogram(m.hires),
                               atol=1e-9)
    for image in (REFERENCE, bar(3., .3)):
        binary = morpho.analyse(image).binary
        skeleton, distance = morphology.medial_axis(binary, return_distance=True, rng=42)
        ours = morpho.medial_axis(binary)
        np.testing.assert_array_equal(ours[0], skeleton)
        np.testing.assert_array_equal(ours[1], distance)


@pytest.mark.parametrize('amount', [.5, 1.])
def test_thickening_raises_thickness_by_the_amount(amount):
    for image in (bar(3., .2), REFERENCE):
        m = morpho.analyse(image)
        radius = int(amount * m.scale * m.thickness / 2) / m.scale  # the disk asked for
        after = morpho.measure(morpho.perturb(image, 'thick', params={'thick': {'amount': amount}}))
        gain = after[A['thickness']] - m.thickness
        assert abs(gain - 2 * radius) < .25 * 2 * radius, (gain, radius)


def _change(image, kind, seed=0):
    before = morpho.measure(image)
    after = morpho.measure(morpho.perturb(image, kind, morpho.image_rng((seed,), 0)))
    return dict(zip(morpho.ATTRIBUTE_NAMES, after - before)), before


@pytest.mark.parametrize('image', [REFERENCE, bar(3.5, .25)], ids=['mnist', 'bar'])
def test_each_perturbation_changes_only_what_it_should(image):
    """Thinning and thickening change thickness and area, not pose; swelling and fractures
    are local: area up or down, the skeleton cut (fractures), slant and size kept."""
    thin, before = _change(image, 'thin')
    assert thin['thickness'] < -.3 * before[A['thickness']] and thin['area'] < 0
    assert abs(thin['slant']) < .15
    thick, _ = _change(image, 'thick')
    assert thick['thickness'] > .6 * before[A['thickness']] and thick['area'] > 0
    assert abs(thick['slant']) < .05
    swell, _ = _change(image, 'swell')
    assert 0 < swell['area'] < .7 * before[A['area']] and abs(swell['slant']) < .05
    assert abs(swell['length']) < .15 * before[A['length']]
    frac, _ = _change(image, 'fracture')
    assert -.3 * before[A['area']] < frac['area'] < 0 and frac['length'] < 0
    assert abs(frac['slant']) < .05 and abs(frac['width']) < .5 and abs(frac['height']) < .5


def test_perturbations_act_where_they_should():
    m = morpho.analyse(REFERENCE)
    assert not (morpho.thin(m) & ~m.binary).any()    # thinning only removes ink
    assert not (m.binary & ~morpho.thicken(m)).any()  # thickening only adds it
    broken = morpho.fracture(m, np.random.default_rng(1))
    assert not (broken & ~m.binary).any()
    assert ndimage.label(broken)[1] > ndimage.label(m.binary)[1]  # the strokes are cut
    rng = np.random.default_rng(2)
    centre = morpho.skeleton_points(m, np.random.default_rng(2), 1)[0]
    swollen = morpho.swell(m, rng) > .5
    yy, xx = np.mgrid[:m.binary.shape[0], :m.binary.shape[1]]
    radius = 7 * np.sqrt(m.thickness) / 2 * m.scale
    outside = np.hypot(yy - centre[0], xx - centre[1]) > radius + 1
    assert (swollen != m.binary).any()
    np.testing.assert_array_equal(swollen[outside], m.binary[outside])  # a local change


def test_perturbations_are_deterministic_given_a_seed():
    for kind in ('swell', 'fracture'):
        one = morpho.perturb(REFERENCE, kind, morpho.image_rng((0, 0), 7))
        again = morpho.perturb(REFERENCE, kind, morpho.image_rng((0, 0), 7))
        other = morpho.perturb(REFERENCE, kind, morpho.image_rng((0, 0), 8))
        np.testing.assert_array_equal(one, again)
        assert (one != other).any()
    with pytest.raises(ValueError):
        morpho.perturb(REFERENCE, 'melt')


# The dataset builders, on stub data.

def _stub(n: int = 10):
    images = np.stack([bar(2 + .25 * i, -.3 + .06 * i) for i in range(n - 1)] + [REFERENCE])
    calls = []

    def base(name, split):
        calls.append((name, split))
        assert name == 'mnist'
        k = 0 if split == 'train' else 1
        return {'image': np.roll(images, k, axis=0)[..., None],
                'label': np.roll(np.arange(n) % 10, k).astype(np.int32)}
    return base, calls


def test_morpho_mnist_builds_measures_and_caches(tmp_path):
    base, calls = _stub()
    config = {'name': 'morpho_mnist', 'cache_dir': str(tmp_path)}
    arrays, info = morpho_sets.morpho_mnist(config, 'train', base, processes=1)
    chex.assert_shape(arrays['image'], (10, 28, 28, 1))
    chex.assert_type([arrays['image'], arrays['label'], arrays['attributes']],
                     [np.uint8, np.int32, np.float32])
    chex.assert_shape(arrays['attributes'], (10, 6))
    assert info['attribute_names'] == ['area', 'length', 'thickness', 'slant', 'width', 'height']
    np.testing.assert_allclose(arrays['attributes'][-1], morpho.measure(REFERENCE), rtol=1e-6)
    assert os.path.exists(info['cache_path']) and info['parameters']['scale'] == 4
    again, _ = morpho_sets.morpho_mnist(config, 'train', base, processes=1)
    assert len(calls) == 1  # read from the cache
    np.testing.assert_array_equal(again['attributes'], arrays['attributes'])


def test_morpho_perturbed_is_deterministic_and_measured_after(tmp_path):
    base, _ = _stub(12)
    runs = [morpho_sets.morpho_perturbed({'cache_dir': str(tmp_path / d)}, 'test', base,
                                         processes=1) for d in ('a', 'b')]
    (arrays, info), (other, _) = runs
    for field in arrays:
        np.testing.assert_array_equal(arrays[field], other[field])
    chex.assert_type([arrays['domain'], arrays['image']], [np.int32, np.uint8])
    chex.assert_shape([arrays['image'], arrays['domain']], [(12, 28, 28, 1), (12,)])
    assert info['domain_names'] == ['none', 'thin', 'thick', 'swell', 'fracture']
    assert len(set(arrays['domain'].tolist())) >= 4
    original = base('mnist', 'test')
    np.testing.assert_array_equal(arrays['label'], original['label'])
    for i in range(12):  # each row is its image's perturbation, measured after it
        kind = morpho.PERTURBATIONS[arrays['domain'][i]]
        expected = morpho.perturb(original['image'][i], kind, morpho.image_rng((0, 1), i))
        np.testing.assert_array_equal(arrays['image'][i, ..., 0], expected)
    for i in (0, 5, 11):
        np.testing.assert_allclose(arrays['attributes'][i], morpho.measure(arrays['image'][i]),
                                   rtol=1e-5)
    seeded, _ = morpho_sets.morpho_perturbed({'cache_dir': str(tmp_path / 'a')}, 'test', base,
                                             seed=3, processes=1)
    assert (seeded['domain'] != arrays['domain']).any()


def test_two_processes_give_what_one_gives():
    images = np.stack([REFERENCE, bar(3., .2)] * 3)
    kinds = np.array([3, 4, 3, 4, 1, 2])
    one = morpho_sets.perturb_batch(images, kinds, (0, 0), processes=1)
    two = morpho_sets.perturb_batch(images, kinds, (0, 0), processes=2, chunk=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    assert (one[0][0] != one[0][2]).any()  # the same digit swollen at two places


def test_no_perturbation_keeps_the_digit():
    kept = morpho.perturb(REFERENCE, 'none')
    assert np.abs(kept.astype(float) - REFERENCE).mean() < 12
    np.testing.assert_allclose(morpho.measure(kept), morpho.measure(REFERENCE), rtol=.06,
                               atol=.02)


def test_thin_thick_splits_by_train_quantiles(tmp_path):
    base, _ = _stub(12)
    arrays, info = morpho_sets.thin_thick({'cache_dir': str(tmp_path)}, 'test', base,
                                          processes=1)
    low, high = info['thresholds']
    thickness = morpho_sets.morpho_mnist({'cache_dir': str(tmp_path)}, 'train', base,
                                         processes=1)[0]['attributes'][:, A['thickness']]
    np.testing.assert_allclose([low, high], np.quantile(thickness, [1 / 3, 2 / 3]), rtol=1e-6)
    assert info['kind'] == 'unpaired' and set(info['streams']) == {'a', 'b'}
    assert (arrays['attributes_a'][:, A['thickness']] < low).all()
    assert (arrays['attributes_b'][:, A['thickness']] > high).all()
    assert len(arrays['image_a']) + len(arrays['image_b']) <= 12
    assert info['stream_sizes'] == {'a': len(arrays['label_a']), 'b': len(arrays['label_b'])}
    chex.assert_equal_shape([arrays['image_a'][:1], arrays['image_b'][:1]])


def test_bad_base_images_are_one_line_errors(tmp_path):
    def base(name, split):
        return {'image': np.zeros((3, 32, 32, 3), np.uint8), 'label': np.zeros(3, np.int32)}
    with pytest.raises(JaxgenError) as error:
        morpho_sets.morpho_mnist({'cache_dir': str(tmp_path)}, 'train', base, processes=1)
    assert '\n' not in str(error.value) and 'JAXGEN_DATA_DIR' in str(error.value)


@pytest.mark.skipif(not os.environ.get('JAXGEN_DATA_DIR'),
                    reason='JAXGEN_DATA_DIR not set: the real MNIST files are not available')
def test_real_mnist_reference_row_and_a_subset(tmp_path):
    config = {'cache_dir': os.environ.get('JAXGEN_CACHE_DIR') or str(tmp_path)}
    train = base_arrays(config)('mnist', 'train')
    row = int(np.flatnonzero((train['image'][..., 0] == REFERENCE).all((1, 2)))[0])
    assert train['label'][row] == 5
    subset = {k: v[row:row + 40] for k, v in train.items()}
    arrays, _ = morpho_sets.morpho_mnist({'cache_dir': str(tmp_path)}, 'train',
                                         lambda name, split: subset, processes=1)
    np.testing.assert_allclose(arrays['attributes'][0], morpho.measure(REFERENCE), rtol=1e-6)
    means = arrays['attributes'].mean(0)
    assert 1.5 < means[A['thickness']] < 4 and 8 < means[A['width']] < 20
    assert 15 < means[A['height']] < 21 and abs(means[A['slant']]) < .4


def test_morpho_attributes_domains_are_sides_of_the_train_tertiles(tmp_path):
    """Bars on a 4x4 grid of thickness x slant: each kept digit lies on its domain's side
    of both tertiles, the middle ones are left out, and all four domains are filled."""
    grid = [bar(t, s) for t in (1.5, 2.5, 3.5, 4.5) for s in (-.4, -.1, .2, .5)]
    images = np.stack(grid)[..., None]

    def base(name, split):
        return {'image': images, 'label': np.arange(16, dtype=np.int32) % 10}
    arrays, info = morpho_sets.morpho_attributes({'cache_dir': str(tmp_path)}, 'test', base,
                                                 processes=1)
    assert info['domain_names'] == ['thin-upright', 'thin-slanted', 'thick-upright',
                                    'thick-slanted']
    assert info['counts'] == np.bincount(arrays['domain'], minlength=4).tolist()
    assert min(info['counts']) >= 1 and len(arrays['domain']) < 16
    for d, name in enumerate(info['domain_names']):
        rows = arrays['attributes'][arrays['domain'] == d]
        for attribute, side in info['domain_rules'][name].items():
            low, high = info['domain_thresholds'][attribute]
            value = rows[:, A[attribute]]
            assert (value < low).all() if side == 'low' else (value > high).all()
    measured = morpho_sets.morpho_mnist({'cache_dir': str(tmp_path)}, 'train', base,
                                        processes=1)[0]['attributes']
    assert info['attribute_medians']['slant'] == pytest.approx(
        float(np.median(measured[:, A['slant']])))
