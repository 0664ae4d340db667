"""The discriminators of pix2pix/CycleGAN (PatchGAN) and StarGAN, NHWC images.

Sources: Isola et al., 2017, "Image-to-Image Translation with Conditional
Adversarial Networks" (§3.2.2 and §4.4, Table 3 / Figure 6: PixelGAN 1x1,
PatchGANs 16x16 and 70x70, ImageGAN 286x286) with
junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py``
(``NLayerDiscriminator``, ``PixelDiscriminator``, ``init_weights``); Choi et al.,
2018, "StarGAN" (appendix Table 5) with yunjey/stargan ``model.py``
(``Discriminator``). Weights start from N(0, 0.02), biases from 0.
"""

from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax

from jaxgen.errors import JaxgenError
from jaxgen.models.layers.conv import Conv
from jaxgen.models.layers.norms import has_shift, norm_layer
from jaxgen.models.translation.networks import INIT, PAD1


def patch_layers(n_layers: int) -> list[tuple[int, int, int]]:
    """``NLayerDiscriminator``'s convolutions as (kernel, stride, padding): ``n_layers``
    4x4 stride-2 convs, then two 4x4 stride-1 convs, all with padding 1."""
    return [(4, 2, 1)] * n_layers + [(4, 1, 1)] * 2


def receptive_field(n_layers: int) -> int:
    """The receptive field of ``patch_layers(n_layers)``: 16, 34, 70, 142, 286, ..."""
    field, jump = 1, 1
    for kernel, stride, _ in patch_layers(n_layers):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def output_side(side: int, n_layers: int) -> int:
    for kernel, stride, pad in patch_layers(n_layers):
        side = (side + 2 * pad - kernel) // stride + 1
    return side


def covers_image(side: int, n_layers: int) -> bool:
    """Whether every output unit of ``patch_layers(n_layers)`` on a ``side``-pixel
    axis sees all of it (unit ``i`` sees ``[i J - P, i J - P + R - 1]``)."""
    count = output_side(side, n_layers)
    field, jump, offset = 1, 1, 0
    for kernel, stride, pad in patch_layers(n_layers):
        field += (kernel - 1) * jump
        offset += pad * jump
        jump *= stride
    return count >= 1 and all(i * jump - offset <= 0 and
                              i * jump - offset + field - 1 >= side - 1 for i in range(count))


FIELDS = {1: 0, **{receptive_field(n): n for n in range(1, 7)}}   # field -> n_layers


def n_layers_for(field: int | str, height: int, width: int) -> int:
    """``NLayerDiscriminator``'s ``n_layers`` (0: the PixelGAN) for a receptive field
    of ``field`` pixels, or 'full' (0 on the command line, where the config's field is
    an integer): the fewest layers whose every output unit sees the whole image (28 and
    32 px: 3, i.e. the 70x70 stack; 64 px: 4, 142x142)."""
    side = max(height, width)
    if field in ('full', 0):
        for n in range(1, 12):
            if output_side(min(height, width), n) < 1:
                break
            if covers_image(height, n) and covers_image(width, n):
                return n
        raise JaxgenError(f'no PatchGAN covers a {height}x{width} image; use a numeric '
                          f'receptive field ({", ".join(map(str, FIELDS))})')
    if field not in FIELDS:
        raise JaxgenError(f'PatchGAN receptive field {field!r} is not one of '
                          f'{", ".join(map(str, FIELDS))} or \'full\' (0)')
    n = FIELDS[field]
    if n and output_side(min(height, width), n) < 1:
        raise JaxgenError(f'a {field}x{field} PatchGAN leaves no output on a {height}x{width} '
                          f'image (side {side}); use a smaller receptive field or \'full\'')
    return n


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``[B, H, W, C]`` -> logits ``[B, h, w]``, one per patch of
    ``receptive_field`` pixels (no sigmoid: the loss takes logits).

    ``receptive_field`` 1 is ``PixelDiscriminator`` (1x1 convs: ``features``,
    ``2 features`` with norm, 1); 16, 34, 70, 142, 286 are ``NLayerDiscriminator``
    with ``n_layers`` 1..5 (4x4 convs, stride 2 but the last two, widths
    ``features * min(2^i, 8)``, LeakyReLU 0.2, norm on all but the first and the
    last, biases only where no norm shift follows); 'full' is the ImageGAN, see
    :func:`n_layers_for`. pix2pix feeds it ``concat(condition image, image)``,
    CycleGAN the image alone: the caller concatenates.
    """
    features: int = 64
    receptive_field: int | str = 70
    norm: str = 'batch'
    kernel_init: Callable[..., Any] = INIT

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        if x.ndim != 4:
            raise JaxgenError(f'PatchDiscriminator takes images [B, H, W, C], got shape {x.shape}')
        n_layers = n_layers_for(self.receptive_field, *x.shape[1:3])
        norm = norm_layer(self.norm)
        bias = not has_shift(self.norm)
        if n_layers == 0:
            h = nn.leaky_relu(Conv(self.features, (1, 1), kernel_init=self.kernel_init)(x), 0.2)
            h = Conv(2 * self.features, (1, 1), use_bias=bias, kernel_init=self.kernel_init)(h)
            h = nn.leaky_relu(norm(train)(h), 0.2)
            return Conv(1, (1, 1), kernel_init=self.kernel_init)(h)[..., 0]
        h = x
        layers = patch_layers(n_layers)
        for i, (kernel, stride, _) in enumerate(layers[:-1]):
            h = Conv(self.features * min(2 ** i, 8), (kernel, kernel), (stride, stride), PAD1,
                     use_bias=bias or i == 0, kernel_init=self.kernel_init)(h)
            if i > 0:
                h = norm(train)(h)
            h = nn.leaky_relu(h, 0.2)
        return Conv(1, (4, 4), padding=PAD1, kernel_init=self.kernel_init)(h)[..., 0]


def stargan_downsamplings(side: int) -> int:
    """StarGAN's number of 4x4 stride-2 convolutions: halve while the result keeps at
    least 2 px (128 px: 6, the official ``repeat_num``; 64: 5; 32: 4; 28: 3, ending
    at 3x3)."""
    n = 0
    while side // 2 >= 2:
        side, n = side // 2, n + 1
    if n == 0:
        raise JaxgenError(f'StarGANDiscriminator needs images of at least 4 px, got {side}')
    return n


class StarGANDiscriminator(nn.Module):
    """StarGAN's D: ``[B, H, W, C]`` -> ``(source logits [B, h, w], domain logits
    [B, num_domains])``.

    :func:`stargan_downsamplings` 4x4 stride-2 convs (padding 1, biases, widths
    ``features * 2^i``), LeakyReLU 0.01, no normalisation; a 3x3 stride-1
    source head (the patch map, no bias) and a domain head whose kernel is the
    remaining spatial size (no bias), as ``conv1`` and ``conv2`` of ``model.py``.
    """
    features: int = 64
    num_domains: int = 5
    kernel_init: Callable[..., Any] = INIT

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> tuple[jax.Array, jax.Array]:
        if x.ndim != 4:
            raise JaxgenError(f'StarGANDiscriminator takes images [B, H, W, C], got {x.shape}')
        h = x
        for i in range(stargan_downsamplings(min(x.shape[1:3]))):
            h = Conv(self.features * 2 ** i, (4, 4), (2, 2), PAD1,
                     kernel_init=self.kernel_init)(h)
            h = nn.leaky_relu(h, 0.01)
        source = Conv(1, (3, 3), padding=PAD1, use_bias=False,
                      kernel_init=self.kernel_init)(h)[..., 0]
        domains = Conv(self.num_domains, h.shape[1:3], padding='VALID', use_bias=False,
                       kernel_init=self.kernel_init)(h)
        return source, domains.reshape(x.shape[0], self.num_domains)
