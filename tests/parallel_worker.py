"""Run by tests/test_parallel.py in a fresh process, where the device count is set.

    JAX_NUM_CPU_DEVICES=8 python tests/parallel_worker.py OUT.npz NUM_DEVICES...

Trains the small digits DCGAN (BatchNorm in G and D) once per NUM_DEVICES and
writes each run's final parameters and logged losses to OUT.npz.
"""

import os
import sys
import tempfile

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen.training import train  # noqa: E402
from tests.test_train import digits_dcgan_config  # noqa: E402


def config(num_devices: int):
    c = digits_dcgan_config()
    c.num_steps = 2
    c.batch_size = 16
    c.log_every = c.sample_every = c.checkpoint_every = 2
    c.model.features = 8
    c.num_devices = num_devices
    # SGD, not Adam: the biases in front of BatchNorm have a gradient of exactly
    # zero in exact arithmetic, i.e. rounding noise, which Adam would rescale to
    # full-size steps and so turn any reassociation into visible differences.
    c.optimizers.generator = {'name': 'sgd', 'learning_rate': 0.05}
    c.optimizers.discriminator = {'name': 'sgd', 'learning_rate': 0.05}
    return c


def main(out: str, *counts: str) -> None:
    arrays = {}
    for n in counts:
        result = train(config(int(n)), tempfile.mkdtemp())
        flat, _ = jax.tree_util.tree_flatten_with_path(
            {'params': result.state.params, 'model_state': result.state.model_state})
        for path, leaf in flat:
            arrays[f'{n}/{jax.tree_util.keystr(path)}'] = np.asarray(leaf)
        for k, v in result.metrics.items():
            arrays[f'{n}/metric/{k}'] = np.asarray(v)
        sharding = result.state.params['generator']
        arrays[f'{n}/devices'] = np.asarray(
            len(jax.tree.leaves(sharding)[0].sharding.device_set))
    np.savez(out, **arrays)


if __name__ == '__main__':
    main(*sys.argv[1:])
