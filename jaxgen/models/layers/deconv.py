"""A transposed convolution whose gradients XLA:CPU runs fast, by default and opt-in.

``flax.linen.ConvTranspose`` is ``lax.conv_transpose``: a stride-1 convolution
of the input dilated by the stride. :func:`plain_conv_transpose` computes exactly
that, with autodiff's own rules (the default for layers with few channels; the
sub-pixel form below for the others). Autodiff's kernel gradient of it is a
convolution over the dilated input that XLA's CPU backend runs on a slow
generic path: for DCGAN's 7x7x128 -> 14x14x64 layer at batch 256 it took 12 s,
against 0.12 s for the forward pass (docs/RESULTS.md, throughput).

The same kernel gradient is, flipped, the kernel gradient of an ordinary strided
convolution of the output cotangent, which every backend runs fast (written in the
canonical layout of :func:`jaxgen.models.layers.conv.kernel_gradient`, so that it stays
fast inside the loops of fused train steps too): :func:`kernel_gradient`. Inside
:func:`jaxgen.models.layers.conv.cpu_speedups` ``(True)`` the layer runs
:func:`conv_transpose`, a ``jax.custom_jvp`` with the same forward values whose
tangent rule is the transpose of that kernel gradient and of
:func:`jaxgen.models.layers.conv.input_gradient`, so reverse mode computes those, and
forward mode, ``vmap`` and higher derivatives work as for any JAX function.
Parameters are named and shaped as Flax's (``kernel`` [kh, kw, in, out],
``bias``), and the class is named ``ConvTranspose``, so checkpoints of either
load into the other.

Outside the speed-ups (the default) a layer with at least
:data:`SUBPIXEL_MIN_CHANNELS` input and output channels and every stride above 1 runs
:func:`subpixel_conv_transpose`: the same sums, regrouped. Output pixel ``s m + r``
(phase ``r``) of a stride-``s`` transposed convolution only meets the kernel taps
``k = (lo - r) mod s + s t``, at input pixels ``m + t + offset_r``, so the layer is
one stride-1 correlation with a ``ceil(K/s)``-tap kernel and ``s*s`` times the output
channels (the phases), followed by depth-to-space, which interleaves the phases. The
correlation is written as the matmul of the input's patches with the rearranged
kernel (no ``conv`` primitive at all: autodiff of a stride-1 ``conv`` whose kernel
is much smaller than its input gives a kernel gradient that XLA:CPU also lays out
on a slow path, ``01fb_o01i->f01b``), so plain autodiff of it is matmuls, slices and
pads, fast on every backend, and forward mode works as for any JAX function. The
values are Flax's to float32 rounding (the same products, summed in another order).
Layers with few channels (the 1-channel output layers) keep
:func:`plain_conv_transpose`, which is faster there.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgen.models.layers.conv import (DIMENSIONS, Convolution, flipped, input_gradient,
                                input_gradient_pads, kernel_gradient as conv_kernel_gradient,
                                transposed_tangent)


def transpose_padding(kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """``lax.conv_transpose``'s padding of the dilated input, per spatial axis."""
    if padding == 'SAME':
        pad_len = kernel + stride - 2
        low = kernel - 1 if stride > kernel - 1 else int(np.ceil(pad_len / 2))
    elif padding == 'VALID':
        pad_len = kernel + stride - 2 + max(kernel - stride, 0)
        low = kernel - 1
    else:
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return low, pad_len - low


def _pads(kernel_size, strides, padding):
    return tuple(transpose_padding(k, s, padding) for k, s in zip(kernel_size, strides))


def plain_conv_transpose(x: jax.Array, w: jax.Array, strides: Sequence[int] = (2, 2),
                         padding: str = 'SAME') -> jax.Array:
    """``lax.conv_transpose(x, w, strides, padding)`` (NHWC, HWIO), autodiff's rules."""
    return lax.conv_general_dilated(x, w, (1, 1), _pads(w.shape[:2], strides, padding),
                                    lhs_dilation=tuple(strides),
                                    dimension_numbers=DIMENSIONS)


SUBPIXEL_MIN_CHANNELS = 16  # fewer input or output channels: plain_conv_transpose


class Phases(NamedTuple):
    """One spatial axis of :func:`subpixel_conv_transpose`: the ``output`` size, the
    ``taps`` per phase, the ``positions`` per phase, each phase's first kernel tap
    (``first``) and window offset (``offset``), and the input's pads (negative crops)."""
    output: int
    taps: int
    positions: int
    first: tuple[int, ...]
    offset: tuple[int, ...]
    pads: tuple[int, int]


def phases(size: int, kernel: int, stride: int, padding: str) -> Phases:
    """:class:`Phases` of an axis of ``size`` input pixels."""
    low, high = transpose_padding(kernel, stride, padding)
    output = (size - 1) * stride + 1 + low + high - kernel + 1
    taps, positions = -(-kernel // stride), -(-output // stride)
    # y[s m + r] = sum_t x[m + d_r + t] w[first_r + s t], first_r = (low - r) mod s
    first = tuple((low - r) % stride for r in range(stride))
    start = [(f - low + r) // stride for r, f in enumerate(first)]   # d_r
    base = min(start)
    offset = tuple(d - base for d in start)
    windows = positions + max(offset)
    return Phases(output, taps, positions, first, offset,
                  (-base, windows - 1 + base + taps - 1 - (size - 1)))


def subpixel_kernel(w: jax.Array, strides: Sequence[int], rows: Phases,
                    cols: Phases) -> jax.Array:
    """The HWIO kernel rearranged for :func:`subpixel_conv_transpose`:
    ``[taps_h, taps_w, in, s_h * s_w * out]`` (phases major, zeros for a phase's
    missing taps)."""
    kh, kw, cin, cout = w.shape
    sh, sw = strides
    w = jnp.pad(w, ((0, sh * rows.taps - kh), (0, sw * cols.taps - kw), (0, 0), (0, 0)))
    w = w.reshape(rows.taps, sh, cols.taps, sw, cin, cout)          # k = s t + j
    w = jnp.stack([w[:, j] for j in rows.first], axis=1)            # j -> phase
    w = jnp.stack([w[:, :, :, j] for j in cols.first], axis=3)
    return w.transpose(0, 2, 4, 1, 3, 5).reshape(rows.taps, cols.taps, cin, -1)


def subpixel_conv_transpose(x: jax.Array, w: jax.Array, strides: Sequence[int] = (2, 2),
                            padding: str = 'SAME') -> jax.Array:
    """``lax.conv_transpose(x, w, strides, padding)`` (NHWC, HWIO) to float rounding,
    as a stride-1 correlation to ``s_h * s_w`` times the channels (a matmul of the
    input's patches) and depth-to-space; autodiff's rules."""
    n, _, _, cin = x.shape
    cout = w.shape[-1]
    sh, sw = strides
    rows, cols = (phases(x.shape[1], w.shape[0], sh, padding),
                  phases(x.shape[2], w.shape[1], sw, padding))
    kernel = subpixel_kernel(w, strides, rows, cols)
    x = lax.pad(x, jnp.zeros((), x.dtype),
                ((0, 0, 0), (*rows.pads, 0), (*cols.pads, 0), (0, 0, 0)))
    wh, ww = x.shape[1] - rows.taps + 1, x.shape[2] - cols.taps + 1   # windows
    patches = [x[:, a:a + wh, b:b + ww] for a in range(rows.taps) for b in range(cols.taps)]
    patches = patches[0] if len(patches) == 1 else jnp.concatenate(patches, axis=-1)
    y = jnp.dot(patches, kernel.reshape(rows.taps * cols.taps * cin, -1))
    y = y.reshape(n, wh, ww, sh, sw, cout)
    ph, pw = rows.positions, cols.positions
    y = jnp.stack([jnp.stack([y[:, rows.offset[r]:rows.offset[r] + ph,
                                cols.offset[c]:cols.offset[c] + pw, r, c]
                              for c in range(sw)], axis=3)
                   for r in range(sh)], axis=2)                      # (n, ph, sh, pw, sw, o)
    return y.reshape(n, ph * sh, pw * sw, cout)[:, :rows.output, :cols.output]


def default_conv_transpose(x: jax.Array, w: jax.Array, strides: Sequence[int] = (2, 2),
                           padding: str = 'SAME') -> jax.Array:
    """The layer outside the speed-ups: :func:`subpixel_conv_transpose` for strides
    above 1 and at least :data:`SUBPIXEL_MIN_CHANNELS` channels in and out, else
    :func:`plain_conv_transpose`."""
    if min(strides) > 1 and min(w.shape[2:]) >= SUBPIXEL_MIN_CHANNELS:
        return subpixel_conv_transpose(x, w, strides, padding)
    return plain_conv_transpose(x, w, strides, padding)


def kernel_gradient_pads(input_hw: Sequence[int], output_hw: Sequence[int],
                         kernel_size: Sequence[int], strides: Sequence[int],
                         padding: str) -> tuple[tuple[int, int], ...] | None:
    """The pads of :func:`kernel_gradient`'s strided convolution; ``None`` for an
    unusual geometry that would need cropping pads."""
    # y[p] = sum_{q,k: p = s q + a - k} x[q] w[k], so dw[k] = sum_q x[q] g[s q + a - k]:
    # with k' = K - 1 - k that is the kernel gradient of conv(g, stride s, low pad
    # K - 1 - a) against the output cotangent x, then flipped and in/out swapped.
    pads = []
    for h, p, k, s in zip(input_hw, output_hw, kernel_size, strides):
        low, _ = transpose_padding(k, s, padding)
        start = k - 1 - low
        pads.append((start, (h - 1) * s + k - p - start))
    return None if min(min(p) for p in pads) < 0 else tuple(pads)


def kernel_gradient(x: jax.Array, g: jax.Array, kernel_size: Sequence[int],
                    strides: Sequence[int], padding: str) -> jax.Array | None:
    """d/dw of ``<g, conv_transpose(x, w, strides, padding)>`` as a strided
    convolution's kernel gradient (flipped, in/out swapped) in the canonical layout;
    ``None`` for a geometry :func:`kernel_gradient_pads` declines."""
    pads = kernel_gradient_pads(x.shape[1:3], g.shape[1:3], kernel_size, strides, padding)
    if pads is None:
        return None
    dk = conv_kernel_gradient(g, x, kernel_size, strides, pads)
    return flipped(dk)


def conv_transpose(x: jax.Array, w: jax.Array, strides: Sequence[int] = (2, 2),
                   padding: str = 'SAME') -> jax.Array:
    """:func:`plain_conv_transpose`'s values, whose gradients are
    :func:`jaxgen.models.layers.conv.input_gradient` and :func:`kernel_gradient` (autodiff's
    own rule for either part in a geometry they decline)."""
    return _conv_transpose(tuple(strides), padding, x, w)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _conv_transpose(strides, padding, x, w):
    return plain_conv_transpose(x, w, strides, padding)


def _conv_transpose_jvp(strides, padding, primals, tangents):
    x, w = primals
    y = plain_conv_transpose(x, w, strides, padding)
    pads = _pads(w.shape[:2], strides, padding)
    input_declined = input_gradient_pads(w.shape[:2], y.shape[1:3], x.shape[1:3], (1, 1),
                                         pads, strides) is None
    kernel_declined = kernel_gradient_pads(x.shape[1:3], y.shape[1:3], w.shape[:2],
                                           strides, padding) is None
    return y, transposed_tangent(
        y, primals, tangents, lambda x_, w_: plain_conv_transpose(x_, w_, strides, padding),
        None if input_declined else
        lambda g: input_gradient(g, w, x.shape[1:3], (1, 1), pads, strides),
        None if kernel_declined else
        lambda g: kernel_gradient(x, g, w.shape[:2], strides, padding))


_conv_transpose.defjvp(_conv_transpose_jvp, symbolic_zeros=True)


class ConvTranspose(Convolution):
    """Drop-in for ``nn.ConvTranspose(features, kernel_size, strides, padding)``."""
    kernel_size: Sequence[int] = (4, 4)
    strides: Sequence[int] = (2, 2)
    operation = staticmethod(default_conv_transpose)
    fast_operation = staticmethod(conv_transpose)
