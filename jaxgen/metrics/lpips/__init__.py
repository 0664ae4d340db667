"""LPIPS (Zhang et al., 2018) in Flax, and "domain LPIPS", its offline stand-in.

Reference: lpips 0.1.4 (PyPI, BSD-2), richzhang/PerceptualSimilarity, files
``lpips/lpips.py`` and ``lpips/pretrained_networks.py``. A perceptual distance is a
callable ``distance(images_a, images_b) -> [N]``: NHWC batches in [-1, 1], one value per
pair, usable inside ``jax.jit`` (the value-range check then is skipped).

* :func:`lpips_distance` ('alex', 'vgg', 'squeeze'): the published metric. The v0.1
  linear weights ship in ``weights/`` (``.npz``, converted once by
  ``scripts/lpips_convert_linear.py``); the ImageNet backbone is NOT shipped: convert a
  torchvision checkpoint once with ``scripts/lpips_convert_backbone.py`` into
  ``$JAXGEN_CACHE_DIR/lpips/<net>_backbone.npz`` (or pass ``backbone_path``).
  Equal to ``lpips.LPIPS(net=...)`` within 1e-5 (tests/test_lpips.py).
* :func:`domain_lpips_distance`: the same normalised distance on the dataset's domain
  classifier's conv features, uniform layer weights. NOT comparable with published LPIPS.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError

from . import trunks
from .checks import check_pair
from .distance import (default_backbone_path, layer_distances, linear_weights, load_backbone,
                       lpips_layers, normalize_tensor, scaling_layer)
from .domain import domain_lpips_distance, domain_taps

NETS = tuple(trunks.SPECS)
__all__ = ['lpips_distance', 'domain_lpips_distance', 'NETS', 'default_backbone_path',
           'layer_distances', 'normalize_tensor', 'scaling_layer', 'domain_taps', 'min_size']
min_size = trunks.min_size


def _prepare(x: jax.Array, resize: int | None) -> jax.Array:
    x = jnp.asarray(x, jnp.float32)
    if x.shape[-1] == 1:  # greyscale: replicated to the trunk's three channels
        x = jnp.repeat(x, 3, axis=-1)
    if resize is not None:
        x = jax.image.resize(x, (x.shape[0], resize, resize, 3), 'bilinear')
    return x


def _per_layer(params, weights, a, b, net, resize, chunk=None):
    a, b = _prepare(a, resize), _prepare(b, resize)
    n = a.shape[0]
    if not chunk or n <= chunk:
        return lpips_layers(params, weights, a, b, net)
    # lax.map over chunks of pairs (the last padded): the same per-pair sums, in less memory
    pad = -n % chunk
    a, b = (jnp.pad(x, ((0, pad), (0, 0), (0, 0), (0, 0))).reshape(-1, chunk, *x.shape[1:])
            for x in (a, b))
    out = jax.lax.map(lambda ab: lpips_layers(params, weights, ab[0], ab[1], net), (a, b))
    return out.reshape(n + pad, -1)[:n]


# Pairs per lax.map step on CPU: XLA:CPU's convolutions slow down per image once the
# activations outgrow the caches (as jaxgen/models/layers/conv.py found); VGG at 64 px,
# 32 pairs, ran 1.6x faster in chunks of 8 here, AlexNet the same (docs/results/lpips.md).
CPU_CHUNK = 8


def lpips_distance(net: str = 'alex', backbone_path: str | None = None, *,
                   backbone: dict | None = None, resize: int | None = None,
                   chunk: int | None = -1):
    """LPIPS-``net`` as ``distance(images_a, images_b) -> [N]``.

    Args:
      net: 'alex', 'vgg' or 'squeeze' (the trunk; taps as lpips 0.1.4).
      backbone_path: an ``.npz`` from ``scripts/lpips_convert_backbone.py``; default
        :func:`default_backbone_path` (``$JAXGEN_CACHE_DIR/lpips/<net>_backbone.npz``).
        Missing weights raise a one-line :class:`JaxgenError`.
      backbone: a torchvision-style ``features`` state dict (OIHW NumPy arrays) to use
        instead of a file (the tests pass a seeded random one).
      resize: bilinearly resize both batches to ``resize``×``resize`` first, for images
        smaller than the trunk allows (alex 31, vgg 16, squeeze 25 px). Values then are
        those of the resized images, as the reference's users compute them.
      chunk: pairs per step of a ``lax.map`` over the batch (values unchanged); -1 (default)
        is :data:`CPU_CHUNK` on a CPU backend and the whole batch elsewhere; None or 0: whole.

    Inputs: NHWC, values in [-1, 1] (checked on concrete arrays), 1 channel (replicated)
    or 3. ``distance.per_layer`` gives the [N, L] terms that sum to the distance.
    """
    if net not in trunks.SPECS:
        raise JaxgenError(f'LPIPS nets are {", ".join(trunks.SPECS)}; got {net!r}')
    if resize is not None and resize < trunks.min_size(net):
        raise JaxgenError(f'LPIPS-{net} needs at least {trunks.min_size(net)} px; resize={resize}')
    weights = [jnp.asarray(w) for w in linear_weights(net)]
    params = (trunks.params_from_torch(net, backbone) if backbone is not None
              else load_backbone(net, backbone_path))
    params = jax.tree_util.tree_map(jnp.asarray, params)
    if chunk == -1:
        chunk = CPU_CHUNK if jax.default_backend() == 'cpu' else None
    per_layer_core = jax.jit(functools.partial(_per_layer, net=net, resize=resize, chunk=chunk))
    core = jax.jit(lambda p, w, a, b: jnp.sum(_per_layer(p, w, a, b, net, resize, chunk), -1))
    need = None if resize is not None else trunks.min_size(net)
    hint = (f'; pass resize={max(need or 0, 32)} to lpips_distance (bilinear upsampling), as '
            f'the reference needs too' if need else '')

    def check(a, b):
        check_pair(f'LPIPS-{net}', a, b, channels=(1, 3), min_size=need, hint=hint)

    def distance(images_a, images_b):
        check(images_a, images_b)
        return core(params, weights, images_a, images_b)

    def per_layer(images_a, images_b):
        check(images_a, images_b)
        return per_layer_core(params, weights, images_a, images_b)

    distance.per_layer = per_layer
    distance.name = f'lpips_{net}'
    return distance
