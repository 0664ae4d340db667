"""``captioned_glyphs``: the glyphs set (:mod:`jaxgen.data.derived.glyphs`) with templated
captions of the character and of its font, e.g. "the letter g in a bold italic serif font",
"the digit seven in a regular upright mono font".

A font's family (sans, serif, mono), weight (regular, bold) and style (upright, italic,
oblique) are read from the font file's own tables (:func:`font_attributes`): mono when
``post.isFixedPitch``; sans when the family name says "Sans" or the PANOSE serif style is a
sans one (11-13), else serif; bold when ``OS/2.usWeightClass`` >= 600 or ``fsSelection``'s
bold bit is set; oblique or italic as the subfamily name says, italic when only the italic
bit is set. The Computer Modern files call every face "Regular" with a sans PANOSE, so their
attributes come from :data:`OVERRIDES` (Knuth's names: cmb bold roman, cmmi math italic,
cmss sans, cmti text italic, cmtt typewriter).

Fields: ``image`` and ``label`` (the character, indexing ``info['class_names']``) and
``domain`` (the font) as in glyphs; ``chars`` int32 ``[N, MAX_CHARS]`` in the character
vocabulary of captioned_mnist (:data:`captions.CHARS`: padding 0, unknown 1, space, a-z;
capitals are written lower-case and digits as words), so that one text encoder reads both
sets; ``tokens`` int32 ``[N, MAX_WORDS]``, the same captions' word ids in :data:`WORDS`
(for a word-level text encoder, ``data/text.py``); ``family``, ``weight`` and ``style``
int32 ``[N]`` indexing :data:`FAMILIES`, :data:`WEIGHTS`, :data:`STYLES`, for measuring
text-image consistency. The
(character, attribute) combinations of :data:`HELD_OUT` are left out of the train split and
kept in the test split, for zero-shot tests.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from jaxgen.data.derived import captions, glyphs
from jaxgen.errors import JaxgenError

FAMILIES = ('sans', 'serif', 'mono')
WEIGHTS = ('regular', 'bold')
STYLES = ('upright', 'italic', 'oblique')
TEMPLATE = 'the {what} in a {weight} {style} {family} font'
OVERRIDES = {'cmb10': ('serif', 'bold', 'upright'), 'cmmi10': ('serif', 'regular', 'italic'),
             'cmr10': ('serif', 'regular', 'upright'), 'cmss10': ('sans', 'regular', 'upright'),
             'cmti10': ('serif', 'regular', 'italic'), 'cmtt10': ('mono', 'regular', 'upright')}
# (character, attribute, value): left out of the train split.
HELD_OUT = (('G', 'weight', 'bold'), ('R', 'family', 'mono'), ('7', 'style', 'italic'),
            ('A', 'style', 'oblique'))
ATTRIBUTES = {'family': FAMILIES, 'weight': WEIGHTS, 'style': STYLES}
_CHAR_ID = {c: i for i, c in enumerate(captions.CHARS)}


def what(character: str) -> str:
    """'letter g' for 'G', 'digit seven' for '7'."""
    if character.isdigit():
        return f'digit {glyphs.DIGIT_NAMES[int(character)]}'
    return f'letter {character.lower()}'


def caption(character: str, family: str, weight: str, style: str) -> str:
    return TEMPLATE.format(what=what(character), weight=weight, style=style, family=family)


MAX_CHARS = max(len(caption(c, f, w, s)) for c in glyphs.CHARACTERS for f in FAMILIES
                for w in WEIGHTS for s in STYLES)


WORDS = (captions.PAD, captions.UNK) + tuple(dict.fromkeys(
    w for c in glyphs.CHARACTERS for f in FAMILIES for wt in WEIGHTS for s in STYLES
    for w in caption(c, f, wt, s).split()))
MAX_WORDS = max(len(caption(c, f, w, s).split()) for c in glyphs.CHARACTERS for f in FAMILIES
                for w in WEIGHTS for s in STYLES)
_WORD_ID = {w: i for i, w in enumerate(WORDS)}


def encode_words(text: str) -> np.ndarray:
    """int32 [MAX_WORDS] ids of a caption's words in :data:`WORDS`, padded with 0."""
    words = text.lower().split()
    if len(words) > MAX_WORDS:
        raise JaxgenError(f'the caption {text!r} has {len(words)} words; write at most '
                          f'{MAX_WORDS}')
    return np.array([_WORD_ID.get(w, 1) for w in words] + [0] * (MAX_WORDS - len(words)),
                    np.int32)


def encode_chars(text: str) -> np.ndarray:
    """int32 [MAX_CHARS] ids of a caption in :data:`captions.CHARS`, padded with 0."""
    text = ' '.join(text.lower().split())
    if len(text) > MAX_CHARS:
        raise JaxgenError(f'the caption {text!r} has {len(text)} characters; write at most '
                          f'{MAX_CHARS}')
    return np.array([_CHAR_ID.get(c, 1) for c in text] + [0] * (MAX_CHARS - len(text)),
                    np.int32)


def font_attributes(path: str) -> tuple[str, str, str]:
    """(family, weight, style) of the font file at ``path`` (see the module docstring)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem in OVERRIDES:
        return OVERRIDES[stem]
    from fontTools.ttLib import TTFont  # pylint: disable=import-outside-toplevel
    font = TTFont(path, lazy=True)
    name = font['name']
    family_name = (name.getDebugName(1) or stem).lower()
    subfamily = (name.getDebugName(2) or '').lower()
    os2 = font['OS/2'] if 'OS/2' in font else None
    serif_style = os2.panose.bSerifStyle if os2 is not None else 0
    if font['post'].isFixedPitch:
        family = 'mono'
    elif 'sans' in family_name or serif_style in (11, 12, 13):
        family = 'sans'
    else:
        family = 'serif'
    bold = os2 is not None and (os2.usWeightClass >= 600 or bool(os2.fsSelection & 0x20))
    italic_bit = os2 is not None and bool(os2.fsSelection & 0x01)
    style = ('oblique' if 'oblique' in subfamily else
             'italic' if 'italic' in subfamily or italic_bit else 'upright')
    return family, 'bold' if bold else 'regular', style


def held_out_mask(label: np.ndarray, attributes: dict[str, np.ndarray],
                  class_names: Sequence[str]) -> np.ndarray:
    """bool [N]: the examples of a :data:`HELD_OUT` combination."""
    mask = np.zeros(len(label), bool)
    for character, attribute, value in HELD_OUT:
        if character in class_names:
            mask |= (label == list(class_names).index(character)) & (
                attributes[attribute] == ATTRIBUTES[attribute].index(value))
    return mask


def captioned_glyphs(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """Glyphs' ``image``, ``label``, ``domain`` with ``chars``, ``family``, ``weight`` and
    ``style``; built in a moment from the cached ``glyphs``."""
    arrays, info = glyphs.glyphs(config, split, base)
    fonts = [font_attributes(os.path.join(glyphs.font_dir(), f'{stem}.ttf'))
             for stem in info['domain_names']]
    per_font = {a: np.array([ATTRIBUTES[a].index(f[i]) for f in fonts], np.int32)
                for i, a in enumerate(ATTRIBUTES)}
    label, domain = arrays['label'].astype(np.int32), arrays['domain'].astype(np.int32)
    attributes = {a: v[domain] for a, v in per_font.items()}
    held = held_out_mask(label, attributes, info['class_names'])
    keep = ~held if split == 'train' else np.ones(len(label), bool)
    if not keep.any():
        raise JaxgenError(f'captioned_glyphs: every {split} example is a held-out '
                          f'combination; render more characters or fonts')
    table = np.stack([np.stack([encode_chars(caption(c, *f)) for c in info['class_names']])
                      for f in fonts])  # [font, character, MAX_CHARS]
    words = np.stack([np.stack([encode_words(caption(c, *f)) for c in info['class_names']])
                      for f in fonts])  # [font, character, MAX_WORDS]
    out = {'image': arrays['image'][keep], 'label': label[keep], 'domain': domain[keep],
           'chars': table[domain[keep], label[keep]],
           'tokens': words[domain[keep], label[keep]],
           **{a: v[keep] for a, v in attributes.items()}}
    return out, {
        **{k: v for k, v in info.items() if k not in ('build_seconds', 'cache_path')},
        'name': 'captioned_glyphs', 'built_from': 'glyphs', 'num_examples': int(keep.sum()),
        'template': TEMPLATE, 'char_vocabulary': list(captions.CHARS), 'max_chars': MAX_CHARS,
        'word_vocabulary': list(WORDS), 'max_words': MAX_WORDS,
        'attribute_values': {a: list(v) for a, v in ATTRIBUTES.items()},
        'font_attributes': {stem: dict(zip(ATTRIBUTES, f))
                            for stem, f in zip(info['domain_names'], fonts)},
        'attribute_rule': 'read from the font tables (post.isFixedPitch, family name, PANOSE '
                          'serif style, OS/2 weight and fsSelection, subfamily name); '
                          'Computer Modern from a table of its faces',
        'held_out': [{'character': c, 'attribute': a, 'value': v} for c, a, v in HELD_OUT],
        'held_out_of_train': int(held.sum()) if split == 'train' else 0,
        'held_out_in_split': int(held.sum())}
