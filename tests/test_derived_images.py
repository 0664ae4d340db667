"""Tests of the derived image datasets: edges (pix2pix pairs), MNIST <-> digits (unpaired
domains), 32x32 padding and colour MNIST, built from a small stub of ``base`` and, where
JAXGEN_DATA_DIR is set, from the real MNIST files; and their batches through ``load``."""

from __future__ import annotations

import os
import zlib

import chex
import jax
import numpy as np
import pytest

import jaxgen.data as data
from jaxgen.data.derived import domains, edges, glyphs, padded
from jaxgen.errors import JaxgenError

N = 40


def blobs(n: int = N, seed: int = 0) -> dict:
    """MNIST-like stubs: a bright rectangle (with a grey rim) on black, labels 0..9."""
    rng = np.random.default_rng(seed)
    image = np.zeros((n, 28, 28, 1), np.uint8)
    for i in range(n):
        t, l = rng.integers(3, 12, 2)
        h, w = rng.integers(6, 13, 2)
        image[i, t - 1:t + h + 1, l - 1:l + w + 1] = 128
        image[i, t:t + h, l:l + w] = 255
    return {'image': image, 'label': (np.arange(n) % 10).astype(np.int32)}


def stub_base(name: str, split: str) -> dict:
    assert name in ('mnist', 'fashion_mnist', 'digits') and split in ('train', 'test')
    n = {'mnist': N, 'fashion_mnist': N, 'digits': N // 2}[name]
    return blobs(n, seed=zlib.crc32(f'{name}/{split}'.encode()))


def assert_one_line(error) -> None:
    assert str(error.value) and '\n' not in str(error.value)


# Edges.

def test_edges_lie_on_the_intensity_steps_of_a_square():
    image = np.zeros((1, 28, 28, 1), np.uint8)
    image[0, 8:20, 8:20] = 255
    edge = edges.edge_maps(image)[0, ..., 0] == 0
    assert set(np.unique(edges.edge_maps(image))) == {0, 255}
    ys, xs = np.nonzero(edge)
    # Every edge pixel is within a pixel of the square's boundary (rows/cols 8 and 19) ...
    near = (np.minimum(np.abs(ys - 8), np.abs(ys - 19)) <= 1) | (
        np.minimum(np.abs(xs - 8), np.abs(xs - 19)) <= 1)
    assert near.all()
    assert not edge[11:17, 11:17].any() and not edge[:5].any() and not edge[24:].any()
    # ... and each side of the square has edges along most of its length.
    for side in (edge[7:10, 10:18], edge[18:21, 10:18]):
        assert side.any(0).sum() >= 7
    for side in (edge[10:18, 7:10], edge[10:18, 18:21]):
        assert side.any(1).sum() >= 7


def test_edges_are_white_background_black_lines_and_deterministic(tmp_path):
    a, info = edges.edges2mnist({'cache_dir': str(tmp_path / 'one')}, 'train', stub_base)
    b, _ = edges.edges2mnist({'cache_dir': str(tmp_path / 'two')}, 'train', stub_base)
    for f in ('image_a', 'image_b', 'label'):
        np.testing.assert_array_equal(a[f], b[f])
    raw = stub_base('mnist', 'train')
    np.testing.assert_array_equal(a['image_b'], raw['image'])
    np.testing.assert_array_equal(a['label'], raw['label'])
    assert set(np.unique(a['image_a'])) == {0, 255}
    assert (a['image_a'] == 255).mean() > 0.8  # mostly white background
    assert ((a['image_a'] == 0).sum((1, 2, 3)) > 0).all()  # every image has edges
    assert info['kind'] == 'paired' and info['parameters']['sigma'] == edges.SIGMA
    assert info['parameters']['low_threshold'] == edges.LOW
    assert info['parameters']['high_threshold'] == edges.HIGH


def test_edges2fashion_all_classes_or_shoes_and_bags(tmp_path):
    everything, info = edges.edges2fashion({'cache_dir': str(tmp_path)}, 'test', stub_base)
    assert set(everything['label']) == set(range(10)) and len(info['class_names']) == 10
    config = {'cache_dir': str(tmp_path), 'edges': {'classes': 'shoes_bags'}}
    shoes, info = edges.edges2fashion(config, 'test', stub_base)
    assert set(shoes['label']) == {5, 7, 8, 9} and info['name'] == 'edges2fashion_shoes_bags'
    keep = np.isin(everything['label'], (5, 7, 8, 9))
    np.testing.assert_array_equal(shoes['image_a'], everything['image_a'][keep])
    with pytest.raises(JaxgenError) as error:
        edges.edges2fashion({'cache_dir': str(tmp_path), 'edges': {'classes': 'shoes'}}, 'test',
                            stub_base)
    assert_one_line(error)


# Unpaired domains.

def test_mnist2digits_has_two_streams_with_their_labels(tmp_path):
    arrays, info = domains.mnist2digits({'cache_dir': str(tmp_path)}, 'train', stub_base)
    for f in ('image', 'label'):
        np.testing.assert_array_equal(arrays[f'{f}_a'], stub_base('mnist', 'train')[f])
        np.testing.assert_array_equal(arrays[f'{f}_b'], stub_base('digits', 'train')[f])
    assert info['streams'] == {'a': ['image_a', 'label_a'], 'b': ['image_b', 'label_b']}
    assert info['kind'] == 'unpaired' and info['stream_sizes'] == {'a': N, 'b': N // 2}
    assert info['num_examples'] == N // 2


# Padding and colour.

@pytest.mark.parametrize('fn,base_name', [(padded.mnist32, 'mnist'),
                                          (padded.fashion_mnist32, 'fashion_mnist')])
def test_padding_is_exact(tmp_path, fn, base_name):
    arrays, info = fn({'cache_dir': str(tmp_path)}, 'test', stub_base)
    raw = stub_base(base_name, 'test')
    chex.assert_shape(arrays['image'], (N, 32, 32, 1))
    np.testing.assert_array_equal(arrays['image'][:, 2:30, 2:30], raw['image'])
    frame = arrays['image'].copy()
    frame[:, 2:30, 2:30] = 0
    assert not frame.any() and info['shape'] == [32, 32, 1]
    np.testing.assert_array_equal(arrays['label'], raw['label'])


def test_colour_pairs_differ_and_attributes_match_the_pixels(tmp_path):
    arrays, info = padded.colour_mnist({'cache_dir': str(tmp_path)}, 'train', stub_base)
    raw = padded.pad32(stub_base('mnist', 'train')['image'])[..., 0]
    k = len(padded.PALETTE)
    rgb = np.asarray(list(padded.PALETTE.values()), np.uint8)
    chex.assert_shape(arrays['attributes'], (N, 2 * k))
    assert arrays['attributes'].dtype == np.float32
    np.testing.assert_array_equal(arrays['attributes'].reshape(N, 2, k).sum(-1), 1.0)
    digit = arrays['attributes'][:, :k].argmax(1)
    background = arrays['attributes'][:, k:].argmax(1)
    assert (digit != background).all()
    for i in range(N):
        ink, paper = arrays['image'][i][raw[i] == 255], arrays['image'][i][raw[i] == 0]
        assert len(ink) and len(paper)
        np.testing.assert_array_equal(ink, np.broadcast_to(rgb[digit[i]], ink.shape))
        np.testing.assert_array_equal(paper, np.broadcast_to(rgb[background[i]], paper.shape))
    assert info['attribute_names'][digit[0]] == f'digit_{list(padded.PALETTE)[digit[0]]}'
    assert len(info['attribute_names']) == 2 * k and info['seed'] == padded.SEED


def test_colours_cover_every_distinct_pair_and_splits_differ():
    digit, background = padded.draw_colours(20000, padded.SEED, 'train')
    k = len(padded.PALETTE)
    assert (digit != background).all()
    assert len(set(zip(digit.tolist(), background.tolist()))) == k * (k - 1)
    test_digit, _ = padded.draw_colours(20000, padded.SEED, 'test')
    assert (digit != test_digit).any()


# Batches through load().

NAMES = ('edges2fashion', 'edges2mnist', 'mnist2digits', 'mnist32', 'fashion_mnist32',
         'colour_mnist', 'glyphs')
IMAGE, SCALAR = (28, 28, 1), ()
FIELDS = {  # name -> {field: shape after the batch dimension}
    'edges2fashion': {'image_a': IMAGE, 'image_b': IMAGE, 'label': SCALAR},
    'edges2mnist': {'image_a': IMAGE, 'image_b': IMAGE, 'label': SCALAR},
    'mnist2digits': {'image_a': IMAGE, 'label_a': SCALAR, 'image_b': IMAGE, 'label_b': SCALAR},
    'mnist32': {'image': (32, 32, 1), 'label': SCALAR},
    'fashion_mnist32': {'image': (32, 32, 1), 'label': SCALAR},
    'colour_mnist': {'image': (32, 32, 3), 'label': SCALAR, 'attributes': (16,)},
    'glyphs': {'image': IMAGE, 'label': SCALAR, 'domain': SCALAR},
}


@pytest.fixture
def stubbed(monkeypatch):
    """``base`` is the stub, and glyphs are drawn from two fonts only (to be fast)."""
    monkeypatch.setattr(data, 'base_arrays', lambda config: stub_base)
    fonts = [p for p in glyphs.font_paths() if p.endswith(('/DejaVuSans.ttf', '/cmr10.ttf'))]
    monkeypatch.setattr(glyphs, 'font_paths', lambda: fonts)


@pytest.mark.parametrize('name', NAMES)
def test_load_batches_have_the_fields_shapes_and_dtypes(tmp_path, stubbed, name):
    del stubbed
    dataset = data.load({'name': name, 'cache_dir': str(tmp_path)}, 'test')
    arrays, fields = dataset.arrays, FIELDS[name]
    assert set(arrays) == set(fields)
    stored = {3: np.uint8, 1: np.float32, 0: np.int32}
    for f, shape in fields.items():
        assert arrays[f].dtype == stored[len(shape)], f
        chex.assert_shape(arrays[f], (None,) + shape)
    batch = dataset.draw(arrays, jax.random.key(0), 0, 8)
    assert set(batch) == set(fields)
    for f, shape in fields.items():
        chex.assert_shape(batch[f], (8,) + shape)
        chex.assert_type(batch[f], int if shape == SCALAR else float)
    assert os.path.exists(dataset.info['cache_path'])
    assert dataset.info['kind'] == {'edges2fashion': 'paired', 'edges2mnist': 'paired',
                                    'mnist2digits': 'unpaired'}.get(name, 'images')


# Real MNIST.

real = pytest.mark.skipif(not os.environ.get('JAXGEN_DATA_DIR'),
                          reason='needs JAXGEN_DATA_DIR with the original MNIST files')


@real
def test_real_mnist32_colour_and_domains(tmp_path):
    base = data.base_arrays({})  # MNIST from JAXGEN_DATA_DIR / JAXGEN_CACHE_DIR
    config = {'cache_dir': str(tmp_path)}
    raw = base('mnist', 'test')
    arrays, _ = padded.mnist32(config, 'test', base)
    chex.assert_shape(arrays['image'], (10000, 32, 32, 1))
    np.testing.assert_array_equal(arrays['image'][:, 2:30, 2:30], raw['image'])
    colour, _ = padded.colour_mnist(config, 'test', base)
    chex.assert_shape(colour['image'], (10000, 32, 32, 3))
    pairs, info = domains.mnist2digits(config, 'test', base)
    assert info['stream_sizes'] == {'a': 10000, 'b': 297}
    assert set(pairs['label_a']) == set(pairs['label_b']) == set(range(10))
