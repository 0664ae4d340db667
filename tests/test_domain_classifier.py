"""The domain classifier for any image shape and target: its architecture follows the size,
it learns binary attributes, it is cached per dataset, shape, target and settings, and bad
input gets one line."""

import json
import os

import chex
import jax
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.metrics import classifier, classifier_net, scores, suite
from jaxgen.metrics import classifier_targets as targets

ATTRIBUTES = ('top_left', 'top_right', 'bottom_left', 'bottom_right')


def squares(n: int, shape=(28, 28, 1), seed: int = 0) -> dict:
    """Noise images; attribute k = a bright square in quadrant k; label = the attributes as
    a 4-bit number."""
    h, w, c = shape
    rng = np.random.default_rng(seed)
    attributes = rng.integers(0, 2, (n, 4)).astype(np.float32)
    images = rng.integers(0, 60, (n, h, w, c)).astype(np.uint8)
    for k in range(4):
        top, left = (k // 2) * (h // 2) + h // 8, (k % 2) * (w // 2) + w // 8
        region = images[:, top:top + h // 4, left:left + w // 4]
        region[attributes[:, k] > 0] = 230
    label = (attributes @ 2.0 ** np.arange(4)).astype(np.int32)
    return {'image': images, 'attributes': attributes, 'label': label}


def without(arrays: dict, *fields: str) -> dict:
    return {k: v for k, v in arrays.items() if k not in fields}


@pytest.fixture(scope='module')
def counted():
    """load_or_train of a multi-label set (no label: attributes by default), trainings
    counted; the classifier trains for 2 epochs of 512 examples."""
    calls = []
    real = classifier.train_classifier

    def counting(*args, **kwargs):
        calls.append(args[0]['image'].shape[1:])
        return real(*args, **kwargs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(classifier, 'train_classifier', counting)
        patch.setattr(classifier, 'EPOCHS', 2)
        yield classifier.load_or_train, calls


@pytest.fixture(scope='module')
def trained(counted, tmp_path_factory):
    load, calls = counted
    cache = str(tmp_path_factory.mktemp('classifier_cache'))
    train, test = without(squares(512), 'label'), without(squares(256, seed=1), 'label')
    extractor = load('squares', cache, train, test, attribute_names=ATTRIBUTES)
    return extractor, cache, train, test


def test_architecture_follows_the_size_and_keeps_the_mnist_classifier():
    assert [classifier_net.conv_layers(s) for s in ((28, 28), (32, 32), (64, 48), (48, 64),
                                                    (8, 8), (16, 16), (256, 256), (64, 16),
                                                    (16, 64))] == [2, 2, 3, 3, 1, 1, 5, 3, 3]
    params = jax.eval_shape(lambda: classifier_net.DomainNet(10, 2).init(
        jax.random.key(0), np.zeros((1, 28, 28, 1), np.float32)))['params']
    shapes = {k: v['kernel'].shape for k, v in params.items()}
    assert shapes == {'Conv_0': (4, 4, 1, 32), 'Conv_1': (4, 4, 32, 64),  # as in v2
                      'Dense_0': (7 * 7 * 64, 256), 'Dense_1': (256, 10)}


@pytest.mark.parametrize('shape', [(28, 28, 1), (32, 32, 3), (64, 48, 3)])
def test_features_and_logits_have_the_right_shapes(shape):
    train, test = squares(64, shape), squares(32, shape, seed=1)
    train['label'] %= 5
    test['label'] %= 5  # five classes: the head's size comes from the data
    extractor = classifier.train_classifier(train, test, epochs=0)  # untrained: shapes only
    images = np.asarray(suite.real_images(test, 32))
    features, logits = extractor.features(images), extractor.logits(images)
    chex.assert_shape(features, (32, 256))
    chex.assert_shape(logits, (32, 5))
    chex.assert_type([features, logits], np.float32)
    assert extractor.info['shape'] == list(shape) and extractor.info['target'] == 'label'
    assert extractor.info['layers'] == classifier_net.conv_layers(shape)
    with pytest.raises(JaxgenError, match='takes images of shape'):
        extractor.features(np.zeros((2, 30, 30, shape[-1]), np.float32))


def test_multi_label_attributes_are_learnt_and_each_accuracy_recorded(trained):
    extractor, cache, _, test = trained
    info = extractor.info
    assert info['target'] == 'attributes' and info['head'] == 'sigmoid' and info['outputs'] == 4
    assert extractor.multi_label and info['epochs'] == 2
    assert set(info['attribute_accuracy']) == set(ATTRIBUTES)
    assert min(info['attribute_accuracy'].values()) >= 0.9, info['attribute_accuracy']
    assert info['test_accuracy'] == pytest.approx(np.mean(list(info['attribute_accuracy']
                                                               .values())))
    assert info['test_accuracy'] >= 0.95
    images = suite.real_images(test, 256)
    assert extractor.accuracy(images, test['attributes']) == info['test_accuracy']
    [meta] = [f for f in os.listdir(os.path.join(cache, 'classifier')) if f.endswith('.json')]
    with open(os.path.join(cache, 'classifier', meta)) as f:
        saved = json.load(f)
    assert saved['test_accuracy'] == info['test_accuracy'] and saved['dataset'] == 'squares'
    assert saved['attribute_accuracy'] == info['attribute_accuracy']
    assert meta.startswith('squares_28x28x1_attributes_')
    assert meta.endswith(f'_v{classifier.VERSION}.json')


def test_cache_is_reused_and_never_for_another_shape_or_target(trained, counted):
    extractor, cache, train, test = trained
    load, calls = counted
    assert len(calls) == 1
    again = load('squares', cache, train, test, attribute_names=ATTRIBUTES)
    assert len(calls) == 1  # loaded, not trained
    images = suite.real_images(test, 64)
    np.testing.assert_array_equal(again.features(images), extractor.features(images))
    assert classifier.find_cached('squares', cache, test, attribute_names=ATTRIBUTES)

    colour = [without(squares(n, (16, 16, 3), seed=s), 'label') for n, s in ((128, 0), (64, 1))]
    assert classifier.find_cached('squares', cache, colour[1]) is None
    other = load('squares', cache, *colour)
    assert len(calls) == 2 and calls[-1] == (16, 16, 3) and other.info["shape"] == [16, 16, 3]
    assert load('squares', cache, train, test, attribute_names=ATTRIBUTES) is not None
    assert len(calls) == 2  # both cached side by side
    assert len(os.listdir(os.path.join(cache, 'classifier'))) == 4
    labelled = {**test, 'label': (test['attributes'] @ 2.0 ** np.arange(4)).astype(np.int32)}
    assert classifier.find_cached('squares', cache, labelled) is None  # label is the default
    assert classifier.find_cached('squares', cache, labelled, 'attributes', ATTRIBUTES)


def test_unreadable_or_mismatched_cache_is_not_used(trained, tmp_path):
    extractor, cache, _, test = trained
    folder = os.path.join(cache, 'classifier')
    spec = {k: extractor.info[k] for k in classifier.settings(
        (28, 28, 1), targets.make_task([test]), 1, 0)}
    weights, meta = classifier.cache_paths(str(tmp_path), 'squares', spec)
    os.makedirs(os.path.dirname(weights))
    name = os.path.basename(weights)[:-len('.msgpack')]
    with open(os.path.join(folder, name + '.json')) as f:
        info = json.load(f)
    with open(meta, 'w') as f:
        json.dump(info, f)
    with open(weights, 'wb') as f:
        f.write(b'not msgpack')
    assert classifier.find_cached('squares', str(tmp_path), test) is None
    with open(os.path.join(folder, name + '.msgpack'), 'rb') as f:
        good = f.read()
    with open(weights, 'wb') as f:
        f.write(good)
    assert classifier.find_cached('squares', str(tmp_path), test) is not None
    with open(meta, 'w') as f:
        json.dump({**info, 'outputs': 5}, f)
    assert classifier.find_cached('squares', str(tmp_path), test) is None


def test_the_default_target_is_label_then_domain_then_attributes():
    full = {**squares(8), 'domain': np.arange(8, dtype=np.int32) % 2}
    assert targets.choose_target(full) == 'label'
    assert targets.choose_target(without(full, 'label')) == 'domain'
    assert targets.choose_target(without(full, 'label', 'domain')) == 'attributes'
    assert targets.choose_target(full, 'domain') == 'domain'
    task = targets.make_task([without(full, 'label')])
    assert (task.target, task.outputs, task.multi_label) == ('domain', 2, False)
    unpaired = targets.classifier_arrays({'image_a': full['image'][:5],
                                          'image_b': full['image'][:3]})
    assert unpaired['image'].shape == (8, 28, 28, 1)
    np.testing.assert_array_equal(unpaired['domain'], [0] * 5 + [1] * 3)
    signs = targets.make_task([{**full, 'attributes': full['attributes'] * 2 - 1}], 'attributes')
    values = targets.target_values({**full, 'attributes': full['attributes'] * 2 - 1}, signs)
    np.testing.assert_array_equal(values, full['attributes'])


@pytest.mark.parametrize('arrays, target, message', [
    ({'image': np.zeros((4, 8, 8, 1), np.uint8)}, None, 'needs a label, domain or attributes'),
    (without(squares(4), 'label'), 'label', "target 'label' is not a field"),
    (squares(4), 'colour', 'unknown domain classifier target'),
    ({**squares(4), 'attributes': np.full((4, 2), 0.3, np.float32)}, 'attributes', 'binary'),
    ({**squares(4), 'label': np.full(4, 1.5, np.float32)}, None, 'non-negative integers'),
    ({'label': np.zeros(4, np.int32)}, None, 'needs an image field'),
    ({**squares(4), 'label': np.zeros(4, np.int32)}, None, 'at least two label values'),
])
def test_bad_input_gets_one_line_and_writes_nothing(arrays, target, message, tmp_path):
    with pytest.raises(JaxgenError, match=message) as error:
        classifier.load_or_train('bad', str(tmp_path), arrays, arrays, target)
    assert '\n' not in str(error.value)
    assert not os.listdir(tmp_path)


def test_for_config_trains_on_the_images_the_model_sees(tmp_path, monkeypatch):
    seen = {}

    def capture(name, cache_dir, train, test, target=None, attribute_names=None):
        seen.update(name=name, train=train['image'].shape, test=test['image'].shape,
                    target=target, cache=cache_dir)
        return 'extractor'
    monkeypatch.setattr(classifier, 'load_or_train', capture)
    config = {'name': 'digits', 'cache_dir': str(tmp_path), 'crop': 24, 'scale': 'unit',
              'classifier_target': 'label'}
    assert classifier.for_config(config, 'digits') == 'extractor'
    assert seen['train'][1:] == seen['test'][1:] == (24, 24, 1)
    assert seen['target'] == 'label' and seen['cache'] == str(tmp_path)
    real = suite.real_images({'image': np.zeros((3, 28, 28, 1), np.uint8)}, 3, shape=(24, 24))
    assert real.shape == (3, 24, 24, 1)


def test_attribute_score_counts_independent_confident_attributes():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (4000, 3)).astype(np.float32)
    confident = (bits * 2 - 1) * 30.0
    assert scores.attribute_score(confident)[0] == pytest.approx(8.0, rel=0.02)  # 2 ** 3
    assert scores.attribute_score(np.full((100, 3), 30.0))[0] == pytest.approx(1.0, abs=1e-4)
    assert scores.attribute_score(np.zeros((100, 3)))[0] == pytest.approx(1.0, abs=1e-4)
