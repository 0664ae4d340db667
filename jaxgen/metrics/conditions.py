"""What a conditional model generates from, taken from dataset examples, so that the
evaluation suite measures it like any image model.

A bundle names its conditions in ``conditions`` (``('chars',)`` for the text-to-image
GAN, ``('patches',)`` for Puzzle-GAN; :mod:`jaxgen.generate` reads the same). They are
data fields (:mod:`jaxgen.data`), so the inputs of test example ``i`` are that example's
fields: a condition may bring fields it needs with it (:data:`WITH`: key patches come
with their boxes), and uint8 image fields are mapped to [-1, 1] as ``generate`` takes
them. The samples of such a model are then its outputs for the test examples' own
conditions, and its diversity is BicycleGAN's: pairs of outputs for the same condition.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from jaxgen.errors import JaxgenError

WITH = {'patches': ('patches', 'boxes')}  # a condition -> the data fields it is given by


def conditions(model) -> tuple[str, ...]:
    """The conditions ``model`` generates from; () for a model that draws from nothing."""
    return tuple(getattr(model, 'conditions', ()) or ())


def inputs_from(model, arrays: Mapping[str, Any], index) -> dict[str, np.ndarray]:
    """``generate`` inputs of the examples ``index`` (a slice or integer array) of
    ``arrays``; a one-line error when the data lacks a field a condition needs."""
    out = {}
    for condition in conditions(model):
        for field in WITH.get(condition, (condition,)):
            if field not in arrays:
                raise JaxgenError(f'the model generates from {condition!r}, but the test data '
                                  f'has no {field!r} field (it has {sorted(arrays)})')
            x = np.asarray(arrays[field])[index]
            out[field] = x.astype(np.float32) / 127.5 - 1.0 if x.dtype == np.uint8 else x
    return out


def num_examples(arrays: Mapping[str, Any]) -> int:
    return len(next(iter(arrays.values())))
