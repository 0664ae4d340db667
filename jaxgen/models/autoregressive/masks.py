"""Masked convolutions for pixel-by-pixel models, and the Diagonal BiLSTM's skew.

Pixels are ordered in raster order, and within a pixel by colour (R, G, B). The
features of every layer are split into one group per colour (contiguous blocks,
repeated per gate block for LSTM gates): a feature of group g may depend on the
pixels before the current one, and on the current pixel's colours before g (mask
A, the first layer) or up to g (mask B, every later layer).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def groups(num_features: int, colours: int, blocks: int = 1) -> np.ndarray:
    """The colour group of each of ``num_features`` features: ``blocks`` equal blocks
    (an LSTM's gates), each split into ``colours`` contiguous runs."""
    per_block = num_features // blocks
    return (np.arange(num_features) % per_block) * colours // per_block


def mask(kernel_size: Sequence[int], in_groups, out_groups, kind: str) -> np.ndarray:
    """The ``[kh, kw, in, out]`` mask: ones before the centre in raster order, none
    after it, and at the centre ``out_group > in_group`` (A) or ``>=`` (B)."""
    kh, kw = kernel_size
    in_groups, out_groups = np.asarray(in_groups), np.asarray(out_groups)
    m = np.zeros((kh, kw, len(in_groups), len(out_groups)), np.float32)
    ci, cj = kh // 2, kw // 2
    m[:ci] = 1.0
    m[ci, :cj] = 1.0
    centre = out_groups[None, :] > in_groups[:, None] if kind == 'A' else (
        out_groups[None, :] >= in_groups[:, None])
    m[ci, cj] = centre
    return m


class MaskedConv(nn.Module):
    """A stride-1 SAME convolution whose kernel is multiplied by :func:`mask`."""
    features: int
    kernel_size: tuple[int, int]
    kind: str                    # 'A' or 'B'
    in_groups: tuple[int, ...]
    out_groups: tuple[int, ...]

    def masked_kernel(self, kernel: jax.Array) -> jax.Array:
        return kernel * mask(self.kernel_size, self.in_groups, self.out_groups, self.kind)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param('kernel', nn.initializers.lecun_normal(),
                            (*self.kernel_size, x.shape[-1], self.features))
        bias = self.param('bias', nn.initializers.zeros_init(), (self.features,))
        x, kernel = nn.dtypes.promote_dtype(x, self.masked_kernel(kernel))
        y = lax.conv_general_dilated(x, kernel, (1, 1), 'SAME',
                                     dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
        return y + bias


def masked(features: int, kernel_size, kind: str, in_groups, out_groups, name: str):
    """A :class:`MaskedConv` from group arrays (kept as tuples: modules are hashed)."""
    return MaskedConv(features, tuple(kernel_size), kind, tuple(int(g) for g in in_groups),
                      tuple(int(g) for g in out_groups), name=name)


def skew(x: jax.Array) -> jax.Array:
    """``[B, H, W, F] -> [B, H, W + H - 1, F]``, row i shifted right by i (zeros around)."""
    b, h, w, f = x.shape
    flat = jnp.pad(x, ((0, 0), (0, 0), (0, h), (0, 0))).reshape(b, h * (w + h), f)
    return flat[:, :h * (w + h - 1)].reshape(b, h, w + h - 1, f)


def unskew(y: jax.Array, width: int) -> jax.Array:
    """The inverse of :func:`skew`: ``[B, H, W + H - 1, F] -> [B, H, W, F]``."""
    b, h, _, f = y.shape
    flat = jnp.pad(y.reshape(b, -1, f), ((0, 0), (0, h), (0, 0)))
    return flat.reshape(b, h, width + h, f)[:, :, :width]


def trunk_specs(hidden: int, colours: int, levels: int, head: int) -> dict:
    """The layers every pixel model shares, ``name -> (features, kernel, kind, in
    groups, out groups)``: the 7x7 mask-A input convolution to 2h features, and the
    output head (ReLU, 1x1 mask B to ``head`` features, ReLU, 1x1 mask B to C x K)."""
    g2h, g_head = groups(2 * hidden, colours), groups(head, colours)
    return {'input': (2 * hidden, (7, 7), 'A', np.arange(colours), g2h),
            'head_hidden': (head, (1, 1), 'B', g2h, g_head),
            'head_out': (colours * levels, (1, 1), 'B', g_head,
                         np.arange(colours * levels) // levels)}


def conv_from(specs: dict, name: str) -> MaskedConv:
    """The :class:`MaskedConv` named ``name`` in ``specs`` (call inside a compact method)."""
    return masked(*specs[name], name=name)


def head(specs: dict, s: jax.Array, colours: int, levels: int) -> jax.Array:
    """Logits ``[B, H, W, C, K]`` from the residual stream ``s``."""
    y = conv_from(specs, 'head_hidden')(nn.relu(s))
    y = conv_from(specs, 'head_out')(nn.relu(y))
    return y.reshape(*y.shape[:3], colours, levels)


def check_groups(name: str, colours: int, **widths: int) -> None:
    """Widths the colour groups cannot split evenly are a one-line error."""
    from jaxgen.errors import JaxgenError  # pylint: disable=import-outside-toplevel
    for field, width in widths.items():
        if width < 1 or width % colours:
            raise JaxgenError(f'{name}: config.model.{field}={width} must be a positive '
                              f'multiple of the {colours} colour channels (one group each)')
