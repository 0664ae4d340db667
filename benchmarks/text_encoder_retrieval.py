"""Text -> image retrieval of a trained text encoder (``configs/text_encoder.py``) on its
test split, for all captions and separately for the held-in captions and for the held-out
attribute-class combinations (zero-shot: never seen in training).

    python -m benchmarks.text_encoder_retrieval runs/t2i/text_encoder [more workdirs]

Retrieval as the bundle's ``evaluate`` measures it: the test split in a fixed random order
(seed 0) cut into batches of 64; a caption hits by label when the best-scoring image of
its batch has its label, by caption when that image has the same caption. Prints one JSON
line per workdir and subset.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from jaxgen import data
from jaxgen.data.derived import captions, glyph_captions
from jaxgen.training.restore import load


def held_out(name: str, arrays, info) -> np.ndarray:
    """bool [N]: the test examples whose caption is a held-out combination."""
    if name == 'captioned_mnist':
        return captions.held_out_mask(arrays['label'], *captions.bins(arrays['attributes']))
    return glyph_captions.held_out_mask(
        arrays['label'], {a: arrays[a] for a in glyph_captions.ATTRIBUTES}, info['class_names'])


def measure(workdir: str) -> list[dict]:
    exp, state, step = load(workdir)
    test = data.load(exp.config.data, 'test')
    hits, done = exp.model.retrieval_hits(exp.variables(state), test.arrays)
    held = held_out(test.name, test.arrays, test.info)
    out = []
    for subset, rows in (('all', done), ('held-in', done & ~held), ('held-out', done & held)):
        out.append({'workdir': workdir, 'data': test.name, 'step': int(step),
                    'subset': subset, 'captions': int(rows.sum()),
                    'retrieval_label': round(float(hits[rows, 0].mean()), 4),
                    'retrieval_caption': round(float(hits[rows, 1].mean()), 4)})
    return out


if __name__ == '__main__':
    for workdir in sys.argv[1:]:
        for line in measure(workdir):
            print(json.dumps(line))
