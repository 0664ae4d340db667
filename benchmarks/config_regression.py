"""Does every config still train as it did? Short runs of each config at two commits.

    git worktree add /tmp/jaxgen_old <commit>
    python benchmarks/config_regression.py --old /tmp/jaxgen_old --steps 20 --out runs/config_regression

Each config in ``configs/`` trains ``--steps`` steps (batch 16, no pictures, no
checkpoints until the end) in a fresh process from each source tree, on the same data;
the losses logged at the last step are compared key by key (keys present in both).
``equal`` means bit-identical; otherwise the largest relative difference is reported.
``--plain-deconv`` runs the new tree with the transposed convolution of before the
sub-pixel change, to tell its rounding apart from any other change.
Writes ``results.json`` and ``table.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ('aae', 'ae', 'cgan', 'dcgan', 'fgan', 'gan_ring', 'infogan', 'iwae',
           'unrolled_gan', 'vae')
SCRIPT = '''
import json, os, sys
from jaxgen.training import loop
if os.environ.get('PLAIN_DECONV') == '1':  # the transposed convolution as before 2026-12-03
    from jaxgen.models.layers import deconv
    deconv.SUBPIXEL_MIN_CHANNELS = 10 ** 9
import importlib
c = importlib.import_module('configs.' + sys.argv[1]).get_config()
c.num_steps, c.batch_size = int(sys.argv[2]), 16
c.log_every = c.num_steps
c.sample_every = c.checkpoint_every = 10 ** 6
c.eval_every = c.metrics_every = 0
result = loop.train(c, sys.argv[3])
print('METRICS ' + json.dumps({k: float(v) for k, v in result.metrics.items()
                               if '/' in k or k.startswith('loss')}))
'''


def run(tree: str, name: str, steps: int, plain_deconv: bool = False) -> dict:
    workdir = tempfile.mkdtemp()
    env = {**os.environ, 'PYTHONPATH': tree, 'PLAIN_DECONV': '1' if plain_deconv else '0'}
    out = subprocess.run([sys.executable, '-c', SCRIPT, name, str(steps), workdir], cwd=tree,
                         env=env, capture_output=True, text=True, timeout=900)
    lines = [l for l in out.stdout.splitlines() if l.startswith('METRICS ')]
    if out.returncode or not lines:
        return {'error': (out.stderr.strip().splitlines() or ['?'])[-1]}
    return json.loads(lines[-1][len('METRICS '):])


def compare(old: dict, new: dict) -> dict:
    if 'error' in old or 'error' in new:
        return {'verdict': 'error', 'old': old.get('error'), 'new': new.get('error')}
    keys = sorted(set(old) & set(new))
    diffs = {k: abs(old[k] - new[k]) / max(abs(old[k]), 1e-12) for k in keys}
    worst = max(diffs.values()) if diffs else None
    return {'verdict': 'equal' if worst == 0 else 'differs', 'keys': keys,
            'max_rel_diff': worst, 'old': old, 'new': new}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--old', required=True, help='source tree of the old commit')
    parser.add_argument('--new', default=ROOT)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--configs', nargs='*', default=CONFIGS)
    parser.add_argument('--out', default='runs/config_regression')
    parser.add_argument('--plain-deconv', action='store_true',
                        help='the new tree with the plain (pre-sub-pixel) transposed convolution')
    args = parser.parse_args()
    started, results = time.time(), {}
    for name in args.configs:
        results[name] = compare(run(args.old, name, args.steps), run(args.new, name, args.steps, args.plain_deconv))
        print(name, results[name]['verdict'], results[name].get('max_rel_diff'), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump({'command': ' '.join(sys.argv), 'wall_s': time.time() - started,
                   'results': results}, f, indent=1)
    rows = ['| config | verdict | losses compared | largest relative difference |',
            '|---|---|---|---|']
    for name, r in results.items():
        rows.append(f'| {name} | {r["verdict"]} | {len(r.get("keys", []))} | '
                    f'{r.get("max_rel_diff", r.get("new") or r.get("old"))} |')
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write('\n'.join(rows) + '\n')
    print('\n'.join(rows))


if __name__ == '__main__':
    main()
