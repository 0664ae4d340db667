"""LPIPS trunks in Flax Linen: AlexNet, VGG16 and SqueezeNet 1.1 ``features``.

The layer lists, indices and taps are those of torchvision's ``alexnet``, ``vgg16`` and
``squeezenet1_1`` ``features`` as ``lpips/pretrained_networks.py`` (lpips 0.1.4,
richzhang/PerceptualSimilarity; Zhang et al., 2018) slices them:

* alex: relu1..relu5 (64, 192, 384, 256, 256 channels);
* vgg: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (64, 128, 256, 512, 512);
* squeeze: relu1..relu7 (64, 128, 256, 384, 384, 512, 512), SqueezeNet's pooling with
  ``ceil_mode=True``.

Each convolution is named ``features_<i>`` after torchvision's index ``i`` (Fire
modules hold ``squeeze``, ``expand1x1``, ``expand3x3``), so a torchvision state dict
(``features.<i>[.<part>].weight``, OIHW) maps onto Flax parameters (HWIO) by name:
:func:`params_from_torch`. Inputs are NHWC.
"""

from __future__ import annotations

import functools
import math
from typing import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# Layer specs, one entry per torchvision index: ('conv', out, kernel, stride, pad),
# ('relu',), ('pool', kernel, stride, ceil_mode), ('fire', squeeze, expand1x1, expand3x3).
_R = ('relu',)


def _vgg16():
    layers, taps = [], []
    for block, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]):
        if block:
            layers.append(('pool', 2, 2, False))
        for _ in range(convs):
            layers += [('conv', width, 3, 1, 1), _R]
        taps.append(len(layers) - 1)
    return layers, taps


SPECS = {
    'alex': ([('conv', 64, 11, 4, 2), _R, ('pool', 3, 2, False), ('conv', 192, 5, 1, 2), _R,
              ('pool', 3, 2, False), ('conv', 384, 3, 1, 1), _R, ('conv', 256, 3, 1, 1), _R,
              ('conv', 256, 3, 1, 1), _R], [1, 4, 7, 9, 11]),
    'vgg': _vgg16(),
    'squeeze': ([('conv', 64, 3, 2, 0), _R, ('pool', 3, 2, True), ('fire', 16, 64, 64),
                 ('fire', 16, 64, 64), ('pool', 3, 2, True), ('fire', 32, 128, 128),
                 ('fire', 32, 128, 128), ('pool', 3, 2, True), ('fire', 48, 192, 192),
                 ('fire', 48, 192, 192), ('fire', 64, 256, 256), ('fire', 64, 256, 256)],
                [1, 4, 7, 9, 10, 11, 12]),
}
CHANNELS = {'alex': (64, 192, 384, 256, 256), 'vgg': (64, 128, 256, 512, 512),
            'squeeze': (64, 128, 256, 384, 384, 512, 512)}
HIGHEST = jax.lax.Precision.HIGHEST


def _conv(features: int, kernel: int, stride: int, pad: int, name: str, precision) -> nn.Conv:
    return nn.Conv(features, (kernel, kernel), strides=(stride, stride),
                   padding=((pad, pad), (pad, pad)), name=name, precision=precision)


def max_pool(x: jax.Array, kernel: int, stride: int, ceil_mode: bool) -> jax.Array:
    """PyTorch's ``MaxPool2d(kernel, stride)`` without padding; ``ceil_mode`` keeps a last,
    partial window (padded with -inf on the bottom/right) as PyTorch does."""
    if ceil_mode:
        extra = [(-(-(size - kernel) // stride)) * stride + kernel - size for size in x.shape[1:3]]
        x = jnp.pad(x, ((0, 0), (0, extra[0]), (0, extra[1]), (0, 0)), constant_values=-jnp.inf)
    return nn.max_pool(x, (kernel, kernel), strides=(stride, stride), padding='VALID')


class Fire(nn.Module):
    """torchvision's SqueezeNet ``Fire``: 1×1 squeeze, then 1×1 and 3×3 expands, ReLU each."""
    squeeze: int
    expand1x1: int
    expand3x3: int
    precision: jax.lax.Precision | None = HIGHEST

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(_conv(self.squeeze, 1, 1, 0, 'squeeze', self.precision)(x))
        return jnp.concatenate([nn.relu(_conv(self.expand1x1, 1, 1, 0, 'expand1x1', self.precision)(x)),
                                nn.relu(_conv(self.expand3x3, 3, 1, 1, 'expand3x3', self.precision)(x))],
                               axis=-1)


class Trunk(nn.Module):
    """The ``features`` of ``net`` ('alex', 'vgg', 'squeeze'); returns the LPIPS taps."""
    net: str = 'alex'
    precision: jax.lax.Precision | None = HIGHEST

    @nn.compact
    def __call__(self, x: jax.Array) -> list[jax.Array]:
        layers, taps = SPECS[self.net]
        outputs = []
        for i, layer in enumerate(layers):
            kind, args = layer[0], layer[1:]
            if kind == 'conv':
                x = _conv(*args, name=f'features_{i}', precision=self.precision)(x)
            elif kind == 'relu':
                x = nn.relu(x)
            elif kind == 'pool':
                x = max_pool(x, *args)
            else:
                x = Fire(*args, precision=self.precision, name=f'features_{i}')(x)
            if i in taps:
                outputs.append(x)
        return outputs


def torch_shapes(net: str) -> dict[str, tuple[int, ...]]:
    """The torchvision ``features`` state dict's keys and shapes (OIHW), in its order."""
    shapes, channels = {}, 3
    for i, layer in enumerate(SPECS[net][0]):
        if layer[0] == 'conv':
            parts = [('', layer[1], channels, layer[2])]
            channels = layer[1]
        elif layer[0] == 'fire':
            _, s, e1, e3 = layer
            parts = [('.squeeze', s, channels, 1), ('.expand1x1', e1, s, 1), ('.expand3x3', e3, s, 3)]
            channels = e1 + e3
        else:
            continue
        for part, out, inp, k in parts:
            shapes[f'features.{i}{part}.weight'] = (out, inp, k, k)
            shapes[f'features.{i}{part}.bias'] = (out,)
    return shapes


def random_torch_state(net: str, seed: int) -> dict[str, np.ndarray]:
    """A seeded random ``features`` state dict (He-normal weights, small biases), made with
    NumPy so that the fixture script and the tests build the same backbone without torch."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, shape in torch_shapes(net).items():
        if key.endswith('weight'):
            std = math.sqrt(2.0 / (shape[1] * shape[2] * shape[3]))
            state[key] = (rng.standard_normal(shape) * std).astype(np.float32)
        else:
            state[key] = (rng.standard_normal(shape) * 0.1).astype(np.float32)
    return state


def params_from_torch(net: str, state: Mapping[str, np.ndarray]) -> dict:
    """Flax parameters from a torchvision ``features`` state dict (OIHW → HWIO kernels);
    other keys (``classifier.*``) are ignored, missing or misshapen ones raise KeyError/ValueError."""
    params: dict = {}
    for key, shape in torch_shapes(net).items():
        value = np.asarray(state[key], np.float32)
        if value.shape != shape:
            raise ValueError(f'{key} has shape {value.shape}, {net} expects {shape}')
        path = key.split('.')
        node = params.setdefault(f'features_{path[1]}', {})
        for part in path[2:-1]:
            node = node.setdefault(part, {})
        node['kernel' if path[-1] == 'weight' else 'bias'] = (
            value.transpose(2, 3, 1, 0) if path[-1] == 'weight' else value)
    return params


def _tap_sizes(net: str, size: int) -> list[int] | None:
    """Spatial side of each tap for a ``size`` px input, or None when a layer's window
    does not fit (its input smaller than its kernel)."""
    layers, taps = SPECS[net]
    sizes = []
    for i, layer in enumerate(layers):
        if layer[0] in ('conv', 'pool'):
            k, s = (layer[2], layer[3]) if layer[0] == 'conv' else (layer[1], layer[2])
            p = layer[4] if layer[0] == 'conv' else 0
            if size + 2 * p < k:
                return None
            size = (-(-(size - k) // s) if layer[0] == 'pool' and layer[3] else (size + 2 * p - k) // s) + 1
        if i in taps:
            sizes.append(size)
    return sizes


@functools.lru_cache(maxsize=None)
def min_size(net: str) -> int:
    """The smallest square input side that ``net``'s layers accept (alex 31, vgg 16, squeeze 25)."""
    return next(size for size in range(1, 1024) if _tap_sizes(net, size))
