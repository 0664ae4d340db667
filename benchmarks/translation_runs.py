"""Issue 30's comparisons: each variant trained by ``train.py`` and measured by
``python -m jaxgen.evaluate``, one after another, into ``<out>/<suite>/``.

    python benchmarks/translation_runs.py --suite pix2pix_terms --steps 600 --out runs/tr
    python benchmarks/translation_runs.py --suite pix2pix_patch --steps 600 --out runs/tr
    python benchmarks/translation_runs.py --suite cyclegan_cycles --steps 1000 --out runs/tr
    python benchmarks/translation_runs.py --suite stargan_vs_cyclegan --steps 1800 --out runs/tr

Suites (every variant gets the same ``--steps``, ``--seed`` and ``--set`` overrides):

* ``pix2pix_terms``: L1 alone, cGAN alone, L1 + cGAN (the paper's Table 1);
* ``pix2pix_patch``: PatchGAN receptive fields 1 (PixelGAN), 16, 34 and 70 (Table 2's
  1, 16, 70, 286); at 28 px the 70x70 stack has one output unit, which sees the whole
  image: it is the full-image discriminator ('full' builds the same network);
* ``cyclegan_cycles``: thin <-> thick, GAN alone, GAN + forward cycle, GAN + both
  cycles (Table 4; identity 0 in all three, as the table), and the config as it is;
* ``stargan_vs_cyclegan``: on ``morpho_attributes`` (4 domains), one StarGAN for
  ``--steps`` against a CycleGAN per pair of domains (6), each for ``steps / 6``: the
  same number of steps in all (the paper's comparison). Every ordered pair is then
  measured the same way (``stargan_vs_cyclegan.py``).

A variant whose workdir already holds its final checkpoint is not retrained, nor
measured again once its ``evaluation_<steps>.json`` exists (a rerun rebuilds the table).
``--set`` adds ``--config.<name>=<value>`` overrides to every variant (a smaller width
for the CPU). Writes ``results.json`` and ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks import report  # noqa: E402

PAIRS = [(a, b) for i, a in enumerate(('thin-upright', 'thin-slanted', 'thick-upright',
                                       'thick-slanted')) for b in
         ('thin-upright', 'thin-slanted', 'thick-upright', 'thick-slanted')[i + 1:]]
SUITES = {  # suite -> [(variant, config, overrides)]
    'pix2pix_terms': [('L1', 'pix2pix', {'objective.gan_weight': 0}),
                      ('cGAN', 'pix2pix', {'objective.l1': 0}),
                      ('L1 + cGAN', 'pix2pix', {})],
    'pix2pix_patch': [(f'{f}x{f}', 'pix2pix', {'model.receptive_field': f})
                      for f in (1, 16, 34, 70)],
    'cyclegan_cycles': [('GAN alone', 'cyclegan', {'objective.cycle_a': 0,
                                                   'objective.cycle_b': 0,
                                                   'objective.identity': 0}),
                        ('GAN + forward cycle', 'cyclegan', {'objective.cycle_b': 0,
                                                             'objective.identity': 0}),
                        ('GAN + both cycles', 'cyclegan', {'objective.identity': 0}),
                        ('config (+ identity)', 'cyclegan', {})],
    'stargan_vs_cyclegan': [('StarGAN', 'stargan:morpho_attributes', {})] + [
        (f'CycleGAN {a}<->{b}', 'cyclegan', {'data.name': 'morpho_attributes',
                                             'data.pair_domains': f'("{a}", "{b}")'})
        for a, b in PAIRS],
}
COLUMNS = ('content', 'content_real', 'l1', 'ssim', 'fd', 'cycle', 'thickness_ks',
           'thickness_ks_source', 'thickness_mean', 'thickness_mean_target')


def _slug(name: str) -> str:
    return ''.join(c if c.isalnum() else '_' for c in name).strip('_').lower()


def run_variant(out, name, config, overrides, steps, seed, extra, samples) -> dict:
    workdir = os.path.join(out, _slug(name))
    args = [sys.executable, 'train.py', f'--config=configs/{config.replace(":", ".py:", 1)}'
            if ':' in config else f'--config=configs/{config}.py', f'--workdir={workdir}',
            f'--config.num_steps={steps}', f'--config.seed={seed}',
            f'--config.checkpoint_every={steps}', f'--config.sample_every={steps}',
            f'--config.log_every={max(steps // 10, 1)}']
    args += [f'--config.{k}={v}' for k, v in {**overrides, **extra}.items()]
    done = os.path.join(workdir, 'checkpoints', str(steps))
    record = {'variant': name, 'workdir': workdir, 'command': ' '.join(args[1:])}
    if not os.path.isdir(done):
        started = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True)
        record['train_seconds'] = round(time.perf_counter() - started, 1)
    measured = os.path.join(workdir, f'evaluation_{steps}.json')
    if samples and not os.path.isfile(measured):
        started = time.perf_counter()
        subprocess.run([sys.executable, '-m', 'jaxgen.evaluate', f'--workdir={workdir}',
                        f'--samples={samples}', '--noperceptual'], cwd=ROOT, check=True)
        record['evaluate_seconds'] = round(time.perf_counter() - started, 1)
    if samples:
        with open(measured) as f:
            record['metrics'] = json.load(f)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--suite', choices=sorted(SUITES), required=True)
    parser.add_argument('--steps', type=int, required=True)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--samples', type=int, default=1000, help='test images per target')
    parser.add_argument('--set', action='append', default=[],
                        help='name=value, added as --config.name=value to every variant')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    extra = dict(s.split('=', 1) for s in args.set)
    out = os.path.join(args.out, args.suite)
    pairwise = args.suite == 'stargan_vs_cyclegan'
    rows, results = [], {'suite': args.suite, 'steps': args.steps, 'seed': args.seed,
                         'set': extra, 'variants': []}
    for name, config, overrides in SUITES[args.suite]:
        steps = args.steps // len(PAIRS) if pairwise and name != 'StarGAN' else args.steps
        record = run_variant(out, name, config, overrides, steps, args.seed, extra,
                             0 if pairwise else args.samples)
        results['variants'].append(record)
        report.write_json(out, results)
        m = record.get('metrics', {})
        m = {**{k[:-len('_output')]: v for k, v in m.items() if k.endswith('_output')}, **m}
        rows.append([name, steps, record.get('train_seconds', '-')] +
                    [f'{m[c]:.3f}' if c in m else '-' for c in COLUMNS])
    if pairwise:
        from benchmarks import stargan_vs_cyclegan  # pylint: disable=import-outside-toplevel
        stargan_vs_cyclegan.compare(out, results, args.samples, args.seed)
        return
    report.write_table(out, ['variant', 'steps', 'train s', *COLUMNS], rows)


if __name__ == '__main__':
    main()
