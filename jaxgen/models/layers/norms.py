"""Instance normalisation and the norm choice of the image-to-image networks.

:class:`InstanceNorm` is PyTorch's ``nn.InstanceNorm2d`` on NHWC images: each
example's channels are normalised by their own mean and biased variance over H
and W, ``eps`` 1e-5, with an optional per-channel scale and shift (``affine``).
Ulyanov et al., 2016, "Instance Normalization: The Missing Ingredient for Fast
Stylization"; CycleGAN uses it without ``affine``
(junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py``, ``get_norm_layer``),
StarGAN with it (yunjey/stargan ``model.py``). Both official repositories build
it with ``track_running_stats=True`` in some versions, but neither switches the
networks to eval mode when translating (pix2pix/CycleGAN's ``test.py`` only with
``--eval``; StarGAN never), so the statistics are always the instance's own:
no running averages are kept here.

:func:`norm_layer` is ``get_norm_layer``: 'batch' (jaxgen's BatchNorm, torch's
momentum and eps), 'instance' or 'none'. Scales start from N(1, 0.02) and shifts
from 0, as the official ``init_weights(init_type='normal')`` does for BatchNorm.
"""

from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.models.layers import BatchNorm

NORMS = ('batch', 'instance', 'none')
SCALE_INIT = nn.initializers.normal(0.02)


def scale_init(key, shape, dtype=jnp.float32):
    """N(1, 0.02): the official ``init_weights``' normaliser scales."""
    return 1.0 + SCALE_INIT(key, shape, dtype)


class InstanceNorm(nn.Module):
    """``[B, H, W, C]`` -> the same, each (example, channel) normalised over H, W."""
    affine: bool = False
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        # Statistics in at least float32 under any compute dtype (float64 stays float64).
        h = x.astype(jnp.promote_types(x.dtype, jnp.float32))
        mean = jnp.mean(h, axis=(1, 2), keepdims=True)
        var = jnp.mean(jnp.square(h - mean), axis=(1, 2), keepdims=True)  # biased
        y = (h - mean) * jax.lax.rsqrt(var + self.epsilon)
        if self.affine:
            channels = x.shape[-1]
            y = (y * self.param('scale', scale_init, (channels,))
                 + self.param('bias', nn.initializers.zeros_init(), (channels,)))
        return y.astype(x.dtype)


Norm = Callable[[bool], Callable[[jax.Array], Any]]


def _identity(train: bool) -> Callable[[jax.Array], jax.Array]:
    return lambda x: x


def norm_layer(name: str, affine: bool = False) -> Norm:
    """A factory ``norm(train) -> layer`` for ``name`` in 'batch' | 'instance' |
    'none'; call it inside a compact method. ``affine`` applies to 'instance'
    (BatchNorm always has a scale and shift)."""
    if name == 'batch':
        return lambda train: BatchNorm(use_running_average=not train, scale_init=scale_init)
    if name == 'instance':
        return lambda train: InstanceNorm(affine=affine)
    if name == 'none':
        return _identity
    raise JaxgenError(f'unknown norm {name!r}; use one of {", ".join(NORMS)}')


def has_shift(name: str, affine: bool = False) -> bool:
    """Whether ``norm_layer(name, affine)`` adds its own per-channel shift, making the
    bias of the convolution before it redundant (the official code's ``use_bias``)."""
    norm_layer(name)  # unknown names fail here
    return name == 'batch' or (name == 'instance' and affine)
