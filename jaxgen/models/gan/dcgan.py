"""DCGAN (Radford et al., 2016) for 28x28 greyscale and 32x32 / 64x64 colour.

The generator projects z to a small feature map (7x7 for 28x28, 4x4 for 32x32
and 64x64) and doubles its resolution with stride-2 transposed convolutions,
halving the channels each time; BatchNorm and ReLU everywhere but the tanh
output. The discriminator mirrors it with stride-2 convolutions, leaky ReLU
(0.2) and BatchNorm on every layer but the first. Weights start from
N(0, 0.02) as in the paper.

``residual_stages`` (default 0, plain DCGAN) adds a bottleneck residual block after the
BatchNorm of the generator's first that many resolutions, before their ReLU, as the
text-to-image GAN's official generator does at its two coarsest, 4x4 and 8x8
(reedscot/icml2016, ``main_cls_int.lua``): 1x1 conv to a quarter of the channels, BN,
ReLU, 3x3 conv, BN, ReLU, 3x3 conv back to the channels, BN, added to its input.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.layers.conv import Conv
from jaxgen.models.layers.deconv import ConvTranspose
from jaxgen.models.gan.base import GAN
from jaxgen.models.layers import BatchNorm, history

INIT = nn.initializers.normal(0.02)


def num_upsamplings(size: int) -> int:
    """How many stride-2 stages reach ``size`` from a 4x4..7x7 start."""
    n = 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        n += 1
    if n == 0 or size > 7:
        raise JaxgenError(
            f'DCGAN cannot build images of side {size * 2 ** n}; use 28, 32 or 64 '
            '(any side that halves down to 4..7)')
    return n


class Bottleneck(nn.Module):
    """``h -> h + BN(conv3(relu(BN(conv3(relu(BN(conv1(h))))))))`` with the inner
    convolutions at a quarter of h's channels (the residual block of reedscot/icml2016's
    generator; its convolution biases are zeroed every step there, absent here)."""

    @nn.compact
    def __call__(self, h: jax.Array, train: bool = False) -> jax.Array:
        f = h.shape[-1]
        inner = max(f // 4, 1)
        r = h
        for i, (width, kernel) in enumerate(((inner, 1), (inner, 3), (f, 3))):
            if i > 0:
                r = nn.relu(r)
            r = Conv(width, (kernel, kernel), padding='SAME', use_bias=False,
                     kernel_init=INIT)(r)
            r = BatchNorm(use_running_average=not train)(r)
        return h + r


class DCGANGenerator(nn.Module):
    """z ``[B, latent]`` -> images ``[B, H, W, C]`` in [-1, 1]."""
    output_shape: tuple[int, int, int] = (28, 28, 1)
    features: int = 64
    residual_stages: int = 0   # a Bottleneck at each of the first this many resolutions

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = False) -> jax.Array:
        height, width, channels = self.output_shape
        n = num_upsamplings(height)
        if not 0 <= self.residual_stages <= n:
            raise JaxgenError(f'residual_stages must be in [0, {n}] for {height}-px images '
                              f'({n} resolutions below the output), got {self.residual_stages}')
        start_h, start_w = height // 2 ** n, width // 2 ** n
        f = self.features * 2 ** (n - 1)
        h = nn.Dense(start_h * start_w * f, kernel_init=INIT)(z)
        h = BatchNorm(use_running_average=not train)(h)
        h = h.reshape(z.shape[0], start_h, start_w, f)
        for i in range(n):
            if i < self.residual_stages:
                h = Bottleneck()(h, train=train)
            h = nn.relu(h)
            last = i == n - 1
            out = channels if last else self.features * 2 ** (n - 2 - i)
            h = ConvTranspose(out, (4, 4), strides=(2, 2), padding='SAME',
                              kernel_init=INIT)(h)
            if last:
                return jnp.tanh(h)
            h = BatchNorm(use_running_average=not train)(h)
        raise AssertionError('unreachable')


class DCGANDiscriminator(nn.Module):
    """images ``[B, H, W, C]`` -> logits ``[B]``. With ``spectral_norm`` every
    layer is spectrally normalised (Miyato et al., 2018) in place of BatchNorm."""
    features: int = 64
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        def layer(module, h):
            if self.spectral_norm:
                return nn.SpectralNorm(module)(h, update_stats=train)
            return module(h)
        n = num_upsamplings(x.shape[1])
        h = x
        for i in range(n):
            h = layer(Conv(self.features * 2 ** i, (4, 4), strides=(2, 2),
                           padding='SAME', kernel_init=INIT), h)
            if i > 0 and not self.spectral_norm:
                h = BatchNorm(use_running_average=not train)(h)
            h = nn.leaky_relu(h, 0.2)
        h = h.reshape(x.shape[0], -1)
        return layer(nn.Dense(1, kernel_init=INIT), h)[:, 0]


def check_tanh_pixels(name: str, data_info) -> None:
    """The DCGAN generator ends in tanh: the data must be scaled to [-1, 1] too."""
    scale = data_info.get('scale', 'tanh')
    if scale != 'tanh':
        raise JaxgenError(f"{name}'s generator draws pixels in [-1, 1] (tanh); "
                          f"config.data.scale is {scale!r}: set it to 'tanh'")


def build(model_config, data_info) -> GAN:
    """A DCGAN for images shaped ``data_info['shape']`` (H, W, C)."""
    shape = tuple(data_info['shape'])
    if kinds.kind(data_info) != 'images':
        raise JaxgenError(
            f'dcgan needs image data (H, W, C) but the dataset holds '
            f'{kinds.kind(data_info)} of shape {shape}; use model.name=mlp for points')
    check_tanh_pixels('dcgan', data_info)
    return GAN(
        generator=DCGANGenerator(output_shape=shape, features=model_config.features),
        discriminator=DCGANDiscriminator(features=model_config.features,
                                         spectral_norm=model_config.get('spectral_norm', False)),
        latent_dim=model_config.latent_dim,
        data_info=data_info,
        history_size=history.size_from(model_config),
    )
