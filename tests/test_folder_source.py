"""Tests of ``folder:<path>`` datasets (jaxgen/data/sources/folder.py) and of resizing and
channel conversion (jaxgen/data/preprocess.py), on tiny PNG folders written in tmp_path."""

from __future__ import annotations

import os

import chex
import jax
import ml_collections
import numpy as np
import pytest
from PIL import Image

from jaxgen.data import load, preprocess
from jaxgen.errors import JaxgenError
from tests import helpers
from tests.helpers import one_line

KEY = jax.random.key(0)


def write(path, pixels: np.ndarray) -> np.ndarray:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = np.asarray(pixels, np.uint8)
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)
    return pixels


def noise(seed: int, h: int, w: int, c: int = 3) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, (h, w, c)).astype(np.uint8)


def data_config(root, **fields) -> ml_collections.ConfigDict:
    return helpers.data_config(f'folder:{root}', **fields)


@pytest.fixture(name='classes')
def classes_folder(tmp_path):
    """train/ and test/ with class subfolders; each class's pixels are a constant value."""
    for split, count in (('train', 3), ('test', 2)):
        for value, name in ((40, 'cat'), (200, 'dog')):
            for i in range(count):
                write(tmp_path / split / name / f'{i}.png', np.full((6, 6, 3), value + i))
    return tmp_path


def test_class_subfolders_give_labels_in_sorted_order(classes):
    ds = load(data_config(classes), 'train')
    image, label = ds.arrays['image'], ds.arrays['label']
    assert image.shape == (6, 6, 6, 3) and image.dtype == np.uint8 and label.dtype == np.int32
    np.testing.assert_array_equal(label, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(image[:, 0, 0, 0], [40, 41, 42, 200, 201, 202])
    assert ds.info['class_names'] == ['cat', 'dog'] and ds.info['num_classes'] == 2
    assert ds.info['layout'] == 'classes' and ds.info['shape'] == [6, 6, 3]
    test = load(data_config(classes), 'test')
    np.testing.assert_array_equal(test.arrays['label'], [0, 0, 1, 1])
    batch = ds.draw(ds.arrays, KEY, 0, 4)
    chex.assert_shape(batch['image'], (4, 6, 6, 3))
    chex.assert_type([batch['image'], batch['label']], [np.float32, np.int32])


def test_class_subfolders_without_split_folders_serve_both_splits(tmp_path):
    write(tmp_path / 'b' / '0.png', np.full((4, 4, 1), 9))
    write(tmp_path / 'a' / '0.png', np.full((4, 4, 1), 7))
    ds = load(data_config(tmp_path, layout='classes'), 'test')
    np.testing.assert_array_equal(ds.arrays['label'], [0, 1])
    np.testing.assert_array_equal(ds.arrays['image'][:, 0, 0, 0], [7, 9])
    assert ds.arrays['image'].shape == (2, 4, 4, 1)
    # A colour JPEG (and an RGBA PNG) among greyscale PNGs: all stored as RGB.
    Image.fromarray(np.full((4, 4, 3), (200, 100, 50), np.uint8)).save(tmp_path / 'b' / '1.JPG')
    write(tmp_path / 'c' / '0.png', np.full((4, 4, 4), (1, 2, 3, 0)))
    image = load(data_config(tmp_path), 'train').arrays['image']
    assert image.shape == (4, 4, 4, 3)
    np.testing.assert_array_equal(image[:2, 0, 0], [[7, 7, 7], [9, 9, 9]])
    np.testing.assert_allclose(image[2], np.full((4, 4, 3), (200, 100, 50)), atol=3)  # JPEG
    np.testing.assert_array_equal(image[3], np.full((4, 4, 3), (1, 2, 3)))


@pytest.mark.parametrize('direction', ['AtoB', 'BtoA'])
def test_aligned_pairs_split_into_left_and_right_halves(tmp_path, direction):
    pairs = [write(tmp_path / 'train' / f'{i}.png', noise(i, 8, 16)) for i in range(5)]
    write(tmp_path / 'val' / '0.png', noise(9, 8, 16))
    ds = load(data_config(tmp_path, direction=direction), 'train')
    left = np.stack([p[:, :8] for p in pairs])
    right = np.stack([p[:, 8:] for p in pairs])
    a, b = (left, right) if direction == 'AtoB' else (right, left)
    np.testing.assert_array_equal(ds.arrays['image_a'], a)
    np.testing.assert_array_equal(ds.arrays['image_b'], b)
    assert ds.info['kind'] == 'paired' and ds.info['layout'] == 'aligned'
    assert load(data_config(tmp_path), 'test').info['folders'] == ['val']  # no test/: val/
    batch = ds.draw(ds.arrays, KEY, 0, 4)
    chex.assert_shape([batch['image_a'], batch['image_b']], (4, 8, 8, 3))
    chex.assert_type([batch['image_a'], batch['image_b']], np.float32)


def test_crop_and_flip_keep_an_aligned_pair_together(tmp_path):
    for i in range(4):
        half = noise(i, 8, 8)
        write(tmp_path / 'train' / f'{i}.png', np.concatenate([half, half], axis=1))
    ds = load(data_config(tmp_path, crop=5, flip=True), 'train')
    batch = ds.draw(ds.arrays, KEY, 3, 4)
    chex.assert_shape([batch['image_a'], batch['image_b']], (4, 5, 5, 3))
    np.testing.assert_array_equal(batch['image_a'], batch['image_b'])
    assert ds.info['shape'] == [5, 5, 3]


@pytest.fixture(name='unpaired')
def unpaired_folder(tmp_path):
    written = {}
    for split, counts in (('train', (5, 6)), ('test', (2, 3))):
        for domain, count in zip('AB', counts):
            written[split + domain] = [
                write(tmp_path / f'{split}{domain}' / f'{i:02d}.png', noise(i + 10 * count, 6, 6))
                for i in range(count)]
    return tmp_path, written


def test_cyclegan_folders_give_two_unpaired_streams(unpaired):
    root, written = unpaired
    ds = load(data_config(root), 'train')
    np.testing.assert_array_equal(ds.arrays['image_a'], np.stack(written['trainA']))
    np.testing.assert_array_equal(ds.arrays['image_b'], np.stack(written['trainB']))
    assert ds.info['kind'] == 'unpaired' and ds.info['stream_sizes'] == {'a': 5, 'b': 6}
    assert ds.info['streams'] == {'a': ['image_a'], 'b': ['image_b']}
    test = load(data_config(root, direction='BtoA'), 'test')
    np.testing.assert_array_equal(test.arrays['image_a'], np.stack(written['testB']))
    batch = ds.draw(ds.arrays, KEY, 0, 4)
    chex.assert_shape([batch['image_a'], batch['image_b']], (4, 6, 6, 3))


def test_resize_and_channels_bring_mixed_images_to_one_shape(tmp_path):
    write(tmp_path / 'red' / '0.png', np.full((5, 9, 3), (255, 0, 0)))
    write(tmp_path / 'red' / '1.png', np.full((12, 12, 1), 30))  # greyscale, other size
    write(tmp_path / 'zebra' / '0.png', np.full((7, 7, 3), (0, 0, 255)))
    grey = load(data_config(tmp_path, resize=4, channels=1), 'train').arrays['image']
    assert grey.shape == (3, 4, 4, 1)
    # Constant images stay constant; colour becomes ITU-R 601 luminance, as Pillow's 'L'.
    np.testing.assert_array_equal(grey[..., 0], np.full((3, 4, 4), [[[76]], [[30]], [[29]]]))
    colour = load(data_config(tmp_path, resize=4, channels=3), 'train').arrays['image']
    assert colour.shape == (3, 4, 4, 3)
    np.testing.assert_array_equal(colour[1], np.full((4, 4, 3), 30))
    np.testing.assert_array_equal(colour[2], np.full((4, 4, 3), (0, 0, 255)))


def test_shape_fields_resizes_images_and_converts_patch_channels():
    rng = np.random.RandomState(0)
    arrays = {'image_a': rng.randint(0, 256, (2, 10, 6, 1)).astype(np.uint8),
              'image_b': rng.randint(0, 256, (2, 10, 6, 1)).astype(np.uint8),
              'patches': rng.randint(0, 256, (2, 3, 4, 4, 3)).astype(np.uint8),
              'label': np.arange(2, dtype=np.int32)}
    fields = ('image', 'image_a', 'image_b', 'patches')
    out = preprocess.shape_fields(arrays, fields, 8, 3)
    chex.assert_shape([out['image_a'], out['image_b']], (2, 8, 8, 3))
    np.testing.assert_array_equal(out['image_a'][..., 0], out['image_a'][..., 2])
    assert out['patches'].shape == (2, 3, 4, 4, 3) and out['label'] is arrays['label']
    grey = preprocess.shape_fields(arrays, fields, 0, 1)['patches']
    expected = [np.asarray(Image.fromarray(p).convert('L')) for p in arrays['patches'][1]]
    np.testing.assert_array_equal(grey[1, ..., 0], np.stack(expected))
    again = preprocess.shape_fields(arrays, fields, 8, 3)
    np.testing.assert_array_equal(again['image_b'], out['image_b'])  # deterministic
    with pytest.raises(JaxgenError, match='channels'):
        preprocess.shape_fields(arrays, fields, 0, 2)


# Bad input: one line naming the problem and the fix.

def test_an_empty_folder_is_one_line(tmp_path):
    with pytest.raises(JaxgenError, match='empty') as error:
        load(data_config(tmp_path), 'train')
    one_line(error)
    os.makedirs(tmp_path / 'train' / 'cat')
    with pytest.raises(JaxgenError, match='no .* images') as error:
        load(data_config(tmp_path), 'train')
    one_line(error)


def test_a_corrupt_image_is_named(classes):
    (classes / 'train' / 'dog' / '9.png').write_bytes(b'not a png at all')
    with pytest.raises(JaxgenError, match='9.png') as error:
        load(data_config(classes), 'train')
    assert 'replace or delete' in one_line(error)


def test_images_of_two_sizes_need_resize(classes):
    write(classes / 'train' / 'dog' / '9.png', np.zeros((7, 6, 3)))
    with pytest.raises(JaxgenError, match=r'cat.0\.png is 6x6 and .*dog.9\.png is 6x7') as e:
        load(data_config(classes), 'train')
    assert 'config.data.resize' in one_line(e)
    assert load(data_config(classes, resize=6), 'train').arrays['image'].shape[1:] == (6, 6, 3)


def test_a_and_b_of_different_sizes_are_one_line(unpaired):
    root, _ = unpaired
    for i in range(6):
        write(root / 'trainB' / f'{i:02d}.png', noise(i, 8, 8))
    with pytest.raises(JaxgenError, match='A and B images differ in size') as error:
        load(data_config(root), 'train')
    assert 'config.data.resize' in one_line(error)


def test_an_odd_width_aligned_image_is_named(tmp_path):
    write(tmp_path / 'train' / '0.png', noise(0, 8, 16))
    write(tmp_path / 'train' / '1.png', noise(1, 8, 15))
    with pytest.raises(JaxgenError, match=r'1\.png is 15 pixels wide') as error:
        load(data_config(tmp_path), 'train')
    one_line(error)


@pytest.mark.parametrize('layout', ['aligned', 'unpaired'])
def test_a_missing_split_folder_is_one_line(tmp_path, layout):
    folder = 'train' if layout == 'aligned' else 'trainA'
    write(tmp_path / folder / '0.png', noise(0, 4, 8))
    write(tmp_path / 'trainB' / '0.png', noise(0, 4, 8))
    with pytest.raises(JaxgenError, match='no test.* subfolder for the test split') as error:
        load(data_config(tmp_path, layout=layout), 'test')
    one_line(error)


def test_bad_folder_settings_are_one_line(classes):
    for fields, match in (({'layout': 'pairs'}, 'layout'), ({'direction': 'AB'}, 'direction'),
                          ({}, 'does not exist')):
        config = data_config(classes if fields else classes / 'nope', **fields)
        with pytest.raises(JaxgenError, match=match) as error:
            load(config, 'train')
        one_line(error)
