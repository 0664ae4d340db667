"""``captioned_mnist``: MNIST with templated English captions of its class and measured
Morpho-MNIST attributes, as word and character ids.

A caption is ``a {thickness} {digit} {slant}``, e.g. "a thick seven slanted to the right":
thickness (:mod:`jaxgen.data.derived.morpho`, px) below 2.3 is 'thin', above 2.9 'thick'
(about MNIST's tertiles), else 'medium'; slant (radians, > 0 leans right) below -0.15 is
'slanted to the left', above 0.15 'slanted to the right', else 'standing upright'. Some
attribute-class combinations (:data:`HELD_OUT`) are left out of the train split and kept in
the test split, for zero-shot tests. The vocabularies are fixed by the template, so any
split, and any user sentence (:func:`encode`), uses the same ids.
"""

from __future__ import annotations

import re
import string
from typing import Any, Callable, Sequence

import numpy as np

from jaxgen.data.derived import morpho, morpho_sets
from jaxgen.errors import JaxgenError

DIGITS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
THICKNESS = ('thin', 'medium', 'thick')
SLANT = ('slanted to the left', 'standing upright', 'slanted to the right')
THICKNESS_BINS = (2.3, 2.9)  # px: thin < 2.3 <= medium <= 2.9 < thick
SLANT_BINS = (-0.15, 0.15)   # rad: left < -0.15 <= upright <= 0.15 < right
TEMPLATE = 'a {thickness} {digit} {slant}'
# (attribute, bin word, label): left out of the train split.
HELD_OUT = (('thickness', 'thick', 7), ('thickness', 'thin', 0), ('slant', 'slanted to the left', 2))
PAD, UNK = '<pad>', '<unk>'
WORDS = (PAD, UNK, 'a') + THICKNESS + DIGITS + tuple(
    dict.fromkeys(w for phrase in SLANT for w in phrase.split()))
CHARS = (PAD, UNK, ' ') + tuple(string.ascii_lowercase)
MAX_WORDS = max(len(TEMPLATE.format(thickness=t, digit=d, slant=s).split())
                for t in THICKNESS for d in DIGITS for s in SLANT)
MAX_CHARS = max(len(TEMPLATE.format(thickness=t, digit=d, slant=s))
                for t in THICKNESS for d in DIGITS for s in SLANT)
_WORD_ID = {w: i for i, w in enumerate(WORDS)}
_CHAR_ID = {c: i for i, c in enumerate(CHARS)}


def bins(attributes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(thickness bin, slant bin), int [N] each, of float [N, 6] morphometrics."""
    attributes = np.asarray(attributes)
    thickness = attributes[:, morpho.ATTRIBUTE_NAMES.index('thickness')]
    slant = attributes[:, morpho.ATTRIBUTE_NAMES.index('slant')]
    return _bin(thickness, THICKNESS_BINS), _bin(slant, SLANT_BINS)


def _bin(values: np.ndarray, edges: tuple[float, float]) -> np.ndarray:
    """0 below ``edges[0]``, 2 above ``edges[1]``, 1 between (edges included)."""
    return np.where(values < edges[0], 0, np.where(values > edges[1], 2, 1))


def caption(label: int, thickness_bin: int, slant_bin: int) -> str:
    return TEMPLATE.format(thickness=THICKNESS[thickness_bin], digit=DIGITS[label],
                           slant=SLANT[slant_bin])


def _words(text: str) -> list[str]:
    return re.sub(r'[^a-z ]', ' ', text.lower()).split()


def encode(text: str) -> np.ndarray:
    """int32 [MAX_WORDS] word ids of a sentence (lower-cased, punctuation dropped), padded.
    Raises JaxgenError for words outside the vocabulary or a sentence too long."""
    words = _words(text)
    unknown = sorted({w for w in words if w not in _WORD_ID})
    if unknown:
        raise JaxgenError(f'the words {unknown} are not in the caption vocabulary; write the '
                          f'sentence with {list(WORDS[2:])}, e.g. "a thick seven slanted to '
                          f'the right"')
    if not words or len(words) > MAX_WORDS:
        raise JaxgenError(f'the sentence {text!r} has {len(words)} words; write 1 to '
                          f'{MAX_WORDS}, e.g. "a thick seven slanted to the right"')
    return np.array([_WORD_ID[w] for w in words] + [0] * (MAX_WORDS - len(words)), np.int32)


def encode_chars(text: str) -> np.ndarray:
    """int32 [MAX_CHARS] character ids of a sentence, normalised as :func:`encode` does."""
    text = ' '.join(_words(text))
    if len(text) > MAX_CHARS:
        raise JaxgenError(f'the sentence {text!r} has {len(text)} characters; write at most '
                          f'{MAX_CHARS}')
    return np.array([_CHAR_ID.get(c, 1) for c in text] + [0] * (MAX_CHARS - len(text)),
                    np.int32)


def decode(tokens: Sequence[int] | np.ndarray) -> str | list[str]:
    """Text of word ids: one sentence of [L] ids, a list of them of [N, L]; padding dropped."""
    tokens = np.asarray(tokens)
    if tokens.ndim == 2:
        return [decode(t) for t in tokens]
    return ' '.join(WORDS[int(t)] for t in tokens if t != 0)


def decode_chars(chars: Sequence[int] | np.ndarray) -> str | list[str]:
    chars = np.asarray(chars)
    if chars.ndim == 2:
        return [decode_chars(c) for c in chars]
    return ''.join(CHARS[int(c)] if CHARS[int(c)] != UNK else '?' for c in chars if c != 0)


def held_out_mask(label: np.ndarray, thickness_bin: np.ndarray,
                  slant_bin: np.ndarray) -> np.ndarray:
    """bool [N]: the examples of a :data:`HELD_OUT` combination."""
    mask = np.zeros(len(label), bool)
    for attribute, word, digit in HELD_OUT:
        b = thickness_bin if attribute == 'thickness' else slant_bin
        words = THICKNESS if attribute == 'thickness' else SLANT
        mask |= (label == digit) & (b == words.index(word))
    return mask


def captioned_mnist(config: Any, split: str, base: Callable, *,
                    processes: int = morpho_sets.PROCESSES) -> tuple[dict, dict]:
    """MNIST ``image``, ``label``, ``attributes``, ``tokens`` int32 [N, MAX_WORDS] and
    ``chars`` int32 [N, MAX_CHARS]; built in a moment from the cached ``morpho_mnist``."""
    arrays, info = morpho_sets.morpho_mnist(config, split, base, processes=processes)
    label = arrays['label'].astype(np.int32)
    thickness_bin, slant_bin = bins(arrays['attributes'])
    held = held_out_mask(label, thickness_bin, slant_bin)
    keep = ~held if split == 'train' else np.ones(len(label), bool)
    if not keep.any():
        raise JaxgenError(f'captioned_mnist: every {split} example is a held-out combination; '
                          f'use more MNIST images')
    texts = [caption(l, t, s) for l, t, s in zip(label[keep], thickness_bin[keep],
                                                 slant_bin[keep])]
    out = {'image': arrays['image'][keep], 'label': label[keep],
           'attributes': arrays['attributes'][keep],
           'tokens': np.stack([encode(t) for t in texts]),
           'chars': np.stack([encode_chars(t) for t in texts])}
    return out, {
        **{k: v for k, v in info.items() if k not in ('build_seconds', 'cache_path')},
        'name': 'captioned_mnist', 'built_from': info['cache_path'],
        'num_examples': int(keep.sum()), 'template': TEMPLATE,
        'word_vocabulary': list(WORDS), 'char_vocabulary': list(CHARS),
        'max_words': MAX_WORDS, 'max_chars': MAX_CHARS,
        'bins': {'thickness': {'words': list(THICKNESS), 'edges_px': list(THICKNESS_BINS)},
                 'slant': {'words': list(SLANT), 'edges_rad': list(SLANT_BINS)}},
        'bin_rule': 'lower bin if value < low edge; upper bin if value > high edge; else middle',
        'held_out': [{'attribute': a, 'word': w, 'label': d,
                      'phrase': f'{w} {DIGITS[d]}' if a == 'thickness' else f'{DIGITS[d]} {w}'}
                     for a, w, d in HELD_OUT],
        'held_out_of_train': int(held.sum()) if split == 'train' else 0,
        'held_out_in_split': int(held.sum())}
