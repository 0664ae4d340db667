"""The domain classifier (deterministic, cached, learns), the metric suite on
known cases, and ``python -m jaxgen.evaluate`` on a real checkpoint."""

import json
import os

import jax
import numpy as np
import pytest

from jaxgen import data
from jaxgen import evaluate as evaluate_lib
from jaxgen import latent_tools
from jaxgen.metrics import classifier, suite
from jaxgen.training import train
from tests.test_train import digits_dcgan_config

DIGITS = {'name': 'digits'}
# One worker runs the whole module (pytest -n 2 --dist loadgroup), and the fixture
# is session-scoped (a module-scoped one is torn down whenever the worker's order
# interleaves another module's tests), so the classifier and the DCGAN train once.
pytestmark = pytest.mark.xdist_group('evaluation')


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """One digits DCGAN checkpoint and one digits classifier, cached where
    ``JAXGEN_CACHE_DIR`` points for the module's tests."""
    root = tmp_path_factory.mktemp('evaluation')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('JAXGEN_CACHE_DIR', str(root / 'cache'))
        patch.setattr(classifier, 'EPOCHS', 5)
        extractor = classifier.for_data('digits', str(root / 'cache'))
        workdir = str(root / 'run')
        config = digits_dcgan_config()
        config.metrics_every, config.metrics_samples = 1, 100  # steps 1 and 2
        train(config, workdir)
    return extractor, workdir, root  # the patches end here: other modules share the worker


@pytest.fixture
def cache_env(trained, monkeypatch):
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(trained[2] / 'cache'))
    return trained


def test_classifier_learns_and_is_deterministic(trained):
    extractor, _, _ = trained
    assert extractor.info['test_accuracy'] >= 0.85 and extractor.info['epochs'] == 5
    train_split, test_split = data.load(DIGITS, 'train'), data.load(DIGITS, 'test')
    runs = [classifier.train_classifier(train_split.arrays, test_split.arrays, epochs=1)
            for _ in range(2)]
    for a, b in zip(jax.tree.leaves(runs[0].params), jax.tree.leaves(runs[1].params)):
        np.testing.assert_array_equal(a, b)


def test_shift_moves_images_by_at_most_the_given_pixels():
    image = -np.ones((1, 28, 28, 1), np.float32)
    image[0, 14, 14, 0] = 1.0
    moved = np.asarray(classifier.shift(np.repeat(image, 64, 0), jax.random.key(0)))
    rows, cols = np.nonzero(moved[..., 0] > 0)[1:]
    assert len(rows) == 64 and np.abs(rows - 14).max() <= 2 and np.abs(cols - 14).max() <= 2
    assert len({(r, c) for r, c in zip(rows, cols)}) > 10  # really random


def test_classifier_cache_round_trip(trained, monkeypatch):
    extractor, _, root = trained
    files = sorted(os.listdir(root / 'cache' / 'classifier'))
    assert [f.split('_')[:3] for f in files] == [['digits', '28x28x1', 'label']] * 2
    assert files[0].endswith(f'_v{classifier.VERSION}.json') and files[1].endswith('.msgpack')

    def no_training(*args, **kwargs):
        raise AssertionError('trained again instead of loading the cache')
    monkeypatch.setattr(classifier, 'train_classifier', no_training)
    train_split, test_split = data.load(DIGITS, 'train'), data.load(DIGITS, 'test')
    cached = classifier.load_or_train('digits', str(root / 'cache'), train_split.arrays,
                                      test_split.arrays)
    images = suite.real_images(test_split.arrays, 50)
    np.testing.assert_array_equal(cached.features(images), extractor.features(images))
    assert cached.info['test_accuracy'] == extractor.info['test_accuracy']


def test_suite_tells_data_from_noise(trained):
    extractor = trained[0]
    train_split, test_split = data.load(DIGITS, 'train'), data.load(DIGITS, 'test')
    real = suite.real_images(test_split.arrays, 300)
    same = suite.real_images(train_split.arrays, 300)
    noise = np.random.default_rng(0).uniform(-1, 1, real.shape).astype(np.float32)
    key = jax.random.key(0)
    data_vs_data = suite.compare(extractor, real, same, key)
    data_vs_noise = suite.compare(extractor, real, noise, key)
    assert data_vs_noise['fd'] > 10 * data_vs_data['fd']
    assert data_vs_noise['kid'] > 10 * max(data_vs_data['kid'], data_vs_data['kid_error'])
    assert data_vs_data['precision'] > 0.5 and data_vs_noise['precision'] < 0.1
    assert data_vs_data['classifier_score'] > data_vs_noise['classifier_score']


def test_evaluate_command_writes_every_metric_for_a_checkpoint(cache_env):
    _, workdir, _ = cache_env
    results = evaluate_lib.evaluate(workdir, samples=200, pairs=40, ppl_samples=40)
    for name in ('fd', 'kid', 'kid_error', 'classifier_score', 'precision', 'recall',
                 'classifier_test_accuracy', 'swd_avg', 'swd_32', 'swd_16', 'diversity', 'ppl'):
        assert np.isfinite(results[name]), name
    with open(os.path.join(workdir, 'evaluation_2.json')) as f:
        record = json.load(f)
    assert record['samples'] == 200 and record['num_fake'] == 200 and record['fd'] > 0
    assert record['classifier']['target'] == 'label'
    assert record['classifier']['test_accuracy'] == results['classifier_test_accuracy']


def test_latent_tool_pictures_from_a_checkpoint(cache_env, tmp_path):
    _, workdir, _ = cache_env
    written = latent_tools.pictures(workdir, str(tmp_path / 'out'), num=200)
    for name in ('interpolation_lerp', 'interpolation_slerp', 'ablation'):
        assert (tmp_path / 'out' / f'{name}.png').is_file(), name
    assert set(written) >= {'interpolation_lerp', 'interpolation_slerp', 'ablation'}


def test_training_logs_the_distribution_metrics_at_their_interval(trained):
    _, workdir, _ = trained
    with open(os.path.join(workdir, 'eval.jsonl')) as f:
        records = [json.loads(line) for line in f]
    assert [r['step'] for r in records] == [1, 2]
    assert 0.0 < records[0]['wall_s'] < records[1]['wall_s']  # seconds since train() began
    assert all(np.isfinite(r['fd']) and r['num_fake'] == 100 for r in records)
