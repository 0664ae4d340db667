"""``python -m jaxgen.generate``: a text-to-image GAN trained 2 steps (its text encoder
frozen) draws PNG
grids from captions; its pictures are drawn; every kind of bad input is one line and
writes nothing."""

import os

import jax
import numpy as np
import pytest
from PIL import Image

from configs import text2image as t2i_config
from jaxgen import generate as gen
from jaxgen.data.derived import captions
from jaxgen.errors import JaxgenError
from jaxgen.models.conditional import text2image
from jaxgen.training import restore, train

INFO = {'char_vocabulary': list(captions.CHARS), 'max_chars': captions.MAX_CHARS,
        'word_vocabulary': list(captions.WORDS)}
needs_mnist = pytest.mark.skipif(not os.environ.get('JAXGEN_DATA_DIR'),
                                 reason='JAXGEN_DATA_DIR not set: no real MNIST for captions')
pytestmark = pytest.mark.xdist_group('generate')


def test_a_caption_is_encoded_as_the_data_encodes_it_and_new_words_are_reported():
    text = 'a thick seven slanted to the left'
    ids, unused = gen.encode_text('  A thick   SEVEN slanted to the left ', INFO)
    np.testing.assert_array_equal(ids, captions.encode_chars(text))
    assert unused == []
    _, unused = gen.encode_text('a bold seven', INFO)
    assert unused == ['bold']


@pytest.mark.parametrize('text, message', [
    ('a thick 7, slanted!', r"outside the text encoder's vocabulary: '!' ',' '7'"),
    ('   ', 'the caption is empty'),
    ('a ' * 30, 'has 59 characters; the model reads at most 35'),
])
def test_bad_captions_are_one_line(text, message):
    with pytest.raises(JaxgenError, match=message) as e:
        gen.encode_text(text, INFO)
    assert '\n' not in str(e.value)


@pytest.mark.parametrize('boxes, message', [
    ('0,0,8,8;1,2,8,6', 'equal squares'),
    ('0,0,20,20', 'patches of 20 px are larger than the 16x16 image'),
    ('10,-1,8,8', r'box \(10, -1, 8, 8\) .* lies outside the 16x16 image'),
    ('0,0,8', 'top,left,height,width'),
    ('a,b,c,d', 'write integers'),
])
def test_bad_boxes_are_one_line(boxes, message):
    image = np.zeros((16, 16, 1), np.float32)
    with pytest.raises(JaxgenError, match=message):
        gen.crop_patches(image, gen.parse_boxes(boxes))


def test_boxes_crop_their_patches():
    image = np.arange(16 * 16, dtype=np.float32).reshape(16, 16, 1)
    parts = gen.crop_patches(image, gen.parse_boxes('1,2,4,4;8,8,4,4'))
    np.testing.assert_array_equal(parts[0], image[1:5, 2:6])
    np.testing.assert_array_equal(parts[1], image[8:12, 8:12])


def test_a_word_level_model_reads_words_and_names_those_it_cannot():
    class Words:  # a text-to-image model with model.text_level='word'
        conditions = ('tokens',)
    assert gen.require(Words(), 'text', 'runs/x', 'text2image') == 'tokens'
    info = {**INFO, 'max_words': captions.MAX_WORDS}
    ids, unused = gen.encode_text('A thick  SEVEN slanted to the left', info, 'word')
    np.testing.assert_array_equal(ids, captions.encode('a thick seven slanted to the left'))
    assert unused == []
    with pytest.raises(JaxgenError, match="words outside the text encoder's vocabulary: 'bold'"):
        gen.encode_text('a bold seven', info, 'word')


def test_a_model_that_takes_no_text_or_no_patches_is_one_line():
    class Text:  # noqa: D401  (a bundle's declaration is all that is read)
        conditions = ('chars',)
    with pytest.raises(JaxgenError, match='does not generate from key patches'):
        gen.require(Text(), 'patches', 'runs/x', 'text2image')
    with pytest.raises(JaxgenError, match='does not generate from text; use python -m '
                                          'jaxgen.sample'):
        gen.require(object(), 'text', 'runs/x', 'dcgan')


def tiny(**overrides):
    c = t2i_config.get_config('captioned_mnist,gan_int_cls,inverse')
    c.model.update(features=4, d_features=4, text_features=4, embed_dim=8,
                   encoder_features=4, latent_dim=4)
    c.batch_size, c.num_steps = 4, 2
    c.sample_every = c.checkpoint_every = 2
    c.update(overrides)
    return c


@pytest.fixture(scope='module')
def gan(tmp_path_factory):
    """A GAN-INT-CLS with an inverse trained 2 steps, tiny, its text encoder frozen. One
    run: where the encoder comes from (``init_from``, tests/test_pretrained.py) is not
    what is tested here, so the run is let start from its own initial encoder."""
    workdir = str(tmp_path_factory.mktemp('t2i') / 'gan')
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text2image.Text2Image, 'pretrained', ())
        c = tiny()
        c.init_from = {}
        train(c, workdir)
    return workdir


# Slow: it loads the whole captioned_mnist train split, whose morphometrics took 200 s on
# a fresh cache. Covered by test_pretrained.py (a required pretrained player without a
# source is one line, before the workdir is touched) and test_text2image.py (the bundle
# declares its text encoder pretrained).
@pytest.mark.slow
@needs_mnist
def test_a_run_without_its_trained_encoder_is_refused_in_one_line(tmp_path):
    c = tiny()
    c.init_from = {}
    with pytest.raises(JaxgenError, match='text_encoder trained first') as e:
        train(c, str(tmp_path / 'run'))
    assert '\n' not in str(e.value) and not (tmp_path / 'run').exists()


# The slow tier (a 2-step train() and the CLI on it): the properties are also checked
# faster, by tests/test_text2image.py (no gradient reaches the text encoder, generate's
# shapes), tests/test_pretrained.py (a frozen player never moves) and the unit tests above.
@pytest.mark.slow
@needs_mnist
def test_the_frozen_encoder_never_moves_and_the_pictures_are_drawn(gan):
    exp, state, step = restore.load(gan)
    assert step == 2
    start = exp.init_state().params
    for a, b in zip(jax.tree.leaves(state.params['text_encoder']),
                    jax.tree.leaves(start['text_encoder']), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(  # while G trained
        jax.tree.leaves(state.params['generator']), jax.tree.leaves(start['generator'])))
    names = os.listdir(os.path.join(gan, 'pictures'))
    for picture in ('samples', 'interpolation', 'zero_shot', 'style_transfer'):
        assert any(picture in n for n in names), (picture, names)


@pytest.mark.slow
@needs_mnist
def test_captions_become_a_png_grid_and_bad_input_writes_nothing(gan, tmp_path):
    out = gen.generate(gan, ['a thick seven slanted to the left', 'a bold one'], num=3,
                       out=str(tmp_path / 'g.png'))
    assert Image.open(out).size[0] > 3 * 28
    bad = tmp_path / 'bad.png'
    for kwargs, message in (({'texts': ['a s€ven']}, "'€'"),
                            ({'texts': ['']}, 'empty'),
                            ({'patches': 'test:1'}, 'does not generate from key patches'),
                            ({}, 'pass --text')):
        with pytest.raises(JaxgenError, match=message):
            gen.generate(gan, out=str(bad), **kwargs)
    assert not bad.exists()
