"""config.data.pair_domains: two domains of a dataset with domains as CycleGAN's unpaired
streams (jaxgen/data/domain_pairs.py), on a constructed dataset with known rows."""

import numpy as np
import pytest

from jaxgen import data, models
from jaxgen.errors import JaxgenError
from tests.test_cyclegan import tiny_config

NAMES = ['sans', 'serif', 'mono']
DOMAIN = np.array([0, 1, 2, 1, 0, 1, 0, 2, 1, 0], np.int32)


def stub(config, split, base):
    """Ten 8x8 images whose pixels all equal their row index; three domains."""
    del config, base
    n = len(DOMAIN)
    arrays = {'image': np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None],
                                       (n, 8, 8, 1)).copy(),
              'label': np.arange(n, dtype=np.int32) % 4, 'domain': DOMAIN,
              'attributes': np.arange(n, dtype=np.float32)[:, None] * np.ones(2, np.float32)}
    return arrays, {'name': 'stub_domains', 'kind': 'images', 'split': split,
                    'num_examples': n, 'shape': [8, 8, 1], 'num_classes': 4,
                    'domain_names': NAMES, 'counts': [4, 4, 2]}


@pytest.fixture
def stub_dataset(monkeypatch):
    monkeypatch.setitem(data.DERIVED, 'stub_domains', 'tests.test_domain_pairs:stub')
    return lambda pair, split='train': data.load({'name': 'stub_domains',
                                                  'pair_domains': pair}, split)


def test_each_stream_holds_exactly_its_domain_s_rows(stub_dataset):
    d = stub_dataset(('serif', 'sans'))
    rows = {'a': np.flatnonzero(DOMAIN == 1), 'b': np.flatnonzero(DOMAIN == 0)}
    for side, expected in rows.items():
        np.testing.assert_array_equal(d.arrays[f'image_{side}'][:, 0, 0, 0], expected)
        np.testing.assert_array_equal(d.arrays[f'label_{side}'], expected % 4)
        np.testing.assert_array_equal(d.arrays[f'attributes_{side}'][:, 1], expected)
    assert d.info['kind'] == 'unpaired' and d.info['domain_names'] == {'a': 'serif',
                                                                       'b': 'sans'}
    assert d.info['stream_sizes'] == {'a': 4, 'b': 4} and 'counts' not in d.info
    assert stub_dataset((2, 0)).info['pair_domains'] == ['mono', 'sans']  # by index too
    import jax  # pylint: disable=import-outside-toplevel
    batch = d.draw(d.arrays, jax.random.key(0), 0, 4)  # each stream from its own rows
    for side, expected in rows.items():
        drawn = np.round((np.asarray(batch[f'image_{side}'])[:, 0, 0, 0] + 1) * 127.5)
        assert set(drawn.astype(int)) <= set(expected), (side, drawn)
    model = models.build(tiny_config().model, d.info)  # a two-domain model takes it
    assert model.targets == ('AtoB', 'BtoA')


@pytest.mark.parametrize('pair, message', [
    (('sans', 'cursive'), "names 'cursive', not a domain of 'stub_domains'; its domains "
                          'are: sans, serif, mono'),
    (('sans', 'sans'), "names domain 'sans' twice"),
    (('sans',), 'must name two domains'),
])
def test_bad_pairs_are_one_line(stub_dataset, pair, message):
    with pytest.raises(JaxgenError, match=message) as info:
        stub_dataset(pair)
    assert '\n' not in str(info.value)


def test_a_dataset_without_domains_is_one_line(monkeypatch):
    monkeypatch.setitem(data.DERIVED, 'stub_domains', 'tests.test_domain_pairs:stub')
    plain = lambda *a: ({'image': np.zeros((2, 8, 8, 1), np.uint8)},  # noqa: E731
                        {'name': 'plain', 'shape': [8, 8, 1]})
    monkeypatch.setattr('tests.test_domain_pairs.stub', plain)
    with pytest.raises(JaxgenError, match="needs images with domains .* 'plain' has none"):
        data.load({'name': 'stub_domains', 'pair_domains': ('a', 'b')})
