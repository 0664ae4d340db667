"""Where LPIPS's CPU time goes: AlexNet's convolutions alone, the chunk size of
``lpips_distance``, and AlexNet's conv2 as an explicit matmul (docs/results/lpips.md).

    python benchmarks/lpips_cpu_kernels.py                       # XLA's default flags
    XLA_FLAGS=--xla_cpu_use_xnnpack=true python benchmarks/lpips_cpu_kernels.py --parts convs

Times are medians of 5 rounds of ~0.7 s (convolutions, matmuls; 64 images of 64 px, so
the shapes of 32 LPIPS pairs) or ~1.5 s (whole distances, 32 pairs of 64 px, a seeded
random trunk), compilation excluded. XLA reads ``XLA_FLAGS`` once per process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen.metrics import lpips as jl  # noqa: E402  (after the path)
from jaxgen.metrics.lpips import distance as distance_lib, trunks  # noqa: E402

# AlexNet's convolutions at 64 px: (in, out, kernel, stride, pad, input side)
ALEX = ((3, 64, 11, 4, 2, 64), (64, 192, 5, 1, 2, 7), (192, 384, 3, 1, 1, 3),
        (384, 256, 3, 1, 1, 3), (256, 256, 3, 1, 1, 3))


def seconds(f, *args, rounds: int = 5, round_s: float = 0.7) -> float:
    jax.block_until_ready(f(*args))
    out = []
    for _ in range(rounds):
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < round_s:
            jax.block_until_ready(f(*args))
            n += 1
        out.append((time.perf_counter() - start) / n)
    return float(np.median(out))


def convs(rng):
    for cin, cout, k, s, p, side in ALEX:
        x = jnp.asarray(rng.standard_normal((64, side, side, cin)), jnp.float32)
        w = jnp.asarray(rng.standard_normal((k, k, cin, cout)), jnp.float32)
        f = jax.jit(lambda x, w, s=s, p=p: lax.conv_general_dilated(
            x, w, (s, s), ((p, p), (p, p)), dimension_numbers=('NHWC', 'HWIO', 'NHWC')))
        print(f'conv {cin}->{cout} {k}x{k}/{s} on {side}x{side}: '
              f'{1e3 * seconds(f, x, w):.2f} ms', flush=True)


def chunks(rng, nets):
    a, b = (rng.uniform(-1, 1, (32, 64, 64, 3)).astype(np.float32) for _ in range(2))
    for net in nets:
        params = jax.tree_util.tree_map(
            jnp.asarray, trunks.params_from_torch(net, trunks.random_torch_state(net, 0)))
        weights = [jnp.asarray(w) for w in distance_lib.linear_weights(net)]
        for chunk in (None, 4, 8, 16):
            f = jax.jit(lambda p, w, x, y, chunk=chunk, net=net: jnp.sum(
                jl._per_layer(p, w, x, y, net, None, chunk), -1))  # pylint: disable=protected-access
            s = seconds(f, params, weights, a, b, round_s=1.5)
            print(f'{net} chunk {chunk or "whole"}: {32 / s:.1f} pairs/s', flush=True)


def matmul(rng):
    """AlexNet's conv2 (5x5, 64 -> 192 on 7x7) three ways."""
    x = jnp.asarray(rng.standard_normal((64, 7, 7, 64)), jnp.float32)
    w = jnp.asarray(rng.standard_normal((5, 5, 64, 192)), jnp.float32)
    a = jnp.asarray(rng.standard_normal((64 * 49, 1600)), jnp.float32)
    print(f'the 3136x1600x192 matmul alone: {1e3 * seconds(jax.jit(jnp.dot), a, w.reshape(1600, 192)):.2f} ms')

    def patches(x, w):
        p = lax.conv_general_dilated_patches(x, (5, 5), (1, 1), ((2, 2), (2, 2)),
                                             dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
        return p.reshape(-1, p.shape[-1]) @ w.transpose(2, 0, 1, 3).reshape(-1, 192)

    def shifted(x, w):
        xp = jnp.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
        cols = jnp.concatenate([xp[:, i:i + 7, j:j + 7] for i in range(5) for j in range(5)], -1)
        return cols.reshape(-1, 1600) @ w.reshape(1600, 192)

    print(f'conv2 by conv_general_dilated_patches + matmul: {1e3 * seconds(jax.jit(patches), x, w):.2f} ms')
    print(f'conv2 by shifted slices + matmul: {1e3 * seconds(jax.jit(shifted), x, w):.2f} ms')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--parts', nargs='+', default=['convs', 'chunks', 'matmul'],
                        choices=['convs', 'chunks', 'matmul'])
    parser.add_argument('--nets', nargs='+', default=['alex', 'vgg'])
    args = parser.parse_args()
    print(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}, jax {jax.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    rng = np.random.default_rng(0)
    for part in args.parts:
        {'convs': convs, 'chunks': lambda r: chunks(r, args.nets), 'matmul': matmul}[part](rng)


if __name__ == '__main__':
    main()
