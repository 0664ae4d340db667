"""A transposed convolution with an opt-in kernel gradient that XLA:CPU runs fast.

``flax.linen.ConvTranspose`` is ``lax.conv_transpose``: a stride-1 convolution
of the input dilated by the stride. By default :class:`ConvTranspose` computes
exactly that, with autodiff's own rules. Autodiff's kernel gradient of it is a
convolution over the dilated input that XLA's CPU backend runs on a slow
generic path: for DCGAN's 7x7x128 -> 14x14x64 layer at batch 256 it took 12 s,
against 0.12 s for the forward pass (docs/RESULTS.md, throughput).

The same kernel gradient is, flipped, the kernel gradient of an ordinary strided
convolution of the output cotangent, which every backend runs fast (written in the
canonical layout of :func:`jaxgen.models.conv.kernel_gradient`, so that it stays
fast inside the loops of fused train steps too): :func:`kernel_gradient`. Inside
:func:`jaxgen.models.conv.cpu_speedups` ``(True)`` the layer runs
:func:`conv_transpose`, a ``jax.custom_jvp`` with the same forward values whose
tangent rule is the transpose of that kernel gradient and of
:func:`jaxgen.models.conv.input_gradient`, so reverse mode computes those, and
forward mode, ``vmap`` and higher derivatives work as for any JAX function.
Parameters are named and shaped as Flax's (``kernel`` [kh, kw, in, out],
``bias``), and the class is named ``ConvTranspose``, so checkpoints of either
load into the other.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgen.models.conv import (DIMENSIONS, Convolution, input_gradient, input_gradient_pads,
                                kernel_gradient as conv_kernel_gradient, transposed_tangent)


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
    return jnp.flip(dk, (0, 1)).transpose(0, 1, 3, 2)


def conv_transpose(x: jax.Array, w: jax.Array, strides: Sequence[int] = (2, 2),
                   padding: str = 'SAME') -> jax.Array:
    """:func:`plain_conv_transpose`'s values, whose gradients are
    :func:`jaxgen.models.conv.input_gradient` and :func:`kernel_gradient` (autodiff's
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
    operation = staticmethod(plain_conv_transpose)
    fast_operation = staticmethod(conv_transpose)
