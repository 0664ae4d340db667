"""Milliseconds per image of each DCGAN / InfoGAN layer, forward and forward + backward.

    python benchmarks/throughput/layers.py --batch-sizes 64 256
    python benchmarks/throughput/layers.py --batch-sizes 64 --torch   # + PyTorch, same layer

Explains how a train step's cost scales with the batch on a backend: each layer
of ``configs/dcgan.py``'s and ``configs/infogan.py``'s networks alone, compiled,
timed for ``--seconds`` (jaxgen's own layer classes, the ones the models use),
gradients with respect to both the parameters and the input (as in a GAN step,
where the generator's gradient passes through the discriminator's input), with
the CPU speed-ups of ``jaxgen/models/layers/conv.py`` off, on (gradient layouts, and on
one CPU device large batches in chunks) or both (``--cpu-speedups``). ``--torch``
also times the same layer in PyTorch eager (forward + backward), once per layer and
batch, just before jaxgen's, and gives the ratio of the two times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from jaxgen.host_memory import keep_freed_memory  # noqa: E402

keep_freed_memory()  # as train.py does, before any thread starts

import flax.linen as nn  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from jaxgen.models.layers.conv import Conv, cpu_speedups  # noqa: E402
from jaxgen.models.layers.deconv import ConvTranspose  # noqa: E402

SPEEDUPS = {'off': (False,), 'on': (True,), 'both': (False, True)}
LAYERS = {  # name -> (module, input shape without the batch)
    'G dense 100 -> 7x7x128': (nn.Dense(7 * 7 * 128), (100,)),
    'G deconv 7x7x128 -> 14x14x64': (ConvTranspose(64, (4, 4), (2, 2), padding='SAME'),
                                     (7, 7, 128)),
    'G deconv 14x14x64 -> 28x28x1': (ConvTranspose(1, (4, 4), (2, 2), padding='SAME'),
                                     (14, 14, 64)),
    'D conv 28x28x1 -> 14x14x64': (Conv(64, (4, 4), (2, 2), padding='SAME'), (28, 28, 1)),
    'D conv 14x14x64 -> 7x7x128': (Conv(128, (4, 4), (2, 2), padding='SAME'),
                                   (14, 14, 64)),
    'InfoGAN G dense 1024 -> 7x7x128': (nn.Dense(7 * 7 * 128), (1024,)),
    'InfoGAN D dense 7x7x128 -> 1024': (nn.Dense(1024), (7 * 7 * 128,)),
}
TORCH = {  # name -> (PyTorch layer from torch.nn, input shape without the batch, NCHW)
    'G dense 100 -> 7x7x128': (lambda tnn: tnn.Linear(100, 6272), (100,)),
    'G deconv 7x7x128 -> 14x14x64': (lambda tnn: tnn.ConvTranspose2d(128, 64, 4, 2, 1),
                                     (128, 7, 7)),
    'G deconv 14x14x64 -> 28x28x1': (lambda tnn: tnn.ConvTranspose2d(64, 1, 4, 2, 1),
                                     (64, 14, 14)),
    'D conv 28x28x1 -> 14x14x64': (lambda tnn: tnn.Conv2d(1, 64, 4, 2, 1), (1, 28, 28)),
    'D conv 14x14x64 -> 7x7x128': (lambda tnn: tnn.Conv2d(64, 128, 4, 2, 1), (64, 14, 14)),
    'InfoGAN G dense 1024 -> 7x7x128': (lambda tnn: tnn.Linear(1024, 6272), (1024,)),
    'InfoGAN D dense 7x7x128 -> 1024': (lambda tnn: tnn.Linear(6272, 1024), (6272,)),
}


def torch_per_image_ms(name: str, batch: int, seconds: float) -> float:
    """PyTorch eager forward + backward (parameter and input gradients) of the layer."""
    import torch  # benchmarks/throughput/requirements.txt
    make, shape = TORCH[name]
    module = make(torch.nn)
    x = torch.ones(batch, *shape, requires_grad=True)

    def step():
        module.zero_grad()
        x.grad = None
        (module(x) ** 2).sum().backward()
    step()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    return (time.perf_counter() - start) / calls / batch * 1e3


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
    parser.add_argument('--torch', action='store_true',
                        help='also time each layer in PyTorch eager (forward + backward)')
    parser.add_argument('--cpu-speedups', choices=sorted(SPEEDUPS), default='both',
                        help="jaxgen's layers with the CPU speed-ups off, on, or both")
    args = parser.parse_args()
    extra = ' PyTorch forward + backward ms/image | jaxgen / PyTorch time |' if args.torch else ''
    print('| layer | batch | CPU speed-ups | forward ms/image | forward + backward ms/image |'
          + extra)
    print('|---|---|---|---|---|' + ('---|---|' if args.torch else ''))
    for name, (module, shape) in LAYERS.items():
        for batch in args.batch_sizes:
            x = jnp.ones((batch, *shape))
            params = module.init(jax.random.key(0), x)
            reference = torch_per_image_ms(name, batch, args.seconds) if args.torch else None
            for speedups in SPEEDUPS[args.cpu_speedups]:
                with cpu_speedups(speedups):  # read when the first call traces
                    forward = jax.jit(module.apply)
                    grads = jax.jit(jax.grad(lambda p, x: jnp.sum(module.apply(p, x) ** 2),
                                             argnums=(0, 1)))
                    fwd = per_image_ms(forward, (params, x), batch, args.seconds)
                    both = per_image_ms(grads, (params, x), batch, args.seconds)
                setting = 'on' if speedups else 'off'
                row = f'| {name} | {batch} | {setting} | {fwd:.3f} | {both:.3f} |'
                if reference is not None:
                    row += f' {reference:.3f} | {both / reference:.2f} |'
                print(row, flush=True)


if __name__ == '__main__':
    main()
