"""Milliseconds per image of each DCGAN layer, forward and forward + backward, by batch size.

    python benchmarks/throughput/layers.py --batch-sizes 64 256

Explains how a train step's cost scales with the batch on a backend: each layer
of ``configs/dcgan.py``'s networks alone, compiled, timed for ``--seconds``,
gradients with respect to both the parameters and the input (as in a GAN step,
where the generator's gradient passes through the discriminator's input).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import flax.linen as nn
import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from jaxgen.models.deconv import ConvTranspose  # noqa: E402

LAYERS = {  # name -> (module, input shape without the batch)
    'G dense 100 -> 7x7x128': (nn.Dense(7 * 7 * 128), (100,)),
    'G deconv 7x7x128 -> 14x14x64': (ConvTranspose(64, (4, 4), (2, 2), padding='SAME'),
                                     (7, 7, 128)),
    'G deconv 14x14x64 -> 28x28x1': (ConvTranspose(1, (4, 4), (2, 2), padding='SAME'),
                                     (14, 14, 64)),
    'D conv 28x28x1 -> 14x14x64': (nn.Conv(64, (4, 4), (2, 2), padding='SAME'), (28, 28, 1)),
    'D conv 14x14x64 -> 7x7x128': (nn.Conv(128, (4, 4), (2, 2), padding='SAME'),
                                   (14, 14, 64)),
}


def per_image_ms(fn, args, batch: int, seconds: float) -> float:
    jax.block_until_ready(fn(*args))
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        jax.block_until_ready(fn(*args))
        calls += 1
    return (time.perf_counter() - start) / calls / batch * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[64, 256])
    parser.add_argument('--seconds', type=float, default=2.0)
    args = parser.parse_args()
    print('| layer | batch | forward ms/image | forward + backward ms/image |')
    print('|---|---|---|---|')
    for name, (module, shape) in LAYERS.items():
        for batch in args.batch_sizes:
            x = jnp.ones((batch, *shape))
            params = module.init(jax.random.key(0), x)
            forward = jax.jit(module.apply)
            grads = jax.jit(jax.grad(lambda p, x: jnp.sum(module.apply(p, x) ** 2),
                                     argnums=(0, 1)))
            fwd = per_image_ms(forward, (params, x), batch, args.seconds)
            both = per_image_ms(grads, (params, x), batch, args.seconds)
            print(f'| {name} | {batch} | {fwd:.3f} | {both:.3f} |', flush=True)


if __name__ == '__main__':
    main()
