"""The generators of pix2pix, CycleGAN and StarGAN, NHWC images in [-1, 1].

Sources: Isola et al., 2017, "Image-to-Image Translation with Conditional
Adversarial Networks" (pix2pix, §3.2.1 and appendix 6.1.1); Zhu et al., 2017,
"Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks"
(CycleGAN, appendix 7.2); Choi et al., 2018, "StarGAN" (appendix, Table 4); and
their official code: junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py``
(``UnetGenerator``, ``UnetSkipConnectionBlock``, ``ResnetGenerator``,
``ResnetBlock``, ``init_weights``) and yunjey/stargan ``model.py`` (``Generator``,
``ResidualBlock``). Convolution weights start from N(0, 0.02), biases from 0, as
the official ``init_type='normal'`` (StarGAN's repository keeps PyTorch's default
initialisation; ``kernel_init`` sets another). The discriminators are in
:mod:`jaxgen.models.translation.discriminators`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.models.layers.conv import Conv
from jaxgen.models.layers.deconv import ConvTranspose
from jaxgen.models.layers.norms import has_shift, norm_layer

INIT = nn.initializers.normal(0.02)
PAD1 = ((1, 1), (1, 1))  # torch's padding=1


def unet_depth(height: int, width: int) -> int:
    """The U-Net's number of stride-2 downsamplings: down to a 1x1 bottleneck, as
    ``unet_256`` (8) and ``unet_128`` (7) do; a side that is not a power of two is
    padded up to the next one first (28 px: 32, 5 downsamplings)."""
    return max(2, math.ceil(math.log2(max(height, width))))


class UNetBlock(nn.Module):
    """``UnetSkipConnectionBlock`` at ``level`` (0 = outermost) of ``depth``:
    ``concat(x, up(inner(down(x))))``; the outermost returns ``up(...)`` alone."""
    level: int
    depth: int
    features: int
    out_channels: int
    norm: str
    dropout: tuple[bool, ...]
    dropout_rate: float
    kernel_init: Callable[..., Any]

    def width(self, level: int) -> int:
        return self.features * min(2 ** level, 8)

    @nn.compact
    def __call__(self, x: jax.Array, train: bool, noise: bool) -> jax.Array:
        outermost, innermost = self.level == 0, self.level == self.depth - 1
        norm = norm_layer(self.norm)
        bias = not has_shift(self.norm)
        inner = self.width(self.level)
        outer = self.out_channels if outermost else self.width(self.level - 1)
        h = x if outermost else nn.leaky_relu(x, 0.2)
        h = Conv(inner, (4, 4), (2, 2), PAD1, use_bias=bias, kernel_init=self.kernel_init)(h)
        if not (outermost or innermost):
            h = norm(train)(h)
        if not innermost:
            h = UNetBlock(self.level + 1, self.depth, self.features, self.out_channels,
                          self.norm, self.dropout, self.dropout_rate, self.kernel_init)(
                              h, train, noise)
        h = ConvTranspose(outer, (4, 4), (2, 2), 'SAME', use_bias=bias or outermost,
                          kernel_init=self.kernel_init)(nn.relu(h))
        if outermost:
            return jnp.tanh(h)
        h = norm(train)(h)
        if self.dropout[self.level]:
            h = nn.Dropout(self.dropout_rate, deterministic=not noise)(h)
        return jnp.concatenate([x, h], axis=-1)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net: ``[B, H, W, C_in]`` -> ``[B, H, W, out_channels]``.

    Encoder C64-C128-C256-C512-C512... (``features`` doubling up to 8x) with
    4x4 stride-2 convolutions and LeakyReLU 0.2, no norm on the first and the
    innermost; decoder of 4x4 stride-2 transposed convolutions with ReLU, each
    decoder output concatenated with the encoder features of its level (the
    skips); tanh out. The depth comes from the image: :func:`unet_depth`. An
    image whose side is not a power of two (28 px) is reflect-padded up to one
    (32) and the output cropped back, so every level halves exactly.

    Noise: dropout 0.5 on the decoder outputs of the ``dropout_blocks``
    innermost levels (the innermost counted). ``unet_256`` puts it on the three
    ngf*8 levels just outside its innermost one; at 28-64 px the U-Net has 5-6
    levels, and the official rule (``num_downs - 5`` such levels) would leave 0-1,
    i.e. no noise at 32 px, so here the three innermost decoder outputs (2, 4 and
    8 px) carry it. It is active in train mode and, with ``sample_dropout``, also
    when sampling (pix2pix's ``test.py`` keeps dropout on unless ``--eval``);
    either needs an rng named 'dropout'.
    """
    features: int = 64
    out_channels: int = 3
    norm: str = 'batch'
    dropout_blocks: int = 3
    dropout_rate: float = 0.5
    sample_dropout: bool = False
    kernel_init: Callable[..., Any] = INIT

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        if x.ndim != 4:
            raise JaxgenError(f'UNetGenerator takes images [B, H, W, C], got shape {x.shape}')
        height, width = x.shape[1:3]
        depth = unet_depth(height, width)
        side = 2 ** depth
        pad_h, pad_w = side - height, side - width
        if pad_h >= height or pad_w >= width:
            raise JaxgenError(f'UNetGenerator pads images to a power of two; {height}x{width} '
                              f'is too far from {side}x{side}: use a square side like 28, 32 or 64')
        pads = ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2),
                (0, 0))
        h = jnp.pad(x, pads, mode='reflect')
        dropout = tuple(0 < level and level >= depth - self.dropout_blocks
                        for level in range(depth))
        y = UNetBlock(0, depth, self.features, self.out_channels, self.norm, dropout,
                      self.dropout_rate, self.kernel_init)(h, train, train or self.sample_dropout)
        return y[:, pads[1][0]:pads[1][0] + height, pads[2][0]:pads[2][0] + width]


# The two ResNet generators' differences (CycleGAN's ResnetGenerator with
# norm='instance' as in cycle_gan_model.py; StarGAN's Generator).
STYLES = {
    'cyclegan': dict(padding='reflect', down_kernel=3, up_kernel=3, affine=False),
    'stargan': dict(padding='zero', down_kernel=4, up_kernel=4, affine=True),
}


class ResNetGenerator(nn.Module):
    """CycleGAN's and StarGAN's generator: ``[B, H, W, C]`` (and with
    ``condition_dim`` K > 0 a ``condition [B, K]``, tiled to ``[B, H, W, K]`` and
    concatenated to the image, StarGAN's target domain) -> ``[B, H, W, out_channels]``.

    7x7 conv (stride 1), two stride-2 downsamplings doubling the width,
    ``blocks`` residual blocks (two 3x3 convs, norm, ReLU between, no ReLU after
    the sum), two stride-2 transposed convolutions halving it, 7x7 conv, tanh.
    ``style='cyclegan'``: reflection padding before the 7x7 and the blocks' 3x3
    convs, 3x3 stride-2 downsamplings, 3x3 transposed convolutions, InstanceNorm
    without affine, biases on (the official code's ``use_bias`` for InstanceNorm);
    6 blocks for 128 px and below, 9 for 256 (``resnet_6blocks``/``_9blocks``).
    ``style='stargan'``: zero padding, 4x4 downsamplings and transposed
    convolutions, affine InstanceNorm, no biases; 6 blocks. ``norm`` overrides the
    style's 'instance'. CycleGAN's 3x3 stride-2 transposed convolution
    (``padding=1, output_padding=1``) pads the dilated input (1, 2); Flax's
    'SAME' pads it (2, 1): the same layer shifted by one kernel tap.
    """
    features: int = 64
    out_channels: int = 3
    blocks: int = 6
    style: str = 'cyclegan'
    norm: str = 'instance'
    condition_dim: int = 0
    kernel_init: Callable[..., Any] = INIT

    def check(self, x: jax.Array, condition: jax.Array | None) -> None:
        if self.style not in STYLES:
            raise JaxgenError(f'unknown ResNetGenerator style {self.style!r}; use '
                              f'{" or ".join(map(repr, STYLES))}')
        if x.ndim != 4 or x.shape[1] % 4 or x.shape[2] % 4:
            raise JaxgenError(f'ResNetGenerator takes images [B, H, W, C] with H and W '
                              f'multiples of 4 (two stride-2 stages), got shape {x.shape}')
        if self.condition_dim == 0 and condition is not None:
            raise JaxgenError('ResNetGenerator got a condition but has condition_dim=0; '
                              'set condition_dim to the number of domains')
        if self.condition_dim and (condition is None or condition.shape !=
                                   (x.shape[0], self.condition_dim)):
            got = None if condition is None else tuple(condition.shape)
            raise JaxgenError(f'ResNetGenerator needs a condition of shape '
                              f'[{x.shape[0]}, {self.condition_dim}] (batch, domains), got {got}')

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False,
                 condition: jax.Array | None = None) -> jax.Array:
        self.check(x, condition)
        style = STYLES[self.style]
        if condition is not None:
            tiled = jnp.broadcast_to(condition[:, None, None, :].astype(x.dtype),
                                     (*x.shape[:3], condition.shape[-1]))
            x = jnp.concatenate([x, tiled], axis=-1)
        norm = norm_layer(self.norm, style['affine'])
        bias = not has_shift(self.norm, style['affine'])
        reflect = style['padding'] == 'reflect'

        def conv(h, features, kernel, use_bias=bias):
            """A stride-1 conv keeping the size: reflect-padded or zero-padded."""
            p = kernel // 2
            if reflect:
                h = jnp.pad(h, ((0, 0), (p, p), (p, p), (0, 0)), mode='reflect')
            return Conv(features, (kernel, kernel), padding='VALID' if reflect else ((p, p),) * 2,
                        use_bias=use_bias, kernel_init=self.kernel_init)(h)

        h = nn.relu(norm(train)(conv(x, self.features, 7)))
        for i in range(2):
            k = style['down_kernel']
            h = Conv(self.features * 2 ** (i + 1), (k, k), (2, 2), PAD1, use_bias=bias,
                     kernel_init=self.kernel_init)(h)
            h = nn.relu(norm(train)(h))
        width = self.features * 4
        for _ in range(self.blocks):
            r = nn.relu(norm(train)(conv(h, width, 3)))
            h = h + norm(train)(conv(r, width, 3))
        for i in range(2):
            k = style['up_kernel']
            h = ConvTranspose(self.features * 2 ** (1 - i), (k, k), (2, 2), 'SAME',
                              use_bias=bias, kernel_init=self.kernel_init)(h)
            h = nn.relu(norm(train)(h))
        # CycleGAN's last conv has a bias, StarGAN's not
        return jnp.tanh(conv(h, self.out_channels, 7, use_bias=reflect))
