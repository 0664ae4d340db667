"""A 3x3 stride-1 'SAME' convolution whose gradients are Winograd's F(4x4, 3x3).

XLA:CPU runs the kernel gradient of a 3x3 convolution as a convolution with the
activations' whole plane as its window (``dim_labels b01f_01io``, a 32x32 window for a
32x32 layer) plus transposes of both operands into that layout: 77-105 ms against its
forward's 54 ms for Progressive GAN's 32x32x128 layers at batch 32 on the 2 cores here
(PyTorch's oneDNN: 52 ms). Inside ``lax.cond`` (a lazy phase such as StyleGAN's R1) it
does not even do that for the kernel gradient of an input gradient (R1's second
derivative): it runs a generic loop, 23 s for one 32x32 layer
(docs/results/progressive.md, "the lazy R1 step").

Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural
Networks", CVPR 2016, F(4x4, 3x3) with the interpolation points 0, ±1, ±2 and their
matrices ``B^T``, ``G``, ``A^T``) writes each 4x4 output tile of the correlation as
``A^T [(G w G^T) . (B^T d B)] A`` with ``d`` the tile's 6x6 input patch: 36 batched
matmuls between elementwise transforms (:func:`winograd_conv`). The kernel gradient is
its derivative in ``w``:

    dw = sum over tiles of G^T [(B^T d B) . (A g A^T)] G      (per channel pair)

36 products ``V[t]^T dM[t]`` over the tiles, then a 6x6 -> 3x3 transform
(:func:`kernel_gradient`): 2.25x fewer multiplications than the direct sum and no
layout change. The same sums in another order, so float32 rounding differs (relative
~1e-5; ``tests/test_winograd.py`` checks both against ``lax`` in float64 to 1e-12).

:func:`conv3x3` computes ``lax.conv_general_dilated``'s forward values exactly. It is a
``jax.custom_jvp`` built as :func:`jaxgen.models.layers.conv.conv` is (each tangent the
transpose of a gradient function, :func:`~jaxgen.models.layers.conv.transposed_tangent`),
so reverse mode runs :func:`kernel_gradient` for the kernel and :func:`input_gradient`
for the input, and forward mode, ``vmap`` and higher derivatives keep working. The
input gradient is :func:`winograd_conv` of the cotangent with the flipped kernel from
:data:`WINOGRAD_MIN` pixels a side (as fast as XLA's at 16x16 and 32x32, slower below),
so its own derivatives are dots and elementwise sums, which XLA:CPU runs at full speed
inside conditionals too; the rule computes its primal with :func:`conv3x3` itself, so a
second derivative reaches the forward pass's rule as well. Smaller layers keep XLA's
input gradient, whose derivative in the kernel stays XLA's. Float32 and float64 only:
the transforms' constants (1/24 .. 8) would cost bfloat16 its precision.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgen.models.layers.conv import DIMENSIONS, flipped, transposed_tangent

TILE = 4  # output pixels per tile side: F(4x4, 3x3) ...
PATCH = TILE + 2  # ... from 6x6 input patches
# Lavin & Gray (2016), section 4.2, F(4, 3): rows of B^T, G and A^T
B_T = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64)
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64)
A_T = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]], np.float64)
DTYPES = (jnp.float32, jnp.float64)
WINOGRAD_MIN = 16  # pixels a side from which the input gradient is winograd_conv


def combine(matrix: np.ndarray, terms: list[jax.Array]) -> list[jax.Array]:
    """``[sum_j matrix[i, j] * terms[j] for each row i]``, zeros skipped and unit
    coefficients not multiplied: elementwise work that XLA fuses into a few loops."""
    rows = []
    for row in matrix:
        total = None
        for c, term in zip(row, terms):
            if c == 0:
                continue
            t = term if c == 1 else -term if c == -1 else term * float(c)
            total = t if total is None else total + t
        rows.append(total)
    return rows


def input_transform(x: jax.Array) -> tuple[jax.Array, int, int]:
    """``B^T d B`` of every 6x6 patch of the 'SAME'-padded ``x``: ``[36, tiles, C]``,
    with the numbers of tiles down and across."""
    n, h, w, c = x.shape
    tiles_h, tiles_w = -(-h // TILE), -(-w // TILE)
    # the 'SAME' pad of 1, and zeros up to whole tiles
    xp = jnp.pad(x, ((0, 0), (1, tiles_h * TILE + 1 - h), (1, tiles_w * TILE + 1 - w), (0, 0)))
    cols = jnp.stack(combine(B_T, [xp[:, :, v:v + TILE * tiles_w:TILE]
                                   for v in range(PATCH)]))
    v_t = jnp.stack(combine(B_T, [cols[:, :, u:u + TILE * tiles_h:TILE]
                                  for u in range(PATCH)]))
    return v_t.reshape(PATCH * PATCH, n * tiles_h * tiles_w, c), tiles_h, tiles_w


def kernel_gradient(x: jax.Array, g: jax.Array) -> jax.Array:
    """d/dw of ``<g, conv(x, w)>`` for a 3x3 stride-1 'SAME' ``conv`` (NHWC, HWIO):
    ``dw[a, b, i, o] = sum_{n,p,q} xpad[n, p + a, q + b, i] g[n, p, q, o]``, by F(4x4, 3x3).
    Any height and width (the last tiles are padded with zeros)."""
    n, h, w, c = x.shape
    k = g.shape[-1]
    v_t, tiles_h, tiles_w = input_transform(x)                     # [36, tiles, C]
    gp = jnp.pad(g, ((0, 0), (0, tiles_h * TILE - h), (0, tiles_w * TILE - w), (0, 0)))
    gp = gp.reshape(n, tiles_h, TILE, tiles_w, TILE, k)
    # A g A^T of each 4x4 cotangent tile: [alpha, beta, N, Th, Tw, K]
    rows = jnp.stack(combine(A_T.T, [gp[:, :, r] for r in range(TILE)]))
    m_t = jnp.stack(combine(A_T.T, [rows[..., s, :] for s in range(TILE)]), 1)
    du = lax.dot_general(v_t, m_t.reshape(PATCH * PATCH, -1, k),
                         (((1,), (1,)), ((0,), (0,))))              # [36, C, K]
    du = du.reshape(PATCH, PATCH, c, k)
    gm = jnp.asarray(G, du.dtype)
    return jnp.einsum('au,abck,bv->uvck', gm, du, gm)


def winograd_conv(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 3x3 'SAME' convolution by F(4x4, 3x3): dots and elementwise sums only."""
    n, h, wd, _ = x.shape
    v_t, tiles_h, tiles_w = input_transform(x)
    gm = jnp.asarray(G, x.dtype)
    u = jnp.einsum('au,uvck,bv->abck', gm, w, gm).reshape(PATCH * PATCH, *w.shape[2:])
    m = lax.dot_general(v_t, u, (((2,), (1,)), ((0,), (0,))))
    m = m.reshape(PATCH, PATCH, n, tiles_h, tiles_w, w.shape[-1])
    rows = combine(A_T, [m[a] for a in range(PATCH)])
    y = [combine(A_T, [r[b] for b in range(PATCH)]) for r in rows]
    y = jnp.stack([jnp.stack(r, 3) for r in y], 2)  # [N, Th, 4, Tw, 4, K]
    return y.reshape(n, tiles_h * TILE, tiles_w * TILE, -1)[:, :h, :wd]


def input_gradient(g: jax.Array, w: jax.Array) -> jax.Array:
    """d/dx of ``<g, conv(x, w)>``: the 'SAME' convolution of ``g`` with :func:`flipped`
    ``w``, by :func:`winograd_conv` from :data:`WINOGRAD_MIN` pixels a side, else XLA's."""
    if min(g.shape[1:3]) >= WINOGRAD_MIN:
        return winograd_conv(g, flipped(w))
    return _forward(g, flipped(w))


def _forward(x: jax.Array, w: jax.Array) -> jax.Array:
    return lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=DIMENSIONS)


def applies(x: jax.Array, w: jax.Array) -> bool:
    """Whether :func:`conv3x3` takes this layer: a 3x3 HWIO kernel, NHWC input, both
    float32 or float64."""
    return (w.shape[:2] == (3, 3) and x.ndim == 4 and x.dtype == w.dtype
            and any(x.dtype == d for d in DTYPES))


@jax.custom_jvp
def conv3x3(x: jax.Array, w: jax.Array) -> jax.Array:
    """``lax.conv_general_dilated(x, w, (1, 1), 'SAME')`` (NHWC, 3x3 HWIO), values
    identical; reverse mode runs :func:`kernel_gradient` for ``w`` and
    :func:`input_gradient` for ``x``."""
    return _forward(x, w)


@functools.partial(conv3x3.defjvp, symbolic_zeros=True)
def _conv3x3_jvp(primals, tangents):
    x, w = primals
    # conv3x3 itself, not _forward: differentiated again (the gradient of a gradient
    # penalty), this forward pass reaches these rules too
    y = conv3x3(x, w)
    return y, transposed_tangent(y, primals, tangents, _forward,
                                 lambda g: input_gradient(g, w),
                                 lambda g: kernel_gradient(x, g))
