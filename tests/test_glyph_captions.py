"""Tests of captioned_glyphs (jaxgen/data/derived/glyph_captions.py): the attributes read from
known font files, the captions, their character ids, and the held-out combinations."""

from __future__ import annotations

import os

import chex
import numpy as np
import pytest

from jaxgen.data.derived import captions, glyph_captions, glyphs
from jaxgen.errors import JaxgenError

FONTS = ('DejaVuSans-Bold', 'DejaVuSerif-Italic', 'DejaVuSansMono-Oblique', 'cmtt10')
CHARACTERS = 'AG7'


def font(stem: str) -> str:
    return os.path.join(glyphs.font_dir(), stem + '.ttf')


@pytest.mark.parametrize('stem, expected', [
    ('DejaVuSerif-BoldItalic', ('serif', 'bold', 'italic')),
    ('DejaVuSansMono-Oblique', ('mono', 'regular', 'oblique')),
    ('DejaVuSans', ('sans', 'regular', 'upright')),
    ('DejaVuSans-BoldOblique', ('sans', 'bold', 'oblique')),
    ('STIXGeneralBol', ('serif', 'bold', 'upright')),
    ('STIXGeneralItalic', ('serif', 'regular', 'italic')),
    ('cmb10', ('serif', 'bold', 'upright')),  # its own tables say Regular: the override
    ('cmtt10', ('mono', 'regular', 'upright')),
])
def test_attributes_of_known_font_files(stem, expected):
    assert glyph_captions.font_attributes(font(stem)) == expected


def test_captions_and_their_character_ids():
    text = glyph_captions.caption('G', 'serif', 'bold', 'italic')
    assert text == 'the letter g in a bold italic serif font'
    assert glyph_captions.caption('7', 'mono', 'regular', 'upright') == \
        'the digit seven in a regular upright mono font'
    chars = glyph_captions.encode_chars(text)
    chex.assert_shape(chars, (glyph_captions.MAX_CHARS,))
    assert chars.dtype == np.int32 and captions.decode_chars(chars) == text
    assert glyph_captions.MAX_CHARS == len('the digit three in a regular oblique serif font')
    with pytest.raises(JaxgenError, match='at most 47'):
        glyph_captions.encode_chars(text + ' and more words here')
    words = glyph_captions.encode_words(text)
    chex.assert_shape(words, (glyph_captions.MAX_WORDS,))
    assert words.dtype == np.int32 and glyph_captions.MAX_WORDS == 9
    assert ' '.join(glyph_captions.WORDS[i] for i in words if i) == text
    assert len(set(glyph_captions.WORDS)) == len(glyph_captions.WORDS)  # one id per word
    with pytest.raises(JaxgenError, match='at most 9'):
        glyph_captions.encode_words(text + ' and more')


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    """Both splits over 4 fonts and 3 characters (rendered, not read from a cache)."""
    original = glyphs.render
    glyphs.render = lambda split: original(split, paths=[font(f) for f in FONTS],
                                           characters=CHARACTERS)
    try:
        config = {'cache_dir': str(tmp_path_factory.mktemp('cache'))}
        return {s: glyph_captions.captioned_glyphs(config, s, None) for s in ('train', 'test')}
    finally:
        glyphs.render = original


def test_fields_shapes_and_captions_agree_with_the_fonts(small):
    for split, (arrays, info) in small.items():
        n = info['num_examples']
        chex.assert_shape([arrays['image'], arrays['chars'], arrays['tokens']],
                          [(n, 28, 28, 1), (n, glyph_captions.MAX_CHARS),
                           (n, glyph_captions.MAX_WORDS)])
        for field in ('label', 'domain', 'family', 'weight', 'style', 'chars', 'tokens'):
            assert arrays[field].dtype == np.int32, field
        assert info['char_vocabulary'] == list(captions.CHARS) and info['kind'] == 'images'
        assert info['word_vocabulary'] == list(glyph_captions.WORDS)
        for i in range(0, n, 7):
            stem = info['domain_names'][arrays['domain'][i]]
            family, weight, style = glyph_captions.font_attributes(font(stem))
            assert (glyph_captions.FAMILIES[arrays['family'][i]],
                    glyph_captions.WEIGHTS[arrays['weight'][i]],
                    glyph_captions.STYLES[arrays['style'][i]]) == (family, weight, style)
            character = CHARACTERS[arrays['label'][i]]
            text = glyph_captions.caption(character, family, weight, style)
            assert captions.decode_chars(arrays['chars'][i]) == text, split
            assert ' '.join(info['word_vocabulary'][w] for w in arrays['tokens'][i] if w) == \
                text, split


def test_held_out_combinations_are_only_in_the_test_split(small):
    def combos(arrays, info):
        return {(info['class_names'][l], glyph_captions.FAMILIES[f], glyph_captions.WEIGHTS[w],
                 glyph_captions.STYLES[s]) for l, f, w, s in
                zip(arrays['label'], arrays['family'], arrays['weight'], arrays['style'])}
    train, test = combos(*small['train']), combos(*small['test'])
    held = {('G', 'sans', 'bold', 'upright'), ('7', 'serif', 'regular', 'italic'),
            ('A', 'mono', 'regular', 'oblique')}  # bold G, italic 7, oblique A
    assert held <= test and not held & train
    assert len(test) == len(FONTS) * len(CHARACTERS) and len(train) == len(test) - 3
    arrays, info = small['train']
    assert info['held_out_of_train'] == 3 * glyphs.NUM_TRAIN
    assert len(arrays['label']) == (len(test) - 3) * glyphs.NUM_TRAIN
