"""The distribution metrics of an image model, one protocol for every model.

``num`` samples from the model (its EMA weights when it has them) and ``num``
test images (all of them when fewer; MNIST has 10,000) go through the domain
classifier; then:

* ``fd``: Fréchet distance of the classifier's 256-d features;
* ``kid`` and ``kid_error``: KID over 100 subsets of 1,000 (fewer when the sets are);
* ``classifier_score`` and ``classifier_score_std``: over 10 splits of the samples (for a
  multi-label classifier of attributes, the score of independent yes/no questions);
* ``precision`` and ``recall``: k = 3 nearest-neighbour manifolds.

Samples are in the data's pixel scale (``data_info['scale']``: [-1, 1] or
[0, 1]) and are mapped to [-1, 1] for the classifier, like the real images.
The sample count biases FID upwards at small counts: compare numbers taken
with the same ``num`` only.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import numpy as np

from jaxgen.data import kinds
from jaxgen.data.pixels import as_tanh, scale_images
from jaxgen.errors import JaxgenError
from jaxgen.metrics import conditions, distances, manifold, scores
from jaxgen.metrics.classifier_targets import centre_crop

BATCH = 500


def sample_images(sample: Callable, variables: Any, key: jax.Array, num: int,
                  data_info: Mapping[str, Any]) -> np.ndarray:
    """``num`` samples in [-1, 1], drawn ``BATCH`` at a time with ``fold_in(key, i)``."""
    sample_jit = jax.jit(sample, static_argnums=2)
    out = [np.asarray(sample_jit(variables, jax.random.fold_in(key, i), BATCH))
           for i in range((num + BATCH - 1) // BATCH)]
    return as_tanh(np.concatenate(out)[:num].astype(np.float32), data_info.get('scale'))


def conditional_samples(model, variables, test_arrays, key: jax.Array, num: int
                        ) -> np.ndarray:
    """A conditional model's outputs for the conditions of the first ``num`` test
    examples (all of them when fewer), ``BATCH`` at a time with ``fold_in(key, i)``,
    in [-1, 1]."""
    num = min(num, conditions.num_examples(test_arrays))
    out = [np.asarray(model.generate(
        variables, conditions.inputs_from(model, test_arrays, slice(start, min(start + BATCH, num))),
        jax.random.fold_in(key, i)))
        for i, start in enumerate(range(0, num, BATCH))]
    images = np.concatenate(out).astype(np.float32)
    return as_tanh(images, model.data_info.get('scale'))


def real_images(arrays: Mapping[str, np.ndarray], num: int, seed: int = 0,
                shape=None) -> np.ndarray:
    """``num`` dataset images in [-1, 1] (a fixed random subset when there are more),
    centre-cropped to ``shape`` when given (``config.data.crop``)."""
    images = arrays['image']
    if num < len(images):
        images = images[np.random.default_rng(seed).permutation(len(images))[:num]]
    if shape is not None:
        images = centre_crop(np.asarray(images), shape)
    return np.asarray(scale_images(images))


def compare(extractor, real: np.ndarray, fake: np.ndarray, key: jax.Array) -> dict[str, float]:
    """Every distribution metric of ``fake`` against ``real`` (images in [-1, 1])."""
    if real.shape[1:] != fake.shape[1:]:
        raise JaxgenError(f'samples of shape {fake.shape[1:]} cannot be compared with data '
                          f'of shape {real.shape[1:]}')
    real_features, fake_features = extractor.features(real), extractor.features(fake)
    fd = distances.frechet_distance(
        distances.gaussian_stats(np.array_split(real_features, max(1, len(real) // BATCH))),
        distances.gaussian_stats(np.array_split(fake_features, max(1, len(fake) // BATCH))))
    kid, kid_error = distances.kernel_inception_distance(real_features, fake_features, key)
    score_of = (scores.attribute_score if getattr(extractor, 'multi_label', False)
                else scores.classifier_score)
    score, score_std = score_of(extractor.logits(fake))
    precision, recall = manifold.precision_recall(real_features, fake_features)
    return {'fd': fd, 'kid': kid, 'kid_error': kid_error, 'classifier_score': score,
            'classifier_score_std': score_std, 'precision': precision, 'recall': recall,
            'num_real': float(len(real)), 'num_fake': float(len(fake))}


def model_metrics(model, variables, test_arrays, extractor, key: jax.Array,
                  num: int = 10000, also: Callable | None = None) -> dict[str, float]:
    """The distribution metrics of ``model``'s samples against the test split, and
    ``also(real, fake)``'s (both in [-1, 1]: the perceptual metrics) when given."""
    if kinds.kind(model.data_info) != 'images':
        return {}
    sample_key, kid_key = jax.random.split(key)
    if conditions.conditions(model):  # its outputs for the test examples' conditions
        fake = conditional_samples(model, variables, test_arrays, sample_key, num)
    else:
        fake = sample_images(lambda v, k, n: model.generate(v, {'num': n}, k), variables,
                             sample_key, num, model.data_info)
    real = real_images(test_arrays, num, shape=model.data_info['shape'])
    return {**compare(extractor, real, fake, kid_key), **(also(real, fake) if also else {})}
