"""A 2-D convolution whose kernel gradient stays fast inside compiled loops.

Autodiff's kernel gradient of a strided convolution is itself a convolution,
with the batch as the contracted feature axis (``dim_labels f01b_i01o->01bf``).
At the top level of a program XLA:CPU re-lays it out into the one form its
Eigen kernels run (``b01f_01io->b01f``); inside a ``while`` loop, which is what
``lax.scan`` over fused train steps compiles to, it does not, and falls back to a
generic loop: 20 s instead of 0.1 s for the 14x14x64 -> 7x7x128 layer at batch
128 (docs/RESULTS.md, fused steps). :func:`kernel_gradient` writes the same
contraction with explicit transposes in that canonical form, so every backend
gets a convolution it runs fast, in or out of loops. The values are the same
sums (bit-identical on XLA:CPU; tests/test_conv.py).

:class:`Conv` is a drop-in for ``flax.linen.Conv`` (NHWC, HWIO kernel named
``kernel``, ``bias``; the class is named ``Conv`` so checkpoints of either load
into the other) that uses it.

Batch chunks: XLA:CPU's convolutions cost more per image as the batch grows (the
activations outgrow the caches: 1.5-3.4x per image at batch 256 against 64 for
DCGAN's and InfoGAN's layers, docs/RESULTS.md). Every example's convolution is
independent, so :class:`Convolution` runs a large batch as a ``lax.map`` over
chunks of ``batch_chunk`` examples when it holds at least MIN_CHUNKS of them: the
same sums, the kernel gradient added up chunk by chunk. ``batch_chunk=None`` (the
default) picks :data:`CPU_CHUNK` on a single CPU device and no chunks elsewhere
(GPUs and TPUs want the whole batch, and a batch sharded over several devices must
not be regrouped); 0 turns it off.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ClassVar, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

DIMENSIONS = ('NHWC', 'HWIO', 'NHWC')
CPU_CHUNK = 32  # examples per chunk on one CPU device (fastest of 16, 32, 64 there) ...
MIN_CHUNKS = 8  # ... for batches of 8 chunks or more: smaller ones ran as fast or faster whole
Pads = tuple[tuple[int, int], ...]


def kernel_gradient(x: jax.Array, g: jax.Array, kernel_size: Sequence[int],
                    strides: Sequence[int], pads: Pads) -> jax.Array:
    """d/dw of ``<g, conv(x, w, strides, pads)>``: the HWIO kernel's gradient.

    ``dw[a, b, i, o] = sum_{n,p,q} xpad[n, s0 p + a, s1 q + b, i] g[n, p, q, o]``,
    i.e. a stride-1 convolution of ``xpad`` (input channels as the batch, the
    examples as features) with ``g`` (examples as input channels) dilated by the
    strides, trimmed to the kernel's size.
    """
    lhs = jnp.transpose(x, (3, 1, 2, 0))   # (I, H, W, N): batch I, features N
    rhs = jnp.transpose(g, (1, 2, 0, 3))   # (P, Q, N, O): window P x Q, in N, out O
    out = lax.conv_general_dilated(lhs, rhs, (1, 1), pads, rhs_dilation=tuple(strides),
                                   dimension_numbers=DIMENSIONS)  # (I, >= KH, >= KW, O)
    out = out[:, :kernel_size[0], :kernel_size[1], :]
    return jnp.transpose(out, (1, 2, 0, 3))


def input_gradient(g: jax.Array, w: jax.Array, input_hw: Sequence[int],
                   strides: Sequence[int], pads: Pads, lhs_dilation: Sequence[int] = (1, 1)
                   ) -> jax.Array | None:
    """d/dx of ``<g, conv>`` for ``conv = conv_general_dilated(x, w, strides, pads,
    lhs_dilation)`` with one of ``strides`` and ``lhs_dilation`` all ones: a
    convolution of ``g`` with the kernel flipped and its in/out axes swapped,
    both written out (autodiff leaves the swap to a layout that XLA:CPU runs on a
    slow path inside loops). ``None`` for a geometry that needs cropping pads.

    Along an axis with kernel K, pads (lo, hi), stride s, input dilation d and
    input size H (output size P): ``dx`` is the correlation of ``g`` dilated by
    s, padded by (K - 1 - lo, .), strided by d, cut to H.
    """
    flipped = jnp.transpose(jnp.flip(w, (0, 1)), (0, 1, 3, 2))
    new_pads = []
    for axis, (k, s, d, (lo, _)) in enumerate(zip(w.shape[:2], strides, lhs_dilation, pads)):
        low = k - 1 - lo
        span = s * (g.shape[1 + axis] - 1) + 1          # g dilated by s
        high = d * (input_hw[axis] - 1) + k - span - low  # so that H outputs come out
        if low < 0 or high < 0:
            return None
        new_pads.append((low, high))
    return lax.conv_general_dilated(g, flipped, tuple(lhs_dilation), new_pads,
                                    lhs_dilation=tuple(strides),
                                    dimension_numbers=DIMENSIONS)


def explicit_pads(input_hw: Sequence[int], kernel_size: Sequence[int],
                  strides: Sequence[int], padding) -> Pads:
    """'SAME', 'VALID' or explicit ``((lo, hi), (lo, hi))`` as explicit pads."""
    if isinstance(padding, str):
        return tuple(lax.padtype_to_pads(tuple(input_hw), tuple(kernel_size),
                                         tuple(strides), padding))
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def _forward(x, w, strides, pads):
    return lax.conv_general_dilated(x, w, strides, pads, dimension_numbers=DIMENSIONS)


def conv(x: jax.Array, w: jax.Array, strides: Sequence[int] = (1, 1),
         padding='SAME') -> jax.Array:
    """``lax.conv_general_dilated(x, w, strides, padding)`` (NHWC, HWIO), with the
    gradients of :func:`input_gradient` and :func:`kernel_gradient`."""
    pads = explicit_pads(x.shape[1:3], w.shape[:2], strides, padding)
    if min(min(p) for p in pads) < 0:  # cropping pads: autodiff's own rule
        return _forward(x, w, tuple(strides), pads)
    return _conv(tuple(strides), pads, x, w)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _conv(strides, pads, x, w):
    return _forward(x, w, strides, pads)


def _fwd(strides, pads, x, w):
    return _forward(x, w, strides, pads), (x, w)


def _bwd(strides, pads, residuals, g):
    x, w = residuals
    dx = input_gradient(g, w.astype(g.dtype), x.shape[1:3], strides, pads)
    if dx is None:
        _, pull_x = jax.vjp(lambda x_: _forward(x_, w, strides, pads), x)
        dx, = pull_x(g)
    dw = kernel_gradient(x.astype(g.dtype), g, w.shape[:2], strides, pads)
    return dx.astype(x.dtype), dw.astype(w.dtype)


_conv.defvjp(_fwd, _bwd)


def auto_chunk() -> int:
    """:data:`CPU_CHUNK` on a lone CPU device, else 0 (no chunks)."""
    return CPU_CHUNK if jax.default_backend() == 'cpu' and jax.device_count() == 1 else 0


def batch_chunked(operation: Callable[..., jax.Array], chunk: int) -> Callable[..., jax.Array]:
    """``operation(x, *args)`` applied to chunks of ``chunk`` examples of ``x``, one
    after another (``lax.map``), and a last partial chunk on its own; a batch of fewer
    than :data:`MIN_CHUNKS` chunks whole."""
    def run(x, *args):
        n = x.shape[0]
        if not chunk or n < MIN_CHUNKS * chunk:
            return operation(x, *args)
        full = n // chunk * chunk
        head = x[:full].reshape(full // chunk, chunk, *x.shape[1:])
        y = lax.map(lambda xs: operation(xs, *args), head)
        y = y.reshape(full, *y.shape[2:])
        return y if full == n else jnp.concatenate([y, operation(x[full:], *args)])
    return run


class Convolution(nn.Module):
    """A Flax layer around ``operation(x, kernel, strides, padding)``: the HWIO
    ``kernel`` and ``bias`` params of Flax's own layers, inputs promoted to a
    common dtype, large batches in chunks of ``batch_chunk`` (None: :func:`auto_chunk`).
    Subclasses name the operation and their defaults."""
    features: int
    kernel_size: Sequence[int] = (3, 3)
    strides: Sequence[int] = (1, 1)
    padding: Any = 'SAME'
    use_bias: bool = True
    kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
    bias_init: Callable[..., Any] = nn.initializers.zeros_init()
    batch_chunk: int | None = None
    operation: ClassVar[Callable[..., jax.Array]]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param('kernel', self.kernel_init,
                            (*self.kernel_size, x.shape[-1], self.features))
        bias = (self.param('bias', self.bias_init, (self.features,)) if self.use_bias
                else None)
        x, kernel = nn.dtypes.promote_dtype(x, kernel)
        operation, strides, padding = type(self).operation, self.strides, self.padding

        def layer(x, kernel, bias):
            y = operation(x, kernel, strides, padding)
            return y if bias is None else y + bias.astype(y.dtype)

        # The bias inside the chunks: added (and its gradient summed) outside, XLA:CPU
        # fused it with the cotangent into a loop 3x slower for the 28x28x1 layer.
        chunk = auto_chunk() if self.batch_chunk is None else self.batch_chunk
        return batch_chunked(layer, chunk)(x, kernel, bias)


class Conv(Convolution):
    """Drop-in for ``nn.Conv(features, kernel_size, strides, padding)`` on NHWC images."""
    operation = staticmethod(conv)
