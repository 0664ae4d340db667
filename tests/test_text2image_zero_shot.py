"""benchmarks/text2image_zero_shot.py: the composition shift δ and its cosine, checked on
embeddings built as class + attribute vectors (where composition is exact), and the held-out
combinations it reads from each captioned set."""

import numpy as np

from benchmarks import text2image_zero_shot as zs
from jaxgen.data.derived import captions, glyph_captions

RNG = np.random.default_rng(0)
CLASS, VALUE = RNG.normal(size=(4, 8)), RNG.normal(size=(3, 8))


def additive(extra=None):
    """Two examples of every (class, value) pair, embedded as CLASS[k] + VALUE[u], plus
    ``extra[(k, u)]`` added to that pair's examples."""
    label, values = np.repeat(np.arange(4), 6), np.tile(np.repeat(np.arange(3), 2), 4)
    embedding = CLASS[label] + VALUE[values]
    for (k, u), vector in (extra or {}).items():
        embedding[(label == k) & (values == u)] += vector
    return embedding, label, values


def test_the_shift_is_the_attribute_difference_and_composes_exactly():
    embedding, label, values = additive()
    delta = zs.shift(embedding, label, values, c=0, v=2, r=1)
    np.testing.assert_allclose(delta, VALUE[2] - VALUE[1], atol=1e-12)
    pair = lambda k, u: embedding[(label == k) & (values == u)].mean(0)  # noqa: E731
    assert abs(zs.cosine(pair(0, 2), pair(0, 1) + delta) - 1.0) < 1e-12
    bent, label, values = additive({(0, 2): 3 * RNG.normal(size=8)})  # not composed
    delta = zs.shift(bent, label, values, c=0, v=2, r=1)
    np.testing.assert_allclose(delta, VALUE[2] - VALUE[1], atol=1e-12)  # c is left out
    pair = lambda k, u: bent[(label == k) & (values == u)].mean(0)  # noqa: E731
    assert zs.cosine(pair(0, 2), pair(0, 1) + delta) < 0.9


def test_leave_out_keeps_another_class_out_of_the_shift():
    bent, label, values = additive({(3, 2): 5 * RNG.normal(size=8)})
    np.testing.assert_allclose(zs.shift(bent, label, values, c=1, v=2, r=1, leave_out=(3,)),
                               VALUE[2] - VALUE[1], atol=1e-12)
    assert np.abs(zs.shift(bent, label, values, c=1, v=2, r=1) - (VALUE[2] - VALUE[1])).max() > 0.1


def test_the_held_out_combinations_of_each_set():
    attributes = np.zeros((5, 6), np.float32)
    label, combos = zs.combinations({'label': np.arange(5), 'attributes': attributes},
                                    {'name': 'captioned_mnist'})
    assert [(n, c, v, r) for n, c, _, v, r in combos] == [
        ('thick seven', 7, captions.THICKNESS.index('thick'), 1),
        ('thin zero', 0, captions.THICKNESS.index('thin'), 1),
        ('two slanted to the left', 2, captions.SLANT.index('slanted to the left'), 1)]
    names = ['A', 'G', 'R', '7']
    arrays = {'label': np.arange(4), 'family': np.zeros(4), 'weight': np.ones(4),
              'style': np.full(4, 2)}
    label, combos = zs.combinations(arrays, {'name': 'captioned_glyphs', 'class_names': names})
    assert [(n, c, v, r) for n, c, _, v, r in combos] == [
        ('bold G', 1, 1, 0), ('mono R', 2, 2, 0), ('italic 7', 3, 1, 0), ('oblique A', 0, 2, 0)]
    assert [tuple(h) for h in glyph_captions.HELD_OUT] == [
        ('G', 'weight', 'bold'), ('R', 'family', 'mono'), ('7', 'style', 'italic'),
        ('A', 'style', 'oblique')]
