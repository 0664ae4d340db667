"""Where the translation networks spend their time on this machine (issue 30).

    python benchmarks/translation_profile.py

For each of the default pix2pix config's networks (batch 16, 28x28x1; the
discriminator reads the 2-channel pairs): one jitted gradient of the mean output
in train mode, XLA's cost analysis for the FLOPs, compilation excluded, the mean of
5 calls; then whole train steps of pix2pix (batch 16) and DCGAN (batch 64), the
mean of 3 calls. Prints GFLOP, ms and GFLOP/s per line.
"""

from __future__ import annotations

import os
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import dcgan, pix2pix  # noqa: E402
from jaxgen.models.translation.discriminators import PatchDiscriminator  # noqa: E402
from jaxgen.models.translation.networks import UNetGenerator  # noqa: E402
from jaxgen.training import experiment  # noqa: E402

SHAPE, BATCH = (28, 28, 1), 16


def timed(compiled, *args, calls: int) -> float:
    jax.block_until_ready(compiled(*args))
    start = time.perf_counter()
    for _ in range(calls):
        out = compiled(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / calls


def flops(compiled) -> float:
    cost = compiled.cost_analysis()
    return (cost[0] if isinstance(cost, list) else cost)['flops']


def network(name: str, module, x) -> None:
    variables = module.init({'params': jax.random.key(0), 'dropout': jax.random.key(1)}, x,
                            train=False)

    def loss(params):
        out = module.apply({**variables, 'params': params}, x, train=True,
                           rngs={'dropout': jax.random.key(2)}, mutable=['batch_stats'])[0]
        return jnp.mean(out)
    compiled = jax.jit(jax.grad(loss)).lower(variables['params']).compile()
    seconds = timed(compiled, variables['params'], calls=5)
    print(f'{name:28s} {flops(compiled) / 1e9:6.2f} GFLOP {seconds * 1e3:7.0f} ms '
          f'{flops(compiled) / 1e9 / seconds:6.1f} GFLOP/s', flush=True)


def step(name: str, config, info, fields) -> None:
    def draw(arrays, key, index, batch_size):
        del arrays
        x = jnp.tanh(jax.random.normal(jax.random.fold_in(key, index), (batch_size, *SHAPE)))
        return {f: (x if i == 0 else -x) for i, f in enumerate(fields)} | (
            {'label': jnp.zeros(batch_size, jnp.int32)} if fields == ('image',) else {})
    exp = experiment.build(config, info)
    state = exp.init_state()
    compiled = jax.jit(exp.train_step_fn(draw, config.batch_size)).lower(state, {}).compile()
    start = time.perf_counter()
    state, _ = compiled(state, {})
    for _ in range(3):
        state, _ = compiled(state, {})
    jax.block_until_ready(state)
    seconds = (time.perf_counter() - start) / 4
    print(f'{name:28s} {flops(compiled) / 1e9:6.2f} GFLOP {seconds * 1e3:7.0f} ms '
          f'{flops(compiled) / 1e9 / seconds:6.1f} GFLOP/s', flush=True)


def main() -> None:
    x = jax.random.normal(jax.random.key(0), (BATCH, *SHAPE))
    pair = jnp.concatenate([x, x], -1)
    network('U-Net generator', UNetGenerator(features=64, out_channels=1), x)
    for field in (70, 16, 1):
        network(f'PatchGAN {field}x{field}', PatchDiscriminator(features=64,
                                                                receptive_field=field), pair)
    step('pix2pix train step, batch 16', pix2pix.get_config(),
         {'kind': 'paired', 'shape': list(SHAPE), 'scale': 'tanh'}, ('image_a', 'image_b'))
    step('DCGAN train step, batch 64', dcgan.get_config(),
         {'kind': 'images', 'shape': list(SHAPE), 'scale': 'tanh', 'num_classes': 10},
         ('image',))


if __name__ == '__main__':
    main()
