"""Tests of ``tfds:<name>[/<config>]`` datasets (jaxgen/data/sources/tfds.py), offline:
``tfds.testing.mock_data`` with ``MockPolicy.USE_CODE`` generates random examples from each
dataset's feature spec (USE_FILES wants metadata files that TFDS does not ship for these
datasets), and download-and-prepare is a no-op under it. Mock images of datasets whose
images have no fixed size (cycle_gan, oxford_flowers102) come in random sizes, so those
need ``resize``. tests/test_tfds_prepared.py prepares a tiny dataset for real."""

from __future__ import annotations

import chex
import jax
import ml_collections
import numpy as np
import pytest

from jaxgen.data import load
from jaxgen.data.sources import tfds as tfds_source
from jaxgen.errors import JaxgenError
from tests import helpers
from tests.helpers import one_line

tfds = pytest.importorskip('tensorflow_datasets')

KEY = jax.random.key(0)
N = 6


@pytest.fixture(name='mock', autouse=True)
def mock_tfds():
    with tfds.testing.mock_data(num_examples=N, policy=tfds.testing.MockPolicy.USE_CODE):
        yield


def data_config(tmp_path, name: str, **fields) -> ml_collections.ConfigDict:
    return helpers.data_config(name, cache_dir=str(tmp_path / 'cache'), **fields)


def test_celeb_a_attributes_are_40_floats_with_sorted_names(tmp_path):
    ds = load(data_config(tmp_path, 'tfds:celeb_a', attributes_key='attributes', resize=16),
              'train')
    names = ds.info['attribute_names']
    assert len(names) == 40 and names == sorted(names) and 'Male' in names
    assert 'label' not in ds.arrays and 'num_classes' not in ds.info  # celeb_a has no label
    batch = ds.draw(ds.arrays, KEY, 0, 4)
    chex.assert_shape([batch['image'], batch['attributes']], [(4, 16, 16, 3), (4, 40)])
    chex.assert_type([batch['image'], batch['attributes']], np.float32)
    attributes = np.asarray(ds.arrays['attributes'])
    assert set(np.unique(attributes)) <= {0.0, 1.0}
    # Row by row the same values, in the same order, as the random-access reader gives.
    reader = tfds_source.source('celeb_a', data_config(
        tmp_path, 'tfds:celeb_a', attributes_key='attributes', resize=16), 'train')['']
    assert len(reader) == N
    example = tfds.data_source('celeb_a', split='train')[2]
    np.testing.assert_array_equal(reader[2]['attributes'],
                                  [float(example['attributes'][n]) for n in names])
    assert reader.gather([0, 1])['image'].shape == (2, 16, 16, 3)
    assert ds.info['shape'] == [16, 16, 3] and ds.info['num_examples'] == N
    assert ds.info['reader'] == 'data_source'  # random access, no tf.data


def test_horse2zebra_domains_are_two_unpaired_splits(tmp_path):
    config = data_config(tmp_path, 'tfds:cycle_gan/horse2zebra', domains=('A', 'B'), resize=8)
    ds = load(config, 'train')
    assert ds.info['tfds_splits'] == ['trainA', 'trainB'] and ds.info['kind'] == 'unpaired'
    assert ds.info['streams'] == {'a': ['image_a', 'label_a'], 'b': ['image_b', 'label_b']}
    assert ds.info['num_classes'] == 2 and ds.info['stream_sizes'] == {'a': N, 'b': N}
    batch = ds.draw(ds.arrays, KEY, 0, 4)
    chex.assert_shape([batch['image_a'], batch['image_b']], (4, 8, 8, 3))
    chex.assert_type([batch['image_a'], batch['label_a'], batch['label_b']],
                     [np.float32, np.int32, np.int32])
    assert load(config, 'test').info['tfds_splits'] == ['testA', 'testB']
    readers = tfds_source.source('cycle_gan/horse2zebra', config, 'train')
    assert sorted(readers) == ['a', 'b'] and sorted(readers['b'][0]) == ['image_b', 'label_b']


def test_oxford_flowers102_labels_resize_and_one_channel(tmp_path):
    config = data_config(tmp_path, 'tfds:oxford_flowers102', resize=12, channels=1)
    ds = load(config, 'test')
    assert ds.info['num_classes'] == 102 and ds.info['source'].endswith('oxford_flowers102/'
                                                                         '2.1.1')
    batch = ds.draw(ds.arrays, KEY, 0, 4)
    chex.assert_shape([batch['image'], batch['label']], [(4, 12, 12, 1), (4,)])
    chex.assert_type([batch['image'], batch['label']], [np.float32, np.int32])
    label = np.asarray(batch['label'])
    assert ((0 <= label) & (label < 102)).all()
    assert sorted(ds.arrays) == ['image', 'label']  # file_name is not read
    reader = tfds_source.source('oxford_flowers102', config, 'test')['']
    assert reader[0]['image'].shape == (12, 12, 1) and reader[0]['label'].dtype == np.int32


def test_data_prepared_without_random_access_is_read_through_tf_data(tmp_path, monkeypatch):
    def tfrecord_only(self, *args, **kwargs):
        raise NotImplementedError('Random access data source for file format tfrecord')
    monkeypatch.setattr(tfds.core.DatasetBuilder, 'as_data_source', tfrecord_only)
    config = data_config(tmp_path, 'tfds:cycle_gan/horse2zebra', domains=('A', 'B'), resize=8)
    ds = load(config, 'train')
    assert ds.info['reader'] == 'as_dataset' and ds.info['stream_sizes'] == {'a': N, 'b': N}
    chex.assert_shape([ds.arrays['image_a'], ds.arrays['image_b']], (N, 8, 8, 3))
    chex.assert_type([ds.arrays['image_a'], ds.arrays['label_b']], [np.uint8, np.int32])


def test_images_of_differing_sizes_need_resize(tmp_path):
    with pytest.raises(JaxgenError, match='different sizes.*config.data.resize') as error:
        load(data_config(tmp_path, 'tfds:oxford_flowers102'), 'train')
    one_line(error)


# Bad input: one line naming the problem and the fix.

def test_an_unknown_name_suggests_list_builders(tmp_path):
    for name in ('tfds:no_such_dataset_xyz', 'tfds:cycle_gan/no_such_config'):
        with pytest.raises(JaxgenError, match='unknown TFDS dataset') as error:
            load(data_config(tmp_path, name), 'train')
        assert 'tfds.list_builders' in one_line(error)


@pytest.mark.parametrize('field,key', [('image_key', 'img'), ('label_key', 'class'),
                                       ('attributes_key', 'attrs')])
def test_a_wrong_feature_key_names_the_available_ones(tmp_path, field, key):
    config = data_config(tmp_path, 'tfds:oxford_flowers102', resize=8, **{field: key})
    with pytest.raises(JaxgenError, match=f"no feature '{key}'") as error:
        load(config, 'train')
    assert "['file_name', 'image', 'label']" in one_line(error)
    assert f'config.data.tfds.{field}' in str(error.value)


def test_a_failed_download_is_one_line(tmp_path, monkeypatch):
    def offline(self, *args, **kwargs):
        raise ConnectionError('Name or service not known\nmore detail')
    monkeypatch.setattr(tfds.core.DatasetBuilder, 'download_and_prepare', offline)
    with pytest.raises(JaxgenError, match='could not download and prepare') as error:
        load(data_config(tmp_path, 'tfds:oxford_flowers102', resize=8), 'train')
    assert 'ConnectionError: Name or service not known' in one_line(error)
    assert str(tmp_path / 'cache' / 'tfds') in str(error.value)


def test_bad_tfds_settings_are_one_line(tmp_path):
    for fields, match in (({'domains': ('A',)}, 'domains'), ({'resize': -1}, 'resize')):
        with pytest.raises(JaxgenError, match=match) as error:
            load(data_config(tmp_path, 'tfds:cycle_gan/horse2zebra', **fields), 'train')
        one_line(error)
