"""Does the streaming data path keep a 64x64 DCGAN step fed? Against the on-device path.

    python benchmarks/stream_throughput.py --data fashion_mnist --resize 64 --seconds 20 \
        --rounds 3 --out runs/stream_throughput

Three timings, alternating in rounds in one process so that a slow phase of the machine
hits all of them:

* ``pipeline``: images/s of the grain pipeline alone (``Stream.next``), nothing else running;
* ``device``: the compiled train step with the split in device memory, drawing inside;
* ``stream``: the same step fed by the pipeline (host rows put on the device each step).

Memory: the bytes each path keeps on the device for data (the whole stored split vs one
step's rows) and on the host (the stored split, which this benchmark's array source keeps
in memory, plus grain's prefetch buffer of ``PREFETCH`` steps), and the process's peak RSS.
Writes ``results.json`` and ``table.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from jaxgen.host_memory import keep_freed_memory  # noqa: E402

keep_freed_memory()

import jax  # noqa: E402
import numpy as np  # noqa: E402

from configs import dcgan  # noqa: E402
from jaxgen.data import stream as stream_lib  # noqa: E402
from jaxgen.training import loop, parallel  # noqa: E402


def config(args, path):
    c = dcgan.get_config(args.data)
    c.batch_size, c.data.path = args.batch_size, path
    c.data.resize = args.resize
    c.data.channels = args.channels
    return c


def timed(fn, seconds):
    """(calls per second, calls) of ``fn`` over about ``seconds``, after one warm call."""
    jax.block_until_ready(fn())
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        out = fn()
        n += 1
    jax.block_until_ready(out)
    return n / (time.perf_counter() - start), n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default='fashion_mnist')
    parser.add_argument('--resize', type=int, default=64)
    parser.add_argument('--channels', type=int, default=0)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--seconds', type=float, default=20)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--out', default='runs/stream_throughput')
    args = parser.parse_args()
    workdir = tempfile.mkdtemp()
    dev = loop.prepare(config(args, 'device'), os.path.join(workdir, 'd'))
    st = loop.prepare(config(args, 'stream'), os.path.join(workdir, 's'))
    exp, mesh, b = dev.exp, dev.mesh, args.batch_size
    arrays = parallel.put_replicated(dev.dataset.arrays, mesh)
    sharding = parallel.batch_sharding(mesh, leading=1)
    state = {'device': parallel.put_replicated(exp.init_state(), mesh),
             'stream': parallel.put_replicated(exp.init_state(), mesh)}

    def device_step():
        state['device'], m = dev.steps[1](state['device'], arrays)
        return m

    def stream_step():
        state['stream'], m = st.steps[1](
            state['stream'], stream_lib.to_global(st.stream.next(), sharding, 1))
        return m

    timings = {'pipeline': [], 'device': [], 'stream': []}
    for _ in range(args.rounds):
        timings['pipeline'].append(timed(st.stream.next, args.seconds)[0] * b)
        timings['device'].append(timed(device_step, args.seconds)[0] * b)
        timings['stream'].append(timed(stream_step, args.seconds)[0] * b)
    stored = sum(np.asarray(x).nbytes for x in dev.dataset.arrays.values())
    step_rows = sum(x.nbytes for x in st.stream.element(0).values())
    results = {
        'command': ' '.join([sys.executable.split('/')[-1], *sys.argv]),
        'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        'machine': f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
                   f'{jax.devices()[0].platform}',
        'data': dev.dataset.info['name'], 'shape': dev.dataset.info['shape'],
        'num_examples': dev.dataset.info['num_examples'], 'batch_size': b,
        'images_per_s': {k: {'median': float(np.median(v)), 'min': float(min(v)),
                             'max': float(max(v)), 'rounds': v} for k, v in timings.items()},
        'device_data_bytes': {'device': stored, 'stream': step_rows},
        'host_data_bytes': {'device': stored,
                            'stream': stored + stream_lib.PREFETCH * step_rows},
        'peak_rss_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    rows = ['| path | images/s (median) | min–max |', '|---|---|---|']
    for k, v in results['images_per_s'].items():
        rows.append(f'| {k} | {v["median"]:.0f} | {v["min"]:.0f}–{v["max"]:.0f} |')
    table = '\n'.join(rows)
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(table + '\n')
    print(json.dumps(results, indent=1))
    print(table)


if __name__ == '__main__':
    main()
