"""The default feature extractor: a small convnet trained on the dataset itself.

No pretrained Inception weights can be downloaded here, so Fréchet distance,
KID, precision/recall and the classifier score use the features of a domain
classifier (TF-GAN's "Fréchet classifier distance"): conv 32 - conv 64 (4x4,
stride 2, ReLU) - dense 256 (the features) - dense ``classes`` (the logits).

It is trained deterministically (seed 0, Adam with a cosine decay from 1e-3,
batch 128, 5 epochs, random shifts of up to 2 pixels, keys from
``fold_in(step)``) on the training split, its test accuracy measured, and
both cached in ``<cache_dir>/classifier/<dataset>_v2.msgpack`` (+ ``.json``);
later calls load the cache. Inputs are images in [-1, 1].

An extractor is anything with ``features(images) -> [N, d]`` and
``logits(images) -> [N, classes]``: InceptionV3 can be added without touching
the metrics.
"""

from __future__ import annotations

import functools
import json
import os
import time
from typing import Any

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from jaxgen.data.pixels import scale_images

VERSION = 2
EPOCHS, BATCH, LEARNING_RATE, SEED, SHIFT = 5, 128, 1e-3, 0, 2


class DomainNet(nn.Module):
    classes: int = 10

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = nn.relu(nn.Conv(32, (4, 4), strides=(2, 2), padding='SAME')(x))
        h = nn.relu(nn.Conv(64, (4, 4), strides=(2, 2), padding='SAME')(h))
        features = nn.relu(nn.Dense(256)(h.reshape(x.shape[0], -1)))
        return nn.Dense(self.classes)(features), features


class Extractor:
    """A trained :class:`DomainNet`: ``features`` and ``logits`` of [-1, 1] images."""

    def __init__(self, params: Any, classes: int, info: dict):
        self.net, self.params, self.info = DomainNet(classes), params, info
        self._apply = jax.jit(lambda p, x: self.net.apply({'params': p}, x))

    def _batched(self, images, index: int, batch: int = 1000) -> np.ndarray:
        images = np.asarray(images, np.float32)
        return np.concatenate([np.asarray(self._apply(self.params, images[i:i + batch])[index])
                               for i in range(0, len(images), batch)])

    def features(self, images) -> np.ndarray:
        return self._batched(images, 1)

    def logits(self, images) -> np.ndarray:
        return self._batched(images, 0)

    def accuracy(self, images, labels) -> float:
        return float(np.mean(np.argmax(self.logits(images), -1) == np.asarray(labels)))


def shift(images: jax.Array, key: jax.Array, pixels: int = SHIFT) -> jax.Array:
    """Each image moved by up to ``pixels`` in each direction (background fill)."""
    padded = jnp.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels), (0, 0)),
                     constant_values=-1.0)
    offsets = jax.random.randint(key, (images.shape[0], 2), 0, 2 * pixels + 1)

    def crop(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), images.shape[1:])
    return jax.vmap(crop)(padded, offsets)


def train_classifier(train_arrays: dict, test_arrays: dict, classes: int = 10,
                     epochs: int | None = None, seed: int = SEED) -> Extractor:
    """Trains the domain classifier from scratch, deterministically (``EPOCHS`` epochs
    unless given)."""
    epochs = EPOCHS if epochs is None else epochs
    net = DomainNet(classes)
    images = jnp.asarray(train_arrays['image'])
    labels = jnp.asarray(train_arrays['label'])
    n = images.shape[0]
    steps_per_epoch = n // BATCH
    init_key, data_key = jax.random.split(jax.random.key(seed))
    params = net.init(init_key, jnp.zeros((1, *images.shape[1:])))['params']
    optimizer = optax.adam(optax.cosine_decay_schedule(LEARNING_RATE,
                                                       epochs * steps_per_epoch))

    @jax.jit
    def epoch_order(epoch):  # once per epoch: a permutation is a sort of all n examples
        return jax.random.permutation(jax.random.fold_in(data_key, epoch), n)

    @jax.jit
    def step(params, opt_state, order, i):
        idx = jax.lax.dynamic_slice(order, ((i % steps_per_epoch) * BATCH,), (BATCH,))
        x, y = shift(scale_images(images[idx]), jax.random.fold_in(init_key, i)), labels[idx]

        def loss(p):
            logits, _ = net.apply({'params': p}, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    opt_state = optimizer.init(params)
    started = time.perf_counter()
    for i in range(epochs * steps_per_epoch):
        if i % steps_per_epoch == 0:
            order = epoch_order(i // steps_per_epoch)
        params, opt_state, value = step(params, opt_state, order, i)
        if (i + 1) % steps_per_epoch == 0:
            logging.info('domain classifier: epoch %d/%d, loss %.4f', (i + 1) // steps_per_epoch,
                         epochs, float(value))
    extractor = Extractor(params, classes, {})
    test_images = np.asarray(scale_images(test_arrays['image']))
    extractor.info = {'version': VERSION, 'epochs': epochs, 'batch': BATCH, 'seed': seed,
                      'learning_rate': LEARNING_RATE, 'schedule': 'cosine', 'shift': SHIFT, 'train_examples': int(n),
                      'test_accuracy': extractor.accuracy(test_images, test_arrays['label']),
                      'train_seconds': round(time.perf_counter() - started, 1)}
    return extractor


def _paths(cache_dir: str, dataset: str) -> tuple[str, str]:
    base = os.path.join(os.path.expanduser(cache_dir), 'classifier', f'{dataset}_v{VERSION}')
    return base + '.msgpack', base + '.json'


def load_or_train(dataset: str, cache_dir: str, train_arrays: dict | None = None,
                  test_arrays: dict | None = None, classes: int = 10) -> Extractor:
    """The cached classifier for ``dataset``, trained (and cached) when absent."""
    weights, meta = _paths(cache_dir, dataset)
    template = DomainNet(classes).init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)))['params']
    if os.path.isfile(weights) and os.path.isfile(meta):
        with open(weights, 'rb') as f:
            params = flax.serialization.from_bytes(template, f.read())
        with open(meta) as f:
            return Extractor(params, classes, json.load(f))
    if train_arrays is None or test_arrays is None:
        raise FileNotFoundError(f'no cached classifier at {weights} and no data to train one')
    extractor = train_classifier(train_arrays, test_arrays, classes)
    os.makedirs(os.path.dirname(weights), exist_ok=True)
    for path, payload in ((weights, flax.serialization.to_bytes(extractor.params)),
                          (meta, json.dumps({'dataset': dataset, **extractor.info},
                                            indent=2).encode())):
        with open(path + '.tmp', 'wb') as f:
            f.write(payload)
        os.replace(path + '.tmp', path)  # a crash never leaves half a cache
    logging.info('domain classifier for %s: test accuracy %.4f, cached in %s', dataset,
                 extractor.info['test_accuracy'], weights)
    return extractor


@functools.lru_cache(maxsize=None)
def for_data(name: str, cache_dir: str, data_dir: str | None = None) -> Extractor:
    """The classifier of dataset ``name`` (loading its splits only to train it)."""
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    weights, _ = _paths(cache_dir, name)
    if os.path.isfile(weights):
        return load_or_train(name, cache_dir)
    config = {'name': name, 'cache_dir': cache_dir, 'data_dir': data_dir, 'fallback': False}
    return load_or_train(name, cache_dir, data.load(config, 'train').arrays,
                         data.load(config, 'test').arrays)


def for_config(data_config: Any, name: str) -> Extractor:
    """The classifier of dataset ``name``, with the folders a data config resolves to."""
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    data_dir, cache_dir = data.data_dirs(data_config)
    return for_data(name, cache_dir, data_dir)
