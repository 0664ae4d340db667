"""A 2-D convolution with opt-in CPU speed-ups that keep forward mode working.

By default :class:`Conv` is ``flax.linen.Conv`` (NHWC, HWIO kernel named
``kernel``, ``bias``; the class is named ``Conv`` so checkpoints of either load
into the other): ``lax.conv_general_dilated`` with autodiff's own rules, the
whole batch at once. Inside :func:`cpu_speedups` ``(True)`` (read when a program
is traced, like :func:`jaxgen.models.layers.compute_dtype`), it computes the same
forward values and two things change, both for XLA:CPU:

Gradient layouts. Autodiff's kernel gradient of a strided convolution is itself
a convolution, with the batch as the contracted feature axis (``dim_labels
f01b_i01o->01bf``). At the top level of a program XLA:CPU re-lays it out into the
one form its Eigen kernels run (``b01f_01io->b01f``); inside a ``while`` loop,
which is what ``lax.scan`` over fused train steps compiles to, it does not, and
falls back to a generic loop: 20 s instead of 0.1 s for the 14x14x64 -> 7x7x128
layer at batch 128 (docs/RESULTS.md, fused steps). :func:`kernel_gradient` and
:func:`input_gradient` write the same contractions with explicit transposes in
that canonical form. :func:`conv` is a ``jax.custom_jvp`` whose tangent rule is
the *transpose* of those two functions, so reverse mode, which transposes the
tangent rule, computes exactly them, while forward mode (``jax.jvp``,
``jax.linearize``), ``vmap``, Hessian-vector products and higher derivatives
keep working. The values are the same sums (tests/test_conv.py).

Batch chunks. XLA:CPU's convolutions cost more per image as the batch grows (the
activations outgrow the caches: 1.5-3.4x per image at batch 256 against 64 for
DCGAN's and InfoGAN's layers, docs/RESULTS.md). Every example's convolution is
independent, so :class:`Convolution` can run a large batch as a ``lax.map`` over
chunks of ``batch_chunk`` examples when it holds at least MIN_CHUNKS of them: the
same sums, the kernel gradient added up chunk by chunk. ``batch_chunk=None`` (the
default) picks :func:`auto_chunk` inside ``cpu_speedups(True)`` (:data:`CPU_CHUNK`
on a single CPU device; no chunks elsewhere: GPUs and TPUs want the whole batch,
and a batch sharded over several devices must not be regrouped) and no chunks
outside it; 0 turns chunks off, and a positive ``batch_chunk`` chunks in either
setting.

Small outputs. A stride-1 convolution whose output has at most
:data:`PATCH_MAX_OUTPUT` pixels (the last layers of a 70x70 PatchGAN on 28-32 px
images: 3x3 -> 2x2 with 256 -> 512 channels) runs as a patch matmul
(:func:`patch_conv`: the padded input's kh*kw shifted slices, concatenated, times
the reshaped kernel), on the default path and with the speed-ups alike: autodiff's
kernel gradient of such a layer is a convolution whose window is larger than its
output, which XLA:CPU ran 37x slower than the matmul (512 vs 14 ms for that layer's
gradient at batch 16, docs/results/translation.md). The same sums, in another order.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, ClassVar, Iterator, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

DIMENSIONS = ('NHWC', 'HWIO', 'NHWC')
CPU_CHUNK = 32  # examples per chunk on one CPU device (fastest of 16, 32, 64 there) ...
MIN_CHUNKS = 8  # ... for batches of 8 chunks or more: smaller ones ran as fast or faster whole
Pads = tuple[tuple[int, int], ...]
PATCH_MAX_OUTPUT = 16  # output pixels up to which a stride-1 convolution is a patch matmul

_CPU_SPEEDUPS: list[bool] = []  # innermost cpu_speedups() setting last


@contextlib.contextmanager
def cpu_speedups(enabled: bool) -> Iterator[None]:
    """Within this context (at trace time), :class:`Conv` and
    :class:`~jaxgen.models.layers.deconv.ConvTranspose` use the XLA:CPU speed-ups (or not,
    with ``enabled=False``): gradients in the layouts XLA:CPU runs fast inside
    loops, and :func:`auto_chunk` batch chunks; on a CPU backend,
    :class:`~jaxgen.models.layers.equalized.EqualConv`'s 3x3 layers take Winograd
    gradients (:mod:`jaxgen.models.layers.winograd`). Forward values are the same either
    way, and every kind of differentiation works in both. Off by default."""
    _CPU_SPEEDUPS.append(bool(enabled))
    try:
        yield
    finally:
        _CPU_SPEEDUPS.pop()


def cpu_speedups_enabled() -> bool:
    """Whether the innermost :func:`cpu_speedups` context enabled them (False outside any)."""
    return bool(_CPU_SPEEDUPS) and _CPU_SPEEDUPS[-1]


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


def input_gradient_pads(kernel_size: Sequence[int], output_hw: Sequence[int],
                        input_hw: Sequence[int], strides: Sequence[int], pads: Pads,
                        lhs_dilation: Sequence[int] = (1, 1)) -> Pads | None:
    """The pads of :func:`input_gradient`'s convolution; ``None`` for a geometry
    that would need cropping pads."""
    new_pads = []
    for k, p, h, s, d, (lo, _) in zip(kernel_size, output_hw, input_hw, strides,
                                       lhs_dilation, pads):
        low = k - 1 - lo
        span = s * (p - 1) + 1              # g dilated by s
        high = d * (h - 1) + k - span - low  # so that H outputs come out
        if low < 0 or high < 0:
            return None
        new_pads.append((low, high))
    return tuple(new_pads)


def flipped(w: jax.Array) -> jax.Array:
    """The kernel of an input gradient: ``w`` (HWIO) flipped in space, in/out swapped."""
    return jnp.transpose(jnp.flip(w, (0, 1)), (0, 1, 3, 2))


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
    new_pads = input_gradient_pads(w.shape[:2], g.shape[1:3], input_hw, strides, pads,
                                   lhs_dilation)
    if new_pads is None:
        return None
    return lax.conv_general_dilated(g, flipped(w), tuple(lhs_dilation), new_pads,
                                    lhs_dilation=tuple(strides),
                                    dimension_numbers=DIMENSIONS)


def explicit_pads(input_hw: Sequence[int], kernel_size: Sequence[int],
                  strides: Sequence[int], padding) -> Pads:
    """'SAME', 'VALID' or explicit ``((lo, hi), (lo, hi))`` as explicit pads."""
    if isinstance(padding, str):
        return tuple(lax.padtype_to_pads(tuple(input_hw), tuple(kernel_size),
                                         tuple(strides), padding))
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def is_zero(tangent) -> bool:
    """Whether a ``custom_jvp`` rule's tangent is a symbolic zero (an input not
    being differentiated)."""
    return isinstance(tangent, SymbolicZero)


def tangent_of(gradient: Callable[[jax.Array], jax.Array], output: jax.Array,
               tangent: jax.Array) -> jax.Array:
    """The tangent map whose transpose is ``gradient`` (a linear map from the
    cotangent of ``output`` to that of an input), applied to that input's
    ``tangent``: reverse mode, transposing it back, computes ``gradient`` itself."""
    like = jax.ShapeDtypeStruct(output.shape, output.dtype)
    result, = jax.linear_transpose(gradient, like)(tangent)
    return result


def transposed_tangent(y: jax.Array, primals, tangents,
                       forward: Callable[[jax.Array, jax.Array], jax.Array],
                       input_grad: Callable[[jax.Array], jax.Array] | None,
                       kernel_grad: Callable[[jax.Array], jax.Array] | None) -> jax.Array:
    """A ``custom_jvp`` rule's tangent of ``y = forward(x, w)`` (linear in each) along
    ``(dx, dw)``: each part the transpose of its gradient function (of ``y``'s
    cotangent), so that reverse mode computes those functions; a gradient function
    that is None (a geometry it declines) leaves its part to ``forward`` itself, that
    is to autodiff's own rule. Symbolic zero tangents cost nothing."""
    (x, w), (dx, dw) = primals, tangents
    parts = []
    if not is_zero(dx):
        parts.append(forward(dx, w) if input_grad is None else tangent_of(input_grad, y, dx))
    if not is_zero(dw):
        parts.append(forward(x, dw) if kernel_grad is None else tangent_of(kernel_grad, y, dw))
    # (a rule runs only when some input has a tangent)
    return functools.reduce(jnp.add, parts) if parts else jnp.zeros_like(y)


def output_hw(input_hw: Sequence[int], kernel_size: Sequence[int], strides: Sequence[int],
              pads: Pads) -> tuple[int, int]:
    return tuple((n + lo + hi - k) // s + 1 for n, k, s, (lo, hi)
                 in zip(input_hw, kernel_size, strides, pads))


def use_patches(x: jax.Array, w: jax.Array, strides: Sequence[int], pads: Pads) -> bool:
    """Whether :func:`patch_conv` runs this layer: stride 1, no cropping pads, and an
    output of at most :data:`PATCH_MAX_OUTPUT` pixels."""
    if tuple(strides) != (1, 1) or min(min(p) for p in pads) < 0:
        return False
    h, w_ = output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    return 0 < h * w_ <= PATCH_MAX_OUTPUT


def patch_conv(x: jax.Array, w: jax.Array, pads: Pads) -> jax.Array:
    """A stride-1 convolution as one matmul over the padded input's shifted slices."""
    kh, kw, c, o = w.shape
    x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    ho, wo = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    cols = jnp.concatenate([x[:, i:i + ho, j:j + wo, :] for i in range(kh)
                            for j in range(kw)], axis=-1)
    return jnp.einsum('nhwk,ko->nhwo', cols, w.reshape(kh * kw * c, o))


def _forward(x, w, strides, pads):
    return lax.conv_general_dilated(x, w, strides, pads, dimension_numbers=DIMENSIONS)


def plain_conv(x: jax.Array, w: jax.Array, strides: Sequence[int] = (1, 1),
               padding='SAME') -> jax.Array:
    """``lax.conv_general_dilated(x, w, strides, padding)`` (NHWC, HWIO), autodiff's rules
    (small stride-1 outputs: :func:`patch_conv`)."""
    pads = explicit_pads(x.shape[1:3], w.shape[:2], strides, padding)
    if use_patches(x, w, strides, pads):
        return patch_conv(x, w, pads)
    if not isinstance(padding, str):
        padding = pads
    return lax.conv_general_dilated(x, w, tuple(strides), padding,
                                    dimension_numbers=DIMENSIONS)


def conv(x: jax.Array, w: jax.Array, strides: Sequence[int] = (1, 1),
         padding='SAME') -> jax.Array:
    """:func:`plain_conv`'s values, whose gradients are :func:`input_gradient` and
    :func:`kernel_gradient` (autodiff's own rule for a geometry with cropping pads)."""
    pads = explicit_pads(x.shape[1:3], w.shape[:2], strides, padding)
    if use_patches(x, w, strides, pads):
        return patch_conv(x, w, pads)
    if min(min(p) for p in pads) < 0:  # cropping pads: autodiff's own rule
        return _forward(x, w, tuple(strides), pads)
    return _conv(tuple(strides), pads, x, w)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _conv(strides, pads, x, w):
    return _forward(x, w, strides, pads)


def _conv_jvp(strides, pads, primals, tangents):
    x, w = primals
    y = _forward(x, w, strides, pads)
    declined = input_gradient_pads(w.shape[:2], y.shape[1:3], x.shape[1:3], strides,
                                   pads) is None
    return y, transposed_tangent(
        y, primals, tangents, lambda x_, w_: _forward(x_, w_, strides, pads),
        None if declined else lambda g: input_gradient(g, w, x.shape[1:3], strides, pads),
        lambda g: kernel_gradient(x, g, w.shape[:2], strides, pads))


_conv.defjvp(_conv_jvp, symbolic_zeros=True)


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
    common dtype. Inside ``cpu_speedups(True)`` it runs ``fast_operation`` (the same
    values, gradients laid out for XLA:CPU) and large batches in chunks of
    :func:`auto_chunk` examples; a positive ``batch_chunk`` sets the chunk in either
    setting, 0 turns chunks off. Subclasses name the operations and their defaults."""
    features: int
    kernel_size: Sequence[int] = (3, 3)
    strides: Sequence[int] = (1, 1)
    padding: Any = 'SAME'
    use_bias: bool = True
    kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
    bias_init: Callable[..., Any] = nn.initializers.zeros_init()
    batch_chunk: int | None = None
    operation: ClassVar[Callable[..., jax.Array]]
    fast_operation: ClassVar[Callable[..., jax.Array]]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param('kernel', self.kernel_init,
                            (*self.kernel_size, x.shape[-1], self.features))
        bias = (self.param('bias', self.bias_init, (self.features,)) if self.use_bias
                else None)
        x, kernel = nn.dtypes.promote_dtype(x, kernel)
        fast = cpu_speedups_enabled()
        operation = type(self).fast_operation if fast else type(self).operation
        strides, padding = self.strides, self.padding

        def layer(x, kernel, bias):
            y = operation(x, kernel, strides, padding)
            return y if bias is None else y + bias.astype(y.dtype)

        # The bias inside the chunks: added (and its gradient summed) outside, XLA:CPU
        # fused it with the cotangent into a loop 3x slower for the 28x28x1 layer.
        if self.batch_chunk is not None:
            chunk = self.batch_chunk
        else:
            chunk = auto_chunk() if fast else 0
        return batch_chunked(layer, chunk)(x, kernel, bias)


class Conv(Convolution):
    """Drop-in for ``nn.Conv(features, kernel_size, strides, padding)`` on NHWC images."""
    operation = staticmethod(plain_conv)
    fast_operation = staticmethod(conv)
