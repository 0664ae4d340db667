"""LPIPS throughput: jaxgen (jit, XLA:CPU) vs the lpips package (PyTorch eager, CPU), one process.

    pip install -r benchmarks/requirements-lpips.txt
    python benchmarks/lpips_throughput.py --nets alex vgg --size 64 --batch 32 --out runs/lpips_throughput

Both compute LPIPS (Zhang et al., 2018; lpips 0.1.4, richzhang/PerceptualSimilarity) of the
same ``--batch`` pairs of ``--size``² RGB images in [-1, 1], with the same seeded random trunk
(trunks.random_torch_state: speed does not depend on the weights' values) and the shipped
v0.1 linear weights; jaxgen's values are checked against the reference's first (1e-5).
Compilation and warm-up calls are excluded. Rounds alternate between the two so that a
slow phase of a shared machine hits both; each round lasts about ``--round-seconds``; the table
reports the median over rounds, in image pairs per second (each pair is two images through
the trunk). Writes ``results.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'scripts'))  # lpips_make_fixture: the reference model

from jaxgen.host_memory import keep_freed_memory  # noqa: E402

KEPT_FREED_MEMORY = keep_freed_memory()  # as train.py and benchmarks/throughput do; both see it

XLA_FLAGS_HELP = ('extra XLA_FLAGS for jaxgen, set before jax starts (e.g. '
                  '--xla_cpu_use_xnnpack=true); they apply to the whole process')
if __name__ == '__main__':  # XLA reads its flags once, when jax starts its backend
    _early = argparse.ArgumentParser(add_help=False)
    _early.add_argument('--xla-flags', default='')
    _flags = _early.parse_known_args()[0].xla_flags
    if _flags:
        os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + ' ' + _flags).strip()

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgen.metrics import lpips as jl  # noqa: E402
from jaxgen.metrics.lpips import trunks  # noqa: E402


def contenders(net: str, a: np.ndarray, b: np.ndarray):
    """{'jaxgen': call, 'lpips_torch': call}, each computing the [N] distances once, and
    the seconds jaxgen's first call (tracing and compiling) took."""
    import torch
    from lpips_make_fixture import reference_model

    state = trunks.random_torch_state(net, 0)
    distance = jl.lpips_distance(net, backbone=state)
    ja, jb = jax.device_put(a), jax.device_put(b)
    start = time.perf_counter()
    ours = np.asarray(distance(ja, jb))
    compile_s = time.perf_counter() - start
    model = reference_model(net, state)
    ta, tb = (torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))) for x in (a, b))
    with torch.inference_mode():
        theirs = model(ta, tb).numpy().reshape(-1)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)

    def run_jaxgen():
        distance(ja, jb).block_until_ready()

    def run_torch():
        with torch.inference_mode():
            model(ta, tb)

    return {'jaxgen': run_jaxgen, 'lpips_torch': run_torch}, compile_s


def measure(calls: dict, rounds: int, round_s: float) -> dict:
    """Seconds per call of each contender per round, alternating the order each round.

    Each round makes enough calls to last about ``round_s`` (from a warm-up call) and starts
    after a 0.3 s pause, so that neither framework's idle worker threads (XLA's spin) eat
    into the other's time."""
    per_round = {}
    for name, call in calls.items():
        call()  # warm-up
        start = time.perf_counter()
        call()
        per_round[name] = max(1, round(round_s / (time.perf_counter() - start)))
    times = {name: [] for name in calls}
    names = list(calls)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            time.sleep(0.3)
            start = time.perf_counter()
            for _ in range(per_round[name]):
                calls[name]()
            times[name].append((time.perf_counter() - start) / per_round[name])
    return times


def domain_pairs_per_s(shape, batch: int, rounds: int) -> float:
    """Median pairs/s of domain LPIPS (jaxgen only: the reference has no counterpart) on a
    randomly initialised DomainNet of the dataset's shape (speed does not depend on weights)."""
    from jaxgen.metrics.classifier_net import DomainNet, Extractor, conv_layers

    rng = np.random.default_rng(1)
    a, b = (jax.device_put(rng.uniform(-1, 1, (batch, *shape)).astype(np.float32)) for _ in range(2))
    params = DomainNet(10, conv_layers(shape)).init(jax.random.PRNGKey(0), a[:1])['params']
    distance = jl.domain_lpips_distance(Extractor(params, {'shape': shape, 'outputs': 10,
                                                           'head': 'softmax'}))
    times = measure({'domain': lambda: distance(a, b).block_until_ready()}, rounds, 1.0)
    return batch / statistics.median(times['domain'])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--nets', nargs='*', default=['alex', 'vgg'], choices=sorted(trunks.SPECS))
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--round-seconds', type=float, default=2.0)
    parser.add_argument('--torch-threads', type=int, default=None,
                        help="torch.set_num_threads (default: torch's own, one per core)")
    parser.add_argument('--xla-flags', default='', help=XLA_FLAGS_HELP)
    parser.add_argument('--domain-shape', type=int, nargs=3, default=None, metavar=('H', 'W', 'C'),
                        help='also time domain LPIPS on images of this shape (e.g. 28 28 1)')
    parser.add_argument('--domain-batch', type=int, default=1000)
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    wall = time.perf_counter()
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (args.batch, args.size, args.size, 3)).astype(np.float32)
            for _ in range(2))
    rows = []
    for net in args.nets:
        calls, compile_s = contenders(net, a, b)
        times = measure(calls, args.rounds, args.round_seconds)
        pairs = {k: args.batch / statistics.median(v) for k, v in times.items()}
        rows.append({'net': net, 'size': args.size, 'batch': args.batch, 'pairs_per_s': pairs,
                     'speedup': pairs['jaxgen'] / pairs['lpips_torch'],
                     'seconds_per_call': times, 'jaxgen_compile_s': compile_s})
        print(f"| {net} | {args.size}x{args.size} | {args.batch} | {pairs['jaxgen']:.1f} | "
              f"{pairs['lpips_torch']:.1f} | {rows[-1]['speedup']:.2f}x | {compile_s:.1f} s |",
              flush=True)
    if args.domain_shape:
        shape = tuple(args.domain_shape)
        rows.append({'net': 'domain', 'shape': shape, 'batch': args.domain_batch,
                     'pairs_per_s': {'jaxgen': domain_pairs_per_s(shape, args.domain_batch,
                                                                  args.rounds)}})
        print(f"| domain LPIPS | {shape} | {args.domain_batch} | "
              f"{rows[-1]['pairs_per_s']['jaxgen']:.1f} | - | - | - |", flush=True)
    result = {'command': ' '.join(sys.argv), 'rows': rows, 'wall_s': time.perf_counter() - wall,
              'machine': {'cpu': platform.processor() or platform.machine(), 'cores': os.cpu_count(),
                          'jax': jax.__version__, 'backend': jax.default_backend(),
                          'torch': torch.__version__, 'torch_threads': torch.get_num_threads(),
                          'kept_freed_memory': KEPT_FREED_MEMORY,
                          'xla_flags': os.environ.get('XLA_FLAGS', ''),
                          'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}}
    print(json.dumps({k: v for k, v in result.items() if k != 'rows'}))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, 'results.json'), 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
