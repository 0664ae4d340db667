"""Sampling speed of the autoregressive models at their configs' sizes (28x28 binarised
MNIST), in samples per second, and PixelCNN's cached sampler against the naive one.

    python benchmarks/autoregressive_sampling.py [--num 16] [--models nade,pixelcnn,...]

Random weights (speed does not depend on them); each sampler is compiled once, then
timed over ``--repeats`` calls; the cached and naive PixelCNN samplers are also checked
to draw the same images from one key.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgen import models  # noqa: E402

CASES = {'nade': ('nade', None), 'pixelcnn': ('pixelcnn', None),
         'row_lstm': ('pixelrnn', 'row'), 'diagonal_bilstm_7x16': ('pixelrnn', None),
         'diagonal_bilstm_1x32': ('pixelrnn', 'bilstm1')}
INFO = {'kind': 'images', 'shape': [28, 28, 1], 'scale': 'unit', 'binarize': 'dynamic'}


def timed(model, variables, num: int, repeats: int) -> tuple[float, np.ndarray]:
    """(samples per second, the samples of key 0), compilation excluded."""
    first = np.asarray(model.sample(variables, jax.random.key(0), num))
    start = time.perf_counter()
    for i in range(repeats):
        jax.block_until_ready(model.sample(variables, jax.random.key(i + 1), num))
    return num * repeats / (time.perf_counter() - start), first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--num', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--models', default=','.join(CASES))
    args = parser.parse_args()
    results = {'device': jax.devices()[0].device_kind, 'num': args.num}
    for name in args.models.split(','):
        module, arg = CASES[name]
        model = models.build(importlib.import_module(f'configs.{module}').get_config(arg).model,
                             INFO)
        variables = model.init(jax.random.key(0))
        rate, first = timed(model, variables, args.num, args.repeats)
        results[name] = rate
        if name == 'pixelcnn':
            naive = dataclasses.replace(model, cached=False)
            results['pixelcnn_naive'], again = timed(naive, variables, args.num, 1)
            results['pixelcnn_cached_over_naive'] = rate / results['pixelcnn_naive']
            results['pixelcnn_cached_equals_naive'] = bool(np.array_equal(first, again))
        print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps(results, indent=1))


if __name__ == '__main__':
    main()
