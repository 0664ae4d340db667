"""``tfds:`` datasets prepared for real, offline: a tiny TFDS builder defined here generates
CycleGAN-like splits (trainA/trainB/testA/testB, no download), which jaxgen prepares as
ArrayRecord in its cache and reads back by random access (jaxgen/data/sources/tfds.py).
Unlike ``tfds.testing.mock_data``, the pixels and labels are known, and so are the splits."""

from __future__ import annotations

import chex
import jax
import numpy as np
import pytest

from jaxgen.data import load
from jaxgen.data.sources import network
from jaxgen.data.sources import tfds as tfds_source
from jaxgen.errors import JaxgenError
from tests import helpers
from tests.helpers import one_line

tfds = pytest.importorskip('tensorflow_datasets')
SPLITS = ('trainA', 'trainB', 'testA', 'testB')
N = 5


def pixel(split: str, i: int) -> int:
    """The value of every pixel of example ``i`` of ``split``; its label is ``i % 3``."""
    return 10 * i + 100 * split.startswith('test') + (1 if split.endswith('A') else 2)


class JaxgenTinyZebras(tfds.core.GeneratorBasedBuilder):
    """Constant colour images of two heights (6 and 7 rows), under renamed features."""
    VERSION = tfds.core.Version('1.0.0')

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            'picture': tfds.features.Image(shape=(None, None, 3)),
            'kind': tfds.features.ClassLabel(num_classes=3)}))

    def _split_generators(self, dl_manager):
        del dl_manager
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):  # pylint: disable=arguments-differ
        for i in range(N):
            yield i, {'picture': np.full((6 + i % 2, 6, 3), pixel(split, i), np.uint8),
                      'kind': i % 3}


class JaxgenTinyDownload(tfds.core.GeneratorBasedBuilder):
    """A dataset whose preparation starts with a download."""
    VERSION = tfds.core.Version('1.0.0')
    URL = 'https://data.example.invalid/tiny.zip'

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(4, 4, 1))}))

    def _split_generators(self, dl_manager):
        return {'train': self._generate_examples(dl_manager.download(self.URL))}

    def _generate_examples(self, path):  # pylint: disable=arguments-differ
        yield 0, {'image': np.zeros((4, 4, 1), np.uint8) + len(str(path))}


@pytest.mark.parametrize('online', ['unreachable', 'off'])
def test_an_offline_download_fails_at_once_in_one_line(tmp_path, monkeypatch, online):
    checked = []
    monkeypatch.setattr(network, 'unreachable', lambda url: checked.append(url) or 'no route')
    monkeypatch.setenv('JAXGEN_DOWNLOAD', '1' if online == 'unreachable' else '0')
    manager = tfds.download.DownloadManager
    original = manager.__dict__['_download']
    config = helpers.data_config('tfds:jaxgen_tiny_download', cache_dir=str(tmp_path))
    with pytest.raises(JaxgenError, match='could not download and prepare') as error:
        load(config, 'train')
    message = one_line(error)
    why = 'no route' if online == 'unreachable' else 'downloads are off'
    assert f'ConnectionError: {JaxgenTinyDownload.URL}: {why}' in message
    assert '--file_format=array_record' in message
    assert checked == ([JaxgenTinyDownload.URL] if online == 'unreachable' else [])
    assert manager.__dict__['_download'] is original  # TFDS is left as it was


@pytest.fixture(name='cache', scope='module')
def prepared_cache(tmp_path_factory):
    """A cache folder where jaxgen has prepared the dataset (once for this module)."""
    cache = tmp_path_factory.mktemp('cache')
    tfds_source.builder('jaxgen_tiny_zebras', helpers.data_config('', cache_dir=str(cache)))
    return cache


def data_config(cache, **fields):
    return helpers.data_config('tfds:jaxgen_tiny_zebras', cache_dir=str(cache),
                               image_key='picture', label_key='kind', **fields)


def test_prepared_splits_are_read_with_their_pixels_and_labels(cache):
    config = data_config(cache, domains=('A', 'B'), resize=4)
    for split in ('train', 'test'):
        ds = load(config, split)
        assert ds.info['reader'] == 'data_source' and ds.info['num_classes'] == 3
        assert ds.info['tfds_splits'] == [f'{split}A', f'{split}B']
        for stream, domain in (('a', 'A'), ('b', 'B')):
            image, label = ds.arrays[f'image_{stream}'], ds.arrays[f'label_{stream}']
            chex.assert_shape(image, (N, 4, 4, 3))
            values = image[:, 0, 0, 0].astype(int)
            assert (image == values[:, None, None, None]).all()  # constant images stay so
            assert sorted(values) == [pixel(split + domain, i) for i in range(N)]
            np.testing.assert_array_equal(label, (values % 100) // 10 % 3)  # rows kept
    batch = ds.draw(ds.arrays, jax.random.key(0), 0, 4)
    chex.assert_shape([batch['image_a'], batch['image_b']], (4, 4, 4, 3))
    reader = tfds_source.source('jaxgen_tiny_zebras', config, 'test')['b']
    for i in range(N):
        np.testing.assert_array_equal(reader[i]['image_b'], ds.arrays['image_b'][i])


def test_prepared_images_of_two_heights_need_resize(cache):
    with pytest.raises(JaxgenError, match=r'\(\d, 6, 3\) at example 0, \(\d, 6, 3\) at') as error:
        load(data_config(cache, domains=('A', 'B')), 'train')
    assert 'config.data.resize' in one_line(error)


def test_a_missing_split_names_the_splits(cache):
    with pytest.raises(JaxgenError, match=r"no split 'train'; its splits are \['testA', "
                                          r"'testB', 'trainA', 'trainB'\]") as error:
        load(data_config(cache, resize=4), 'train')
    assert '.domains' not in one_line(error)
    with pytest.raises(JaxgenError, match="no split 'trainC'.*train_split and .domains") as e:
        load(data_config(cache, resize=4, domains=('A', 'C')), 'train')
    one_line(e)


def test_a_streamed_tfds_split_is_read_by_random_access_and_matches_the_device_path(cache):
    """path='stream' holds only the first examples and reads the rest from ArrayRecord;
    its batches equal the on-device path's."""
    from jaxgen.data import stream as stream_lib  # pylint: disable=import-outside-toplevel
    config = data_config(cache, domains=('A', 'B'), resize=4)
    device = load(config, 'train')
    streamed = load(data_config(cache, domains=('A', 'B'), resize=4, path='stream'), 'train')
    assert set(streamed.sources) == {'a', 'b'} and device.sources is None
    assert isinstance(streamed.sources['a'], tfds_source.Source)
    key = jax.random.key(5)
    stream = stream_lib.Stream(streamed.sources, key, 2)
    draw = jax.jit(device.draw, static_argnums=3)
    for step in range(5):
        got = streamed.transform(jax.tree.map(lambda x: x[0], stream.next()), key, step)
        chex.assert_trees_all_equal(got, draw(device.arrays, key, step, 2))
    with pytest.raises(JaxgenError, match='image_field is not available when tfds: data is '
                                          'streamed') as error:
        load(data_config(cache, domains=('A', 'B'), resize=4, path='stream',
                         image_field='image_a'), 'train')
    one_line(error)
