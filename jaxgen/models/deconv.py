"""A transposed convolution whose kernel gradient is fast on every backend.

``flax.linen.ConvTranspose`` is ``lax.conv_transpose``: a stride-1 convolution
of the input dilated by the stride. Autodiff's kernel gradient of that is a
convolution over the dilated input that XLA's CPU backend runs on a slow
generic path: for DCGAN's 7x7x128 -> 14x14x64 layer at batch 256 it took 12 s,
against 0.12 s for the forward pass (docs/RESULTS.md, throughput).

The same kernel gradient is, flipped, the kernel gradient of an ordinary strided
convolution of the output cotangent, which every backend runs fast (written in the
canonical layout of :func:`jaxgen.models.conv.kernel_gradient`, so that it stays
fast inside the loops of fused train steps too). This module
computes the forward pass exactly as ``lax.conv_transpose`` does and the
backward pass that way (a ``jax.custom_vjp``). Parameters are named and shaped
as Flax's (``kernel`` [kh, kw, in, out], ``bias``), and the class is named
``ConvTranspose``, so checkpoints of either load into the other.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgen.models.conv import DIMENSIONS, Convolution, input_gradient, kernel_gradient


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


def _forward(x, w, strides, padding):
    pads = [transpose_padding(k, s, padding) for k, s in zip(w.shape[:2], strides)]
    return lax.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=strides,
                                    dimension_numbers=DIMENSIONS)


def conv_transpose(x: jax.Array, w: jax.Array, strides: Sequence[int] = (2, 2),
                   padding: str = 'SAME') -> jax.Array:
    """``lax.conv_transpose(x, w, strides, padding)`` (NHWC, HWIO), fast to differentiate."""
    return _conv_transpose(tuple(strides), padding, x, w)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _conv_transpose(strides, padding, x, w):
    return _forward(x, w, strides, padding)


def _fwd(strides, padding, x, w):
    return _forward(x, w, strides, padding), (x, w)


def _bwd(strides, padding, residuals, g):
    x, w = residuals
    forward_pads = tuple(transpose_padding(k, s, padding) for k, s in zip(w.shape[:2], strides))
    dx = input_gradient(g, w.astype(g.dtype), x.shape[1:3], (1, 1), forward_pads, strides)
    if dx is None:
        _, pull_x = jax.vjp(lambda x_: _forward(x_, w, strides, padding), x)
        dx, = pull_x(g)
    dx = dx.astype(x.dtype)
    # y[p] = sum_{q,k: p = s q + a - k} x[q] w[k], so dw[k] = sum_q x[q] g[s q + a - k]:
    # with k' = K - 1 - k that is the kernel gradient of conv(g, stride s, low pad
    # K - 1 - a) against the output cotangent x, then flipped and in/out swapped.
    pads = []
    for axis, (k, s) in enumerate(zip(w.shape[:2], strides)):
        low, _ = transpose_padding(k, s, padding)
        start = k - 1 - low
        end = (x.shape[1 + axis] - 1) * s + k - g.shape[1 + axis] - start
        pads.append((start, end))
    if min(min(p) for p in pads) < 0:  # unusual geometry: autodiff's own rule
        _, pull_w = jax.vjp(lambda w_: _forward(x, w_, strides, padding), w)
        return dx, pull_w(g)[0]
    # In the canonical layout of jaxgen.models.conv, which stays fast inside loops.
    dk = kernel_gradient(g, x.astype(g.dtype), w.shape[:2], strides, tuple(pads))
    dw = jnp.flip(dk, (0, 1)).transpose(0, 1, 3, 2).astype(w.dtype)
    return dx, dw


_conv_transpose.defvjp(_fwd, _bwd)


class ConvTranspose(Convolution):
    """Drop-in for ``nn.ConvTranspose(features, kernel_size, strides, padding)``."""
    kernel_size: Sequence[int] = (4, 4)
    strides: Sequence[int] = (2, 2)
    operation = staticmethod(conv_transpose)
