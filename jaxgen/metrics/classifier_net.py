"""The domain classifier's network and a trained one's ``features`` and ``logits``
(:mod:`jaxgen.metrics.classifier` trains and caches it)."""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import numpy as np

from jaxgen.errors import JaxgenError

WIDTH, MAX_WIDTH, FEATURES, SMALLEST = 32, 256, 256, 8


def conv_layers(shape: Sequence[int]) -> int:
    """Stride-2 convolutions that bring the larger side of ``shape`` to at most 8."""
    return max(1, math.ceil(math.log2(max(shape[0], shape[1]) / SMALLEST)))


class DomainNet(nn.Module):
    outputs: int = 10
    layers: int = 2

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = x
        for i in range(self.layers):
            width = min(WIDTH * 2 ** i, MAX_WIDTH)
            h = nn.relu(nn.Conv(width, (4, 4), strides=(2, 2), padding='SAME')(h))
        features = nn.relu(nn.Dense(FEATURES)(h.reshape(x.shape[0], -1)))
        return nn.Dense(self.outputs)(features), features


@functools.lru_cache(maxsize=None)
def _compiled(outputs: int, layers: int):
    """One jitted forward pass per architecture, shared by every extractor using it."""
    net = DomainNet(outputs, layers)
    return jax.jit(lambda p, x: net.apply({'params': p}, x))


class Extractor:
    """A trained :class:`DomainNet`: ``features`` and ``logits`` of [-1, 1] images."""

    def __init__(self, params: Any, info: dict):
        self.params, self.info = params, info
        self.shape = tuple(info['shape'])
        self.multi_label = info['head'] == 'sigmoid'
        self.net = DomainNet(info['outputs'], conv_layers(self.shape))
        self._apply = _compiled(info['outputs'], conv_layers(self.shape))

    def _batched(self, images, index: int, batch: int = 1000) -> np.ndarray:
        images = np.asarray(images, np.float32)
        if images.shape[1:] != self.shape:
            raise JaxgenError(f'the domain classifier takes images of shape {self.shape}, got '
                              f'{images.shape[1:]}; use the classifier of this dataset')
        return np.concatenate([np.asarray(self._apply(self.params, images[i:i + batch])[index])
                               for i in range(0, len(images), batch)])

    def features(self, images) -> np.ndarray:
        return self._batched(images, 1)

    def logits(self, images) -> np.ndarray:
        return self._batched(images, 0)

    def attribute_accuracy(self, images, values) -> np.ndarray:
        """Per-output accuracy of the sigmoid head (``values`` 0/1 ``[N, A]``)."""
        return np.mean((self.logits(images) > 0) == (np.asarray(values) > 0.5), axis=0)

    def accuracy(self, images, values) -> float:
        """Top-1 accuracy, or the mean per-attribute accuracy of a multi-label head."""
        if self.multi_label:
            return float(np.mean(self.attribute_accuracy(images, values)))
        return float(np.mean(np.argmax(self.logits(images), -1) == np.asarray(values)))
