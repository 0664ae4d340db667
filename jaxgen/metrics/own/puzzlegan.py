"""Puzzle-GAN's own measures on the test split: completions of each test image from its key
patches, against the image.

* ``mask_iou``: IoU of the predicted mask (> 0.5) with the union of the true boxes, the mean
  over images;
* ``appearance_l1``: the mean ``|G - x|`` over the pixels (and channels) inside the true
  boxes, on the [-1, 1] scale: how well the parts themselves are reproduced;
* ``fd`` (when given a feature ``extractor``, e.g. the domain classifier,
  ``metrics/classifier.for_config``): the Fréchet distance of the completions to the same
  test images (``metrics/translation.fd``).
"""

from __future__ import annotations

import jax
import numpy as np

from jaxgen.metrics.translation import fd, to_signed
from jaxgen.models.conditional.puzzlegan import box_masks

BATCH = 250


def mask_iou(predicted, target) -> np.ndarray:
    """Per-image IoU of ``predicted > 0.5`` and ``target > 0.5`` (``[N, H, W, 1]``)."""
    a = np.asarray(predicted).reshape(len(predicted), -1) > 0.5
    b = np.asarray(target).reshape(len(target), -1) > 0.5
    union = (a | b).sum(1)
    return np.where(union > 0, (a & b).sum(1) / np.maximum(union, 1), 1.0)


def inside_l1(fake, real, target) -> float:
    """Mean ``|fake - real|`` over the pixels and channels where ``target`` is 1."""
    fake, real, target = (np.asarray(x, np.float64) for x in (fake, real, target))
    return float(np.sum(np.abs(fake - real) * target) / (np.sum(target) * fake.shape[-1]))


def completions(model, variables, arrays, key, num: int):
    """``(fake, predicted mask, real, true mask)`` for the first ``num`` test images."""
    num = min(num, len(arrays['image']))
    out = []
    for start in range(0, num, BATCH):
        end = min(start + BATCH, num)
        inputs = {'patches': to_signed(arrays['patches'][start:end]),
                  'boxes': np.asarray(arrays['boxes'][start:end])}
        fake, mask = model.generate_with_mask(variables, inputs,
                                              jax.random.fold_in(key, start))
        out.append((np.asarray(fake), np.asarray(mask)))
    fake, mask = (np.concatenate(x) for x in zip(*out))
    real = to_signed(arrays['image'][:num])
    target = np.asarray(box_masks(arrays['boxes'][:num], real.shape[1]))
    return fake, mask, real, target


def evaluation(model):
    def evaluate(variables, arrays, key, num_samples: int = 1000,
                 extractor=None) -> dict[str, float]:
        fake, mask, real, target = completions(model, variables, arrays, key, num_samples)
        results = {'mask_iou': float(np.mean(mask_iou(mask, target))),
                   'appearance_l1': inside_l1(fake, real, target)}
        if extractor is not None:
            results['fd'] = fd(extractor, real, fake)
        return results
    return evaluate
