"""The default feature extractor: a small convnet trained on the dataset itself.

No pretrained Inception weights can be downloaded here, so Fréchet distance,
KID, precision/recall and the classifier score use the features of a domain
classifier (TF-GAN's "Fréchet classifier distance"). Its architecture follows
the images' size: ``conv_layers(shape)`` 4x4 stride-2 ReLU convolutions (32, 64,
128, 256, 256... channels) until the larger side is at most 8 pixels, then
dense 256 (the features) and a dense head. 28x28 and 32x32 images get two
convolutions, 64 px three; for 28x28x1 with 10 classes this is the MNIST
classifier jaxgen always used. The head and its target are chosen by
:mod:`jaxgen.metrics.classifier_targets`: softmax over ``label`` (or ``domain``),
or sigmoid multi-label over binary ``attributes``.

It is trained deterministically (seed 0, Adam with a cosine decay from 1e-3,
batch 128, 5 epochs, random shifts of up to 2 pixels per 28, keys from
``fold_in(step)``) on the training split, its test accuracy measured (the mean
of the per-attribute accuracies for attributes, each also recorded), and both
cached in ``<cache_dir>/classifier/<dataset>_<H>x<W>x<C>_<target>_<hash>_v3``
(``.msgpack`` + ``.json``), the hash covering every setting and the number of
outputs: a 32x32 colour set never reuses a 28x28 classifier. A cache whose
metadata does not match, or that cannot be read, is trained afresh. Inputs are
images in [-1, 1].

An extractor is anything with ``features(images) -> [N, d]`` and
``logits(images) -> [N, outputs]`` (and ``multi_label``): InceptionV3 can be
added without touching the metrics.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from typing import Any, Sequence

import flax.serialization
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging

from jaxgen.data.pixels import scale_images
from jaxgen.metrics import classifier_targets as targets_lib
from jaxgen.metrics.classifier_net import (FEATURES, MAX_WIDTH, WIDTH, DomainNet, Extractor,
                                           conv_layers)

VERSION = 3
EPOCHS, BATCH, LEARNING_RATE, SEED, SHIFT = 5, 128, 1e-3, 0, 2
# The data settings that do not change what the classifier sees (it reads uint8 pixels).
IGNORED_DATA_SETTINGS = ('scale', 'binarize', 'flip', 'path')


def shift_pixels(shape: Sequence[int]) -> int:
    """The largest random shift: ``SHIFT`` pixels per 28 of the smaller side, at least 1."""
    return max(1, round(SHIFT * min(shape[0], shape[1]) / 28))


def settings(shape: Sequence[int], task: targets_lib.Task, epochs: int, seed: int) -> dict:
    """Everything the trained weights depend on besides the data (hashed into the key)."""
    return {'version': VERSION, 'shape': [int(s) for s in shape], 'target': task.target,
            'head': task.head, 'outputs': task.outputs, 'layers': conv_layers(shape),
            'width': WIDTH, 'max_width': MAX_WIDTH, 'features': FEATURES, 'epochs': epochs,
            'batch': BATCH, 'seed': seed, 'learning_rate': LEARNING_RATE,
            'schedule': 'cosine', 'shift': shift_pixels(shape)}


def settings_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]


def shift(images: jax.Array, key: jax.Array, pixels: int = SHIFT) -> jax.Array:
    """Each image moved by up to ``pixels`` in each direction (black fill, as in v2)."""
    padded = jnp.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels), (0, 0)),
                     constant_values=-1.0)
    offsets = jax.random.randint(key, (images.shape[0], 2), 0, 2 * pixels + 1)

    def crop(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), images.shape[1:])
    return jax.vmap(crop)(padded, offsets)


def _loss(logits: jax.Array, y: jax.Array, multi_label: bool) -> jax.Array:
    if multi_label:
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def train_classifier(train_arrays: dict, test_arrays: dict, target: str | None = None,
                     epochs: int | None = None, seed: int = SEED,
                     attribute_names: Sequence[str] | None = None,
                     task: targets_lib.Task | None = None) -> Extractor:
    """Trains the domain classifier from scratch, deterministically (``EPOCHS`` epochs
    unless given), on ``target`` (default: label, else domain, else attributes)."""
    epochs = EPOCHS if epochs is None else epochs
    train_arrays = targets_lib.classifier_arrays(train_arrays)
    test_arrays = targets_lib.classifier_arrays(test_arrays)
    task = task or targets_lib.make_task([train_arrays, test_arrays], target, attribute_names)
    images = jnp.asarray(train_arrays['image'])
    shape = images.shape[1:]
    spec = settings(shape, task, epochs, seed)
    net = DomainNet(task.outputs, spec['layers'])
    labels = jnp.asarray(targets_lib.target_values(train_arrays, task))
    n = images.shape[0]
    batch = min(BATCH, n)
    steps_per_epoch = n // batch
    init_key, data_key = jax.random.split(jax.random.key(seed))
    params = net.init(init_key, jnp.zeros((1, *shape)))['params']
    optimizer = optax.adam(optax.cosine_decay_schedule(LEARNING_RATE,
                                                       max(1, epochs * steps_per_epoch)))

    @jax.jit
    def epoch_order(epoch):  # once per epoch: a permutation is a sort of all n examples
        return jax.random.permutation(jax.random.fold_in(data_key, epoch), n)

    @jax.jit
    def step(params, opt_state, order, i, images, labels):  # data as arguments, not constants
        idx = jax.lax.dynamic_slice(order, ((i % steps_per_epoch) * batch,), (batch,))
        x = shift(scale_images(images[idx]), jax.random.fold_in(init_key, i), spec['shift'])

        def loss(p):
            return _loss(net.apply({'params': p}, x)[0], labels[idx], task.multi_label)
        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    opt_state = optimizer.init(params)
    started = time.perf_counter()
    for i in range(epochs * steps_per_epoch):
        if i % steps_per_epoch == 0:
            order = epoch_order(i // steps_per_epoch)
        params, opt_state, value = step(params, opt_state, order, i, images, labels)
        if (i + 1) % steps_per_epoch == 0:
            logging.info('domain classifier: epoch %d/%d, loss %.4f', (i + 1) // steps_per_epoch,
                         epochs, float(value))
    info = {**spec, 'settings_hash': settings_hash(spec), 'train_examples': int(n),
            'test_examples': int(len(test_arrays['image'])),
            'train_seconds': round(time.perf_counter() - started, 1)}
    extractor = Extractor(params, info)
    test_images = np.asarray(scale_images(test_arrays['image']))
    test_values = targets_lib.target_values(test_arrays, task)
    info['test_accuracy'] = extractor.accuracy(test_images, test_values)
    if task.multi_label:
        per = extractor.attribute_accuracy(test_images, test_values)
        info['attribute_accuracy'] = {k: float(v) for k, v in zip(task.names, per)}
    return extractor


def _safe(name: str) -> str:
    """A dataset name as a file name ('tfds:celeb_a' -> 'tfds_celeb_a'), short enough."""
    safe = re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_.') or 'data'
    return safe if len(safe) <= 60 else safe[:40] + '_' + settings_hash({'name': name})


def cache_paths(cache_dir: str, dataset: str, spec: dict) -> tuple[str, str]:
    """(weights, metadata) of the classifier of ``dataset`` trained with ``spec``."""
    h, w, c = spec['shape']
    base = os.path.join(os.path.expanduser(cache_dir), 'classifier',
                        f'{_safe(dataset)}_{h}x{w}x{c}_{spec["target"]}_'
                        f'{settings_hash(spec)}_v{VERSION}')
    return base + '.msgpack', base + '.json'


def _load_cached(weights: str, meta: str, spec: dict) -> Extractor | None:
    """The cached classifier if both files exist, match ``spec`` and read; else None."""
    if not (os.path.isfile(weights) and os.path.isfile(meta)):
        return None
    try:
        with open(meta) as f:
            info = json.load(f)
        if any(info.get(k) != v for k, v in spec.items()):
            raise ValueError(f'its settings differ from {spec}')
        template = DomainNet(spec['outputs'], spec['layers']).init(
            jax.random.key(0), jnp.zeros((1, *spec['shape'])))['params']
        with open(weights, 'rb') as f:
            params = flax.serialization.from_bytes(template, f.read())
        if jax.tree.map(jnp.shape, params) != jax.tree.map(jnp.shape, template):
            raise ValueError('its weights have other shapes')
        return Extractor(params, info)
    except (OSError, ValueError, KeyError, TypeError) as e:  # msgpack errors are ValueErrors
        logging.warning('domain classifier cache %s is unusable (%s); training afresh',
                        weights, e)
        return None


def _spec(test_arrays: dict, train_arrays: dict | None, target: str | None,
          attribute_names: Sequence[str] | None) -> tuple[dict, targets_lib.Task]:
    splits = [targets_lib.classifier_arrays(a) for a in (train_arrays, test_arrays)
              if a is not None]  # the train split may hold classes the test split lacks
    task = targets_lib.make_task(splits, target, attribute_names)
    return settings(splits[-1]['image'].shape[1:], task, EPOCHS, SEED), task


def find_cached(dataset: str, cache_dir: str, test_arrays: dict, target: str | None = None,
                attribute_names: Sequence[str] | None = None) -> Extractor | None:
    """The cached classifier for ``dataset``'s images and ``target``, or None."""
    spec, _ = _spec(test_arrays, None, target, attribute_names)
    return _load_cached(*cache_paths(cache_dir, dataset, spec), spec)


def load_or_train(dataset: str, cache_dir: str, train_arrays: dict, test_arrays: dict,
                  target: str | None = None,
                  attribute_names: Sequence[str] | None = None) -> Extractor:
    """The cached classifier for ``dataset``'s images and ``target``, trained (and cached)
    when absent; its ``info`` holds the settings and the test accuracy."""
    spec, task = _spec(test_arrays, train_arrays, target, attribute_names)
    weights, meta = cache_paths(cache_dir, dataset, spec)
    cached = _load_cached(weights, meta, spec)
    if cached is not None:
        return cached
    extractor = train_classifier(train_arrays, test_arrays, epochs=EPOCHS, task=task)
    extractor.info = {'dataset': dataset, **extractor.info}
    os.makedirs(os.path.dirname(weights), exist_ok=True)
    for path, payload in ((weights, flax.serialization.to_bytes(extractor.params)),
                          (meta, json.dumps(extractor.info, indent=2).encode())):
        tmp = f'{path}.{os.getpid()}.tmp'
        with open(tmp, 'wb') as f:
            f.write(payload)
        os.replace(tmp, path)  # a crash never leaves half a cache; the json is written last
    logging.info('domain classifier for %s (%s): test accuracy %.4f, cached in %s', dataset,
                 task.target, extractor.info['test_accuracy'], weights)
    return extractor


def _fit(arrays: dict, shape: Sequence[int]) -> dict:
    """Image fields centre-cropped to ``shape`` (what ``config.data.crop`` makes)."""
    return {k: targets_lib.centre_crop(v, shape) if k in ('image', 'image_a', 'image_b')
            else v for k, v in arrays.items()}


@functools.lru_cache(maxsize=None)
def _for_settings(config_json: str, target: str | None) -> Extractor:
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    config = ml_collections.ConfigDict(json.loads(config_json))  # .get and .tfds.x both work
    target = target or config.get('classifier_target') or None
    test = data.load(config, 'test')
    test_arrays = _fit(test.arrays, test.info['shape'])
    names = test.info.get('attribute_names')
    cached = find_cached(test.name, config['cache_dir'], test_arrays, target, names)
    if cached is not None:
        return cached
    train = data.load(config, 'train')
    return load_or_train(test.name, config['cache_dir'], _fit(train.arrays, test.info['shape']),
                         test_arrays, target, names)


def for_config(data_config: Any, name: str, target: str | None = None) -> Extractor:
    """The classifier of dataset ``name`` (the one loaded: 'digits' when MNIST fell back),
    as ``data_config`` shapes its images, on ``target`` (default
    ``config.data.classifier_target`` if set, else label, domain, attributes)."""
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    config = data_config.to_dict() if hasattr(data_config, 'to_dict') else dict(data_config)
    config = {k: v for k, v in config.items() if k not in IGNORED_DATA_SETTINGS}
    config['data_dir'], config['cache_dir'] = data.data_dirs(data_config)
    config.update(name=name, fallback=False)
    return _for_settings(json.dumps(config, sort_keys=True, default=str), target)


def for_data(name: str, cache_dir: str, data_dir: str | None = None,
             target: str | None = None) -> Extractor:
    """The classifier of dataset ``name`` at its stored size."""
    return for_config({'name': name, 'cache_dir': cache_dir, 'data_dir': data_dir}, name,
                      target)
