"""One StarGAN against a CycleGAN per pair of domains, measured alike (issue 30).

Called by ``translation_runs.py --suite stargan_vs_cyclegan`` once its workdirs are
trained. For every ordered pair (source s, target t) of ``morpho_attributes``'s four
domains, the first ``min(samples, MAX_PER_DOMAIN)`` test digits of domain s (250: the
morphometrics take ~10 ms an image, and 12 pairs x 3 rows x 250 images already take a
minute and a half) are translated into t by the
StarGAN (``domain = t``) and by the CycleGAN trained on {s, t} (A->B or B->A), and
measured the same way:

* attribute accuracy by morphometrics (``metrics/translation.py``'s
  ``attribute_accuracy``): thickness and slant on t's side of the train medians,
  each and both at once;
* content: one label classifier (morpho_attributes' own, over all four domains) reads
  the source digit's class from the output.

The untranslated sources are a third row: the floor of attribute accuracy and the
classifier's content on real digits. Writes ``pairs.json`` and ``table.md``.
"""

from __future__ import annotations

import json
import os

import jax
import numpy as np

from benchmarks import report
from jaxgen import data
from jaxgen.metrics import classifier, translation
from jaxgen.training.restore import load

METRICS = ('attributes_acc', 'thickness_acc', 'slant_acc', 'content')
MAX_PER_DOMAIN = 250


def _measure(out, labels, rule, medians, labeller) -> dict:
    results = translation.attribute_accuracy(out, rule, medians)
    results['content'] = translation.accuracy(labeller, out, labels)
    return results


def compare(out: str, results: dict, samples: int, seed: int) -> None:
    test = data.load({'name': 'morpho_attributes'}, 'test')
    info, arrays = test.info, test.arrays
    names, rules, medians = info['domain_names'], info['domain_rules'], info['attribute_medians']
    labeller = classifier.for_config({'name': 'morpho_attributes'}, 'morpho_attributes',
                                     'label')
    models = {}
    for record in results['variants']:
        exp, state, _ = load(record['workdir'])
        models[record['variant']] = (exp.model, exp.variables(state))
    key = jax.random.key(seed)
    per_pair = []
    for s, source in enumerate(names):
        rows = np.flatnonzero(arrays['domain'] == s)[:min(samples, MAX_PER_DOMAIN)]
        x = translation.to_signed(arrays['image'][rows])
        labels = arrays['label'][rows]
        for t, target in enumerate(names):
            if s == t:
                continue
            star, star_vars = models['StarGAN']
            fake = np.asarray(star.generate(star_vars, {'image': x, 'domain': np.full(
                len(x), t, np.int32)}, key))
            pair = sorted((s, t))
            cycle, cycle_vars = models[f'CycleGAN {names[pair[0]]}<->{names[pair[1]]}']
            direction = 'ab' if s == pair[0] else 'ba'
            cycled = np.asarray(cycle.translate(cycle_vars, x, direction))
            for model, images in (('StarGAN', fake), ('CycleGAN per pair', cycled),
                                  ('untranslated source', x)):
                per_pair.append({'model': model, 'source': source, 'target': target,
                                 'num': int(len(x)),
                                 **_measure(images, labels, rules[target], medians,
                                            labeller)})
    with open(os.path.join(out, 'pairs.json'), 'w') as f:
        json.dump({'classifier': labeller.info.get('test_accuracy'), 'pairs': per_pair},
                  f, indent=2)
    table = []
    for model in ('StarGAN', 'CycleGAN per pair', 'untranslated source'):
        mine = [p for p in per_pair if p['model'] == model]
        cells = []
        for metric in METRICS:
            values = np.array([p[metric] for p in mine])
            cells.append(f'{values.mean():.3f} (worst pair {values.min():.3f})')
        table.append([model, *cells])
    report.write_table(out, ['model (12 ordered pairs)', *METRICS], table)
