"""The domain classifier (deterministic, cached, learns), the metric suite on
known cases, and ``python -m jaxgen.evaluate`` on a real checkpoint."""

import json
import os

import jax
import numpy as np
import pytest

from jaxgen import data
from jaxgen import evaluate as evaluate_lib
from jaxgen.metrics import classifier, suite
from jaxgen.training import train
from tests.test_train import digits_dcgan_config

DIGITS = {'name': 'digits'}


@pytest.fixture(scope='module')
def digits_classifier():
    train_split, test_split = data.load(DIGITS, 'train'), data.load(DIGITS, 'test')
    return classifier.train_classifier(train_split.arrays, test_split.arrays, epochs=40), \
        train_split, test_split


def test_classifier_learns_and_is_deterministic(digits_classifier):
    extractor, train_split, test_split = digits_classifier
    assert extractor.info['test_accuracy'] >= 0.9
    runs = [classifier.train_classifier(train_split.arrays, test_split.arrays, epochs=2)
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


def test_classifier_cache_round_trip(tmp_path, monkeypatch):
    train_split, test_split = data.load(DIGITS, 'train'), data.load(DIGITS, 'test')
    monkeypatch.setattr(classifier, 'EPOCHS', 2)
    first = classifier.load_or_train('digits', str(tmp_path), train_split.arrays,
                                     test_split.arrays)
    name = f'digits_v{classifier.VERSION}'
    assert sorted(os.listdir(tmp_path / 'classifier')) == [f'{name}.json', f'{name}.msgpack']

    def no_training(*args, **kwargs):
        raise AssertionError('trained again instead of loading the cache')
    monkeypatch.setattr(classifier, 'train_classifier', no_training)
    cached = classifier.load_or_train('digits', str(tmp_path))
    images = suite.real_images(test_split.arrays, 50)
    np.testing.assert_array_equal(cached.features(images), first.features(images))
    assert cached.info['test_accuracy'] == first.info['test_accuracy']


def test_suite_tells_data_from_noise(digits_classifier):
    extractor, train_split, test_split = digits_classifier
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


def test_evaluate_command_writes_every_metric_for_a_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.setattr(classifier, 'EPOCHS', 2)
    workdir = str(tmp_path / 'run')
    train(digits_dcgan_config(), workdir)
    results = evaluate_lib.evaluate(workdir, samples=200)
    for name in ('fd', 'kid', 'kid_error', 'classifier_score', 'precision', 'recall',
                 'classifier_test_accuracy'):
        assert np.isfinite(results[name]), name
    with open(os.path.join(workdir, 'evaluation_2.json')) as f:
        record = json.load(f)
    assert record['samples'] == 200 and record['num_fake'] == 200 and record['fd'] > 0


def test_training_logs_the_distribution_metrics_at_their_interval(tmp_path, monkeypatch):
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.setattr(classifier, 'EPOCHS', 2)
    config = digits_dcgan_config()
    config.num_steps, config.metrics_every, config.metrics_samples = 4, 2, 100
    workdir = tmp_path / 'run'
    train(config, str(workdir))
    with open(workdir / 'eval.jsonl') as f:
        records = [json.loads(line) for line in f]
    assert [r['step'] for r in records] == [2, 4]
    assert all(np.isfinite(r['fd']) and r['num_fake'] == 100 for r in records)
