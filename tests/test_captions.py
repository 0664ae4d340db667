"""Tests of captioned_mnist (jaxgen/data/derived/captions.py): the vocabularies, encoding
and decoding, captions that agree with the measured attributes, held-out combinations."""

from __future__ import annotations

import os

import chex
import numpy as np
import pytest

from jaxgen.data import base_arrays
from jaxgen.data.derived import captions, morpho
from jaxgen.errors import JaxgenError

A = {name: i for i, name in enumerate(morpho.ATTRIBUTE_NAMES)}
ALL = [captions.caption(d, t, s) for d in range(10) for t in range(3) for s in range(3)]


def bar(width: float, theta: float, size: int = 28) -> np.ndarray:
    """A 20 px tall parallelogram bar leaning right by ``theta``, anti-aliased, uint8."""
    c = (np.arange(size * 8) + .5) / 8 - size / 2
    y, x = c[:, None], c[None, :]
    inside = (np.abs(y) < 10) & (np.abs(x + np.tan(theta) * y) < width / 2)
    return np.round(inside.reshape(size, 8, size, 8).mean((1, 3)) * 255).astype(np.uint8)


WIDTHS, SLANTS = (1.8, 2.6, 3.8), (-.4, 0., .4)  # thin, medium, thick; left, upright, right


def stub_base(n: int = 30):
    """Bars of every width and slant; image i has label i % 10, width i % 3 and slant
    (i // 3) % 3, so a thick seven (17), a thin zero (0) and a left-slanted two (2) occur."""
    images = np.stack([bar(WIDTHS[i % 3], SLANTS[(i // 3) % 3]) for i in range(n)])[..., None]
    labels = (np.arange(n) % 10).astype(np.int32)
    return lambda name, split: {'image': images, 'label': labels}


def expected_caption(label: int, attributes: np.ndarray) -> str:
    """The caption the module's docstring promises, written out independently."""
    t, s = attributes[A['thickness']], attributes[A['slant']]
    thickness = 'thin' if t < 2.3 else 'thick' if t > 2.9 else 'medium'
    slant = ('slanted to the left' if s < -.15 else 'slanted to the right' if s > .15
             else 'standing upright')
    return f'a {thickness} {captions.DIGITS[label]} {slant}'


def test_every_caption_round_trips_through_words_and_chars():
    assert len(set(ALL)) == 90 and captions.MAX_WORDS == 7
    for text in ALL:
        tokens, chars = captions.encode(text), captions.encode_chars(text)
        chex.assert_shape([tokens, chars], [(captions.MAX_WORDS,), (captions.MAX_CHARS,)])
        assert tokens.dtype == np.int32 and chars.dtype == np.int32
        assert captions.decode(tokens) == text and captions.decode_chars(chars) == text
    assert max(len(t) for t in ALL) == captions.MAX_CHARS
    assert captions.decode(captions.encode('A THICK seven, slanted to the right!')) == ALL[
        ALL.index('a thick seven slanted to the right')]
    np.testing.assert_array_equal(captions.decode([[2, 5, 0], [2, 3, 0]]), ['a thick', 'a thin'])
    assert captions.decode([2, 1, 13, 0]) == 'a <unk> seven'


@pytest.mark.parametrize('text,word', [('a purple seven', 'purple'),
                                       ('a thin seven slanted to the left ' * 2, 'words'),
                                       ('', 'words')])
def test_bad_sentences_are_one_line_errors(text, word):
    with pytest.raises(JaxgenError) as error:
        captions.encode(text)
    assert word in str(error.value) and '\n' not in str(error.value)


def test_bins_edges():
    attributes = np.zeros((6, 6), np.float32)
    attributes[:, A['thickness']] = [2.29, 2.3, 2.9, 2.91, 1., 5.]
    attributes[:, A['slant']] = [-.16, -.15, .15, .16, 0., .5]
    thickness, slant = captions.bins(attributes)
    np.testing.assert_array_equal(thickness, [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(slant, [0, 1, 1, 2, 1, 2])


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    config = {'cache_dir': str(tmp_path_factory.mktemp('captions'))}
    base = stub_base()
    return {split: captions.captioned_mnist(config, split, base, processes=1)
            for split in ('train', 'test')}


def test_shapes_dtypes_and_vocabularies(built):
    arrays, info = built['test']
    n = len(arrays['label'])
    chex.assert_shape([arrays['image'], arrays['attributes'], arrays['tokens'], arrays['chars']],
                      [(n, 28, 28, 1), (n, 6), (n, captions.MAX_WORDS), (n, captions.MAX_CHARS)])
    chex.assert_type([arrays['image'], arrays['label'], arrays['attributes'], arrays['tokens'],
                      arrays['chars']], [np.uint8, np.int32, np.float32, np.int32, np.int32])
    assert info['word_vocabulary'][:2] == ['<pad>', '<unk>'] and info['template'] == (
        'a {thickness} {digit} {slant}')
    assert info['char_vocabulary'] == list(captions.CHARS) and info['num_examples'] == n == 30


def test_every_caption_agrees_with_its_measured_attributes(built):
    for arrays, _ in built.values():
        texts = captions.decode(arrays['tokens'])
        assert captions.decode_chars(arrays['chars']) == texts
        for image, label, attributes, text in zip(arrays['image'], arrays['label'],
                                                  arrays['attributes'], texts):
            measured = morpho.measure(image)  # measured again, from the stored image
            np.testing.assert_allclose(attributes, measured, rtol=1e-5)
            assert text == expected_caption(int(label), measured)
    texts = set(captions.decode(built['test'][0]['tokens']))
    assert len({t.split()[1] for t in texts}) == 3 and len({t.split()[-1] for t in texts}) == 3


def test_held_out_combinations_absent_from_train_present_in_test(built):
    (train, info), (test, _) = built['train'], built['test']
    phrases = [h['phrase'] for h in info['held_out']]
    assert phrases == ['thick seven', 'thin zero', 'two slanted to the left']
    train_texts, test_texts = captions.decode(train['tokens']), captions.decode(test['tokens'])
    for phrase in phrases:
        assert not any(phrase in t for t in train_texts), phrase
        assert any(phrase in t for t in test_texts), phrase
    assert info['held_out_of_train'] == len(test_texts) - len(train_texts) > 0


@pytest.mark.skipif(not os.environ.get('JAXGEN_DATA_DIR'),
                    reason='JAXGEN_DATA_DIR not set: the real MNIST files are not available')
def test_real_mnist_captions(tmp_path):
    real = base_arrays({'cache_dir': os.environ.get('JAXGEN_CACHE_DIR') or str(tmp_path)})
    subset = {k: v[:100] for k, v in real('mnist', 'test').items()}
    config = {'cache_dir': str(tmp_path)}
    built = {s: captions.captioned_mnist(config, s, lambda name, split: subset, processes=1)
             for s in ('train', 'test')}
    arrays = built['test'][0]
    texts = captions.decode(arrays['tokens'])
    for i in range(0, 100, 7):
        assert texts[i] == expected_caption(int(arrays['label'][i]),
                                            morpho.measure(arrays['image'][i]))
    train_texts = captions.decode(built['train'][0]['tokens'])
    held = [h['phrase'] for h in built['train'][1]['held_out']]
    assert not any(p in t for p in held for t in train_texts)
    assert len(train_texts) == 100 - sum(any(p in t for p in held) for t in texts)
