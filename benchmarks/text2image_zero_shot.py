"""Where a text-to-image GAN's zero-shot captions fail: per held-out combination, the text
encoder's composition and G's class (issue 33).

    python benchmarks/text2image_zero_shot.py --workdirs runs/t2i_long/gan_cls --step 12000

For each held-out (class c, attribute a, value v) of the run's captioned set (captioned_mnist:
thick seven, thin zero, two slanted to the left; captioned_glyphs: bold G, mono R, italic 7,
oblique A), with r the attribute's reference value (MNIST: medium, standing upright;
glyphs: regular, sans, upright) and e(k, u) the mean text embedding of the test captions
of class k with a = u:

* ``class``: how often the domain classifier reads c in G's image of each held-out test
  caption (up to ``--num``), and ``drawn``, the classes it reads, most frequent first;
* ``cos``: the cosine between e(c, v) and e(c, r) + δ, δ the mean over the other classes
  k of e(k, v) − e(k, r): 1 when the encoder composes the unseen pair from its parts.
  ``cos held-in``: the same for every other class k whose pairs were seen (δ then leaves
  out k and c), mean and minimum: the bar to read ``cos`` against;
* ``composed``: the class rate when G draws, for each test caption of (c, r), from its
  embedding plus δ instead of from the held-out caption's own embedding: whether G can
  draw the combination when the text encoder's embedding is moved by its parts.

One image per caption, the noise from ``--seed``; prints one markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgen import data  # noqa: E402  (after the path)
from jaxgen.data.derived import captions, glyph_captions  # noqa: E402
from jaxgen.metrics.own.text2image import GlyphJudge, judge_for  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402

BATCH = 500


def combinations(arrays, info):
    """``[(name, class index, attribute values [N], v, r)]`` of the held-out combinations."""
    label = np.asarray(arrays['label'])
    if info['name'] == 'captioned_mnist':
        thickness, slant = captions.bins(arrays['attributes'])
        out = []
        for attribute, word, digit in captions.HELD_OUT:
            values, words = ((thickness, captions.THICKNESS) if attribute == 'thickness'
                             else (slant, captions.SLANT))
            name = (f'{word} {captions.DIGITS[digit]}' if attribute == 'thickness'
                    else f'{captions.DIGITS[digit]} {word}')
            out.append((name, digit, values, words.index(word), 1))
        return label, out
    names = list(info['class_names'])
    return label, [(f'{value} {character}', names.index(character), np.asarray(arrays[attribute]),
                    glyph_captions.ATTRIBUTES[attribute].index(value), 0)
                   for character, attribute, value in glyph_captions.HELD_OUT
                   if character in names]


def cosine(a, b) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def shift(embedding, label, values, c, v, r, leave_out=()):
    """δ: the mean over classes k (not c, not ``leave_out``) of e(k, v) − e(k, r)."""
    diffs = []
    for k in np.unique(label):
        a, b = (label == k) & (values == v), (label == k) & (values == r)
        if k != c and k not in leave_out and a.any() and b.any():
            diffs.append(embedding[a].mean(0) - embedding[b].mean(0))
    return np.mean(diffs, 0)


def measure(workdir, step, num, seed):
    exp, state, step = load(workdir, step)
    model, variables = exp.model, exp.variables(state)
    split = data.load(exp.config.data, 'test')
    arrays, info = split.arrays, split.info
    judge = judge_for(exp.config.data, info)
    extractor = judge.label_extractor if isinstance(judge, GlyphJudge) else judge.extractor
    field = model.text.field
    embedding = np.concatenate([np.asarray(model.embed(variables, arrays[field][i:i + BATCH]))
                                for i in range(0, len(arrays[field]), BATCH)])
    label, combos = combinations(arrays, info)
    key = jax.random.key(seed)

    def classes(inputs):
        images = np.asarray(model.generate(variables, inputs, key))
        return np.argmax(np.asarray(extractor.logits(images)), -1)
    rows = []
    for name, c, values, v, r in combos:
        held = np.flatnonzero((label == c) & (values == v))[:num]
        reference = np.flatnonzero((label == c) & (values == r))[:num]
        drawn = classes({field: arrays[field][held]})
        delta = shift(embedding, label, values, c, v, r)
        composed = classes({'embedding': embedding[reference] + delta})
        seen = [cosine(embedding[(label == k) & (values == v)].mean(0),
                       embedding[(label == k) & (values == r)].mean(0)
                       + shift(embedding, label, values, k, v, r, leave_out=(c,)))
                for k in np.unique(label)
                if k != c and ((label == k) & (values == v)).any()
                and ((label == k) & (values == r)).any()]
        counts = np.bincount(drawn, minlength=int(label.max()) + 1)
        top = [f'{info["class_names"][k] if "class_names" in info else k}: {counts[k]}'
               for k in np.argsort(-counts)[:3] if counts[k]]
        rows.append({'run': '/'.join(workdir.rstrip('/').split('/')[-2:]), 'step': step,
                     'combination': name, 'captions': len(held),
                     'class': float(np.mean(drawn == c)), 'drawn': ', '.join(top),
                     'cos': cosine(embedding[held].mean(0), embedding[reference].mean(0) + delta),
                     'cos_seen_mean': float(np.mean(seen)), 'cos_seen_min': float(np.min(seen)),
                     'composed': float(np.mean(composed == c))})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workdirs', required=True, help='comma-separated workdirs')
    parser.add_argument('--num', type=int, default=250, help='captions per combination')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--step', type=int, default=None, help='checkpoint (default latest)')
    args = parser.parse_args()
    rows = [row for w in args.workdirs.split(',') for row in measure(w, args.step, args.num,
                                                                       args.seed)]
    print('| run (step) | combination | captions | class | drawn (top 3) | cos | cos held-in '
          '(mean, min) | composed class |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['run']} ({r['step']}) | {r['combination']} | {r['captions']} | "
              f"{100 * r['class']:.1f}% | {r['drawn']} | {r['cos']:.3f} | "
              f"{r['cos_seen_mean']:.3f}, {r['cos_seen_min']:.3f} | {100 * r['composed']:.1f}% |")


if __name__ == '__main__':
    main()
