"""Milliseconds of one 3x3 'SAME' layer's forward, input gradient and kernel gradient:
XLA's, Winograd's (``jaxgen/models/layers/winograd.py``) and PyTorch's, one process.

    python benchmarks/throughput/winograd_kernels.py                 # 128 -> 128, batch 32
    python benchmarks/throughput/winograd_kernels.py --sizes 32 16 8 --batch 32 --channels 128

Progressive GAN's and StyleGAN's layers at the CPU widths of ``run.py``. Each figure is
the best of ``--repeats`` means, each over ``--seconds`` of calls of one compiled
function (PyTorch: ``torch.nn.functional.conv2d`` and ``torch.nn.grad``, eager, its
default threads), after one warm-up call.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from jaxgen.models.layers import winograd  # noqa: E402
from jaxgen.models.layers.conv import flipped  # noqa: E402


def xla_conv(x, w):
    return lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                    dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def xla_kernel_gradient(x, g):
    _, vjp = jax.vjp(lambda w: xla_conv(x, w), jnp.zeros((3, 3, x.shape[-1], g.shape[-1])))
    return vjp(g)[0]


def milliseconds(fn, *args, seconds: float, repeats: int) -> float:
    jax.block_until_ready(fn(*args))
    best = float('inf')
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            jax.block_until_ready(fn(*args))
            calls += 1
        best = min(best, (time.perf_counter() - start) / calls * 1e3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[32, 16, 8])
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--channels', type=int, default=128)
    parser.add_argument('--seconds', type=float, default=1.0)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--no-torch', action='store_true')
    args = parser.parse_args()
    time_it = lambda fn, *a: milliseconds(fn, *a, seconds=args.seconds,  # noqa: E731
                                          repeats=args.repeats)
    print('| size | XLA forward | XLA input grad | Winograd input grad | XLA kernel grad '
          '| Winograd kernel grad | PyTorch forward | PyTorch input grad | PyTorch kernel grad |')
    print('|---|---|---|---|---|---|---|---|---|')
    for size in args.sizes:
        kx, kw, kg = jax.random.split(jax.random.key(0), 3)
        c = args.channels
        x = jax.random.normal(kx, (args.batch, size, size, c))
        w = jax.random.normal(kw, (3, 3, c, c)) / np.sqrt(9 * c)
        g = jax.random.normal(kg, x.shape)
        row = [time_it(jax.jit(xla_conv), x, w),
               time_it(jax.jit(lambda g, w: xla_conv(g, flipped(w))), g, w),
               time_it(jax.jit(lambda g, w: winograd.winograd_conv(g, flipped(w))), g, w),
               time_it(jax.jit(xla_kernel_gradient), x, g),
               time_it(jax.jit(winograd.kernel_gradient), x, g)]
        if not args.no_torch:
            import torch  # pylint: disable=import-outside-toplevel
            tx = torch.from_numpy(np.asarray(x).transpose(0, 3, 1, 2).copy())
            tw = torch.from_numpy(np.asarray(w).transpose(3, 2, 0, 1).copy())
            tg = torch.from_numpy(np.asarray(g).transpose(0, 3, 1, 2).copy())
            row += [time_it(lambda: torch.nn.functional.conv2d(tx, tw, padding=1)),
                    time_it(lambda: torch.nn.grad.conv2d_input(tx.shape, tw, tg, padding=1)),
                    time_it(lambda: torch.nn.grad.conv2d_weight(tx, tw.shape, tg, padding=1))]
        print(f'| {size}x{size} | ' + ' | '.join(f'{v:.1f}' for v in row) + ' |', flush=True)


if __name__ == '__main__':
    main()
