"""Domain LPIPS: LPIPS's normalised distance on the domain classifier's conv activations.

NOT comparable with published LPIPS numbers. It is the offline default of jaxgen: the
ImageNet trunks of LPIPS (Zhang et al., 2018) need downloaded weights, while the dataset's
domain classifier (:mod:`jaxgen.metrics.classifier`, :class:`~jaxgen.metrics.classifier_net.DomainNet`)
is trained and cached locally. At each conv tap (the ReLU of each stride-2 convolution of
``DomainNet``) the activations are unit-normalised over channels (eps 1e-10), the squared
differences summed over channels with UNIFORM weights (there is no learned linear layer for
this network: the reference's ``lpips=False`` baseline), averaged over space and summed over
taps. Report it under names such as ``domain_lpips_*``.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError

from .checks import check_pair
from .distance import layer_distances


def domain_taps(net: nn.Module, params, images: jax.Array) -> list[jax.Array]:
    """ReLU'd outputs of each ``nn.Conv`` of a :class:`DomainNet` (read with Flax's
    ``capture_intermediates``; the net's own forward pass is unchanged)."""
    _, state = net.apply({'params': params}, images, mutable=['intermediates'],
                         capture_intermediates=lambda module, _: isinstance(module, nn.Conv))
    inter = state['intermediates']
    return [nn.relu(inter[f'Conv_{i}']['__call__'][0]) for i in range(net.layers)]


def domain_lpips_distance(extractor):
    """``distance(images_a, images_b) -> [N]`` on a trained :class:`Extractor`'s conv taps.

    Images are NHWC in [-1, 1] of the classifier's shape ``extractor.shape``. Per-pair,
    symmetric, zero for identical images, jit-friendly (the range check runs on concrete
    arrays only). ``distance.per_layer`` gives the [N, taps] terms.
    """
    net, params, shape = extractor.net, extractor.params, tuple(extractor.shape)

    def layers(p, a, b):
        n = a.shape[0]
        taps = domain_taps(net, p, jnp.concatenate([a, b]).astype(jnp.float32))
        return layer_distances([t[:n] for t in taps], [t[n:] for t in taps])

    per_layer_core = jax.jit(layers)
    core = jax.jit(lambda p, a, b: jnp.sum(layers(p, a, b), -1))

    def check(a, b):
        check_pair('domain LPIPS', a, b, channels=(shape[2],))
        if tuple(jnp.shape(a)[1:3]) != shape[:2]:
            raise JaxgenError(f'domain LPIPS takes images of the classifier\'s shape {shape}, got '
                              f'{tuple(jnp.shape(a)[1:])}; use the classifier of this dataset')

    def distance(images_a, images_b):
        check(images_a, images_b)
        return core(params, images_a, images_b)

    def per_layer(images_a, images_b):
        check(images_a, images_b)
        return per_layer_core(params, images_a, images_b)

    distance.per_layer = per_layer
    distance.name = 'domain_lpips'
    return distance
