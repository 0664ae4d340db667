"""Captions as ids by character or by word (jaxgen/data/text.py): each level names its
field, vocabulary and length; a sentence encodes as the data encodes it; every kind of bad
input is one line."""

import chex
import numpy as np
import pytest

from jaxgen.data import text as text_lib
from jaxgen.data.derived import captions, glyph_captions
from jaxgen.errors import JaxgenError

MNIST = {'name': 'captioned_mnist', 'kind': 'images', 'shape': [28, 28, 1],
         'char_vocabulary': list(captions.CHARS), 'max_chars': captions.MAX_CHARS,
         'word_vocabulary': list(captions.WORDS), 'max_words': captions.MAX_WORDS}
GLYPHS = {**MNIST, 'name': 'captioned_glyphs', 'max_chars': glyph_captions.MAX_CHARS,
          'word_vocabulary': list(glyph_captions.WORDS), 'max_words': glyph_captions.MAX_WORDS}


def test_each_level_names_its_field_vocabulary_and_length():
    char, word = text_lib.spec(MNIST, 'char'), text_lib.spec(MNIST, 'word')
    assert (char.field, char.length, char.vocabulary) == (
        'chars', captions.MAX_CHARS, tuple(captions.CHARS))
    assert (word.field, word.length, word.vocabulary) == (
        'tokens', captions.MAX_WORDS, tuple(captions.WORDS))
    assert text_lib.FIELDS == ('chars', 'tokens')


@pytest.mark.parametrize('info, encode', [(MNIST, captions.encode),
                                          (GLYPHS, glyph_captions.encode_words)])
def test_words_encode_as_the_data_encodes_them_and_decode_back(info, encode):
    spec = text_lib.spec(info, 'word')
    sentence = ('a thick seven slanted to the left' if info is MNIST
                else 'the letter g in a bold upright sans font')
    ids, unused = spec.encode('  ' + sentence.upper() + ' ')
    chex.assert_shape(ids, (spec.length,))
    np.testing.assert_array_equal(ids, encode(sentence))
    assert unused == [] and spec.decode(ids) == sentence


def test_characters_encode_as_the_data_encodes_them_and_report_new_words():
    spec = text_lib.spec(MNIST, 'char')
    ids, unused = spec.encode('a THICK seven')
    np.testing.assert_array_equal(ids, captions.encode_chars('a thick seven'))
    assert unused == [] and spec.decode(ids) == 'a thick seven'
    assert spec.encode('a bold seven')[1] == ['bold']  # readable, and reported


@pytest.mark.parametrize('level, text, message', [
    ('word', 'a bold seven slanted leftwards', r"words outside the text encoder's vocabulary: "
                                               r"'bold' 'leftwards'; it reads a eight "),
    ('word', 'a ' * 8, 'has 8 words; the model reads at most 7'),
    ('word', ' ', 'the caption is empty'),
    ('char', 'a 7!', r"characters outside the text encoder's vocabulary: '!' '7'"),
])
def test_bad_captions_are_one_line(level, text, message):
    with pytest.raises(JaxgenError, match=message) as e:
        text_lib.spec(MNIST, level).encode(text)
    assert '\n' not in str(e.value)


def test_an_unknown_level_and_data_without_that_level_are_one_line():
    with pytest.raises(JaxgenError, match=r"model.text_level must be one of \['char', "
                                          r"'word'\].*got 'byte'"):
        text_lib.spec(MNIST, 'byte')
    chars_only = {k: v for k, v in MNIST.items() if k not in ('word_vocabulary', 'max_words')}
    text_lib.spec(chars_only, 'char')
    with pytest.raises(JaxgenError, match="text2image needs captioned images .* the dataset "
                                          "'captioned_mnist' has no tokens"):
        text_lib.spec(chars_only, 'word', 'text2image')
    with pytest.raises(JaxgenError, match="'mnist' has no chars"):
        text_lib.spec({'name': 'mnist', 'shape': [28, 28, 1]}, 'char')
