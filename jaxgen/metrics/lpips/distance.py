"""LPIPS (Zhang et al., 2018, "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric") as pure functions, following ``lpips/lpips.py`` and
``lpips/__init__.py`` of lpips 0.1.4 (richzhang/PerceptualSimilarity):

    d(x, y) = sum_l mean_hw  sum_c w_lc (f̂_l(x) - f̂_l(y))²_hwc,   f̂ = f / (||f||_c + 1e-10)

with f_l the trunk's taps on ``ScalingLayer``'d inputs and w_l the v0.1 linear weights
(``NetLinLayer``, 1×1 conv without bias). Weights ``None`` means w_lc = 1 (the reference's
``lpips=False`` baseline, used by domain LPIPS).
"""

from __future__ import annotations

import os
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

from . import trunks

# lpips.ScalingLayer: ImageNet mean/std expressed for [-1, 1] inputs.
SHIFT = np.array([-.030, -.088, -.188], np.float32)
SCALE = np.array([.458, .448, .450], np.float32)
EPS = 1e-10
WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), 'weights')


def scaling_layer(x: jax.Array) -> jax.Array:
    """``(x - shift) / scale`` over the last (channel) axis."""
    return (x - SHIFT) / SCALE


def normalize_tensor(features: jax.Array, eps: float = EPS) -> jax.Array:
    """Unit norm over channels (last axis), as ``lpips.normalize_tensor``."""
    return features / (jnp.sqrt(jnp.sum(features ** 2, axis=-1, keepdims=True)) + eps)


def layer_distances(features_a: Sequence[jax.Array], features_b: Sequence[jax.Array],
                    weights: Sequence[jax.Array] | None = None) -> jax.Array:
    """[N, L]: per tap, the (weighted) channel sum of squared differences of the unit-normalised
    features, averaged over space."""
    out = []
    for i, (fa, fb) in enumerate(zip(features_a, features_b)):
        diff = (normalize_tensor(fa) - normalize_tensor(fb)) ** 2
        # an elementwise product, not a matmul: exact in float32 on GPUs too (no TF32)
        per_pixel = jnp.sum(diff if weights is None else diff * weights[i], -1)
        out.append(jnp.mean(per_pixel, axis=(1, 2)))
    return jnp.stack(out, axis=-1)


def linear_weights(net: str) -> list[np.ndarray]:
    """The shipped v0.1 linear weights of ``net`` (``weights/<net>.npz``, BSD-2, see
    ``weights/LICENSE.lpips``), one (C,) array per tap; loaded without pickle."""
    path = os.path.join(WEIGHTS_DIR, f'{net}.npz')
    if not os.path.exists(path):
        raise JaxgenError(f'the LPIPS linear weights {path} are missing from the installed '
                          f'package; reinstall jaxgen (they ship in jaxgen/metrics/lpips/weights)')
    with np.load(path, allow_pickle=False) as data:
        return [data[f'lin{k}'] for k in range(len(trunks.CHANNELS[net]))]


def default_backbone_path(net: str) -> str:
    """``$JAXGEN_CACHE_DIR/lpips/<net>_backbone.npz`` (else ``~/.cache/jaxgen/lpips/...``)."""
    cache = os.environ.get('JAXGEN_CACHE_DIR') or os.path.join(os.path.expanduser('~'), '.cache',
                                                                'jaxgen')
    return os.path.join(cache, 'lpips', f'{net}_backbone.npz')


_TORCHVISION = {'alex': 'alexnet', 'vgg': 'vgg16', 'squeeze': 'squeezenet1_1'}


def load_backbone(net: str, path: str | None = None) -> dict:
    """Flax trunk parameters from an ``.npz`` written by ``scripts/lpips_convert_backbone.py``."""
    path = path or default_backbone_path(net)
    if not os.path.exists(path):
        raise JaxgenError(
            f'LPIPS-{net} needs ImageNet backbone weights at {path}, which is missing: convert a '
            f'torchvision {_TORCHVISION[net]} checkpoint once with python '
            f'scripts/lpips_convert_backbone.py {net} <file.pth> (see docs/results/lpips.md); '
            f'domain LPIPS (domain_lpips_distance) works offline without them')
    with np.load(path, allow_pickle=False) as data:
        state = {k: data[k] for k in data.files}
    try:
        return trunks.params_from_torch(net, state)
    except (KeyError, ValueError) as e:
        raise JaxgenError(f'{path} is not an LPIPS-{net} backbone ({e}); rebuild it with '
                          f'scripts/lpips_convert_backbone.py {net} <file.pth>') from None


def lpips_layers(params: dict, weights: Sequence[jax.Array], a: jax.Array, b: jax.Array,
                 net: str = 'alex') -> jax.Array:
    """[N, L] per-tap LPIPS of NHWC [-1, 1] 3-channel pairs; ``params`` of :class:`trunks.Trunk`."""
    trunk = trunks.Trunk(net)
    both = scaling_layer(jnp.concatenate([a, b]))
    taps = trunk.apply({'params': params}, both)
    n = a.shape[0]
    return layer_distances([t[:n] for t in taps], [t[n:] for t in taps], weights)
