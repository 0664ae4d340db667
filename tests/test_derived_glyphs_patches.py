"""Tests of the glyphs dataset (characters of matplotlib's fonts) and of key patches."""

from __future__ import annotations

import os

import chex
import numpy as np
import pytest

from jaxgen.data.derived import glyphs, patches
from jaxgen.errors import JaxgenError


def font(stem: str) -> str:
    return os.path.join(glyphs.font_dir(), stem + '.ttf')


# Glyphs.

@pytest.fixture(scope='module')
def test_split(tmp_path_factory):
    return glyphs.glyphs({'cache_dir': str(tmp_path_factory.mktemp('glyphs'))}, 'test', None)


def test_every_character_and_font_is_present_and_non_empty(test_split):
    arrays, info = test_split
    fonts, classes = info['domain_names'], info['class_names']
    assert classes == list(glyphs.CHARACTERS)
    families = ('DejaVuSans', 'DejaVuSerif', 'DejaVuSansMono', 'STIXGeneral', 'cmr10',
                'cmb10', 'cmss10', 'cmti10', 'cmtt10')
    assert set(families) <= set(fonts) and len(fonts) >= 20
    chex.assert_shape(arrays['image'], (len(fonts) * len(classes) * glyphs.NUM_TEST, 28, 28, 1))
    counts = np.zeros((len(fonts), len(classes)), int)
    np.add.at(counts, (arrays['domain'], arrays['label']), 1)
    assert (counts == glyphs.NUM_TEST).all()
    ink = arrays['image'].reshape(len(arrays['image']), -1)
    assert (ink.max(1) > 200).all() and ((ink > 0).mean(1) > 0.02).all()
    # Not touching the frame: centred with room to spare.
    assert not arrays['image'][:, 0].any() and not arrays['image'][:, :, 0].any()


def test_fonts_without_the_characters_are_skipped(test_split):
    _, info = test_split
    skipped = info['skipped_fonts']
    for stem in ('cmex10', 'cmsy10', 'LastResortHE-Regular', 'STIXSizOneSymReg',
                 'DejaVuSansDisplay', 'STIXNonUni'):
        assert stem in skipped and stem not in info['domain_names']
    assert "'parenrightbt'" in skipped['cmex10']


def test_a_notdef_box_is_rejected(monkeypatch):
    from PIL import ImageFont  # pylint: disable=import-outside-toplevel
    box = glyphs._render(ImageFont.truetype(font('DejaVuSans'), glyphs.RENDER_PX),
                         glyphs.NOTDEF_PROBE)
    assert box.size and box.max() == 255  # the probe does draw the .notdef box
    monkeypatch.setattr(glyphs, 'glyph_name', lambda char: '')  # pass the name check
    inks, why = glyphs.masters(font('DejaVuSans'), glyphs.NOTDEF_PROBE)
    assert inks is None and '.notdef' in why
    monkeypatch.undo()
    inks, why = glyphs.masters(font('DejaVuSans'), 'AB')
    assert len(inks) == 2 and why == ''


def test_glyphs_are_deterministic_and_the_splits_differ():
    one, _ = glyphs.render('train', [font('cmr10')], 'AQ8')
    two, info = glyphs.render('train', [font('cmr10')], 'AQ8')
    test, _ = glyphs.render('test', [font('cmr10')], 'AQ8')
    np.testing.assert_array_equal(one['image'], two['image'])
    assert len(one['image']) == 3 * glyphs.NUM_TRAIN and len(test['image']) == 3 * glyphs.NUM_TEST
    flat = {x.tobytes() for x in one['image']}
    assert len(flat) == len(one['image'])  # the jitter makes every example different
    assert not flat & {x.tobytes() for x in test['image']}
    assert info['class_names'] == ['A', 'Q', '8'] and info['domain_names'] == ['cmr10']


# Key patches.

def ink_images(n: int = 64, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Black images with a bright 6x6 square somewhere in the right half."""
    rng = np.random.default_rng(seed)
    image = np.zeros((n, 28, 28, channels), np.uint8)
    for i in range(n):
        t, l = rng.integers(0, 22), rng.integers(14, 22)
        image[i, t:t + 6, l:l + 6] = rng.integers(100, 256, channels)
    return image


@pytest.mark.parametrize('channels', [1, 3])
def test_patches_are_the_pixels_under_their_boxes(channels):
    images = ink_images(channels=channels)
    arrays = {'image': images, 'label': np.arange(64, dtype=np.int32)}
    out = patches.add_patches(arrays, 3, 10, seed=1)
    assert set(out) == {'image', 'label', 'patches', 'boxes'} and 'patches' not in arrays
    chex.assert_shape(out['patches'], (64, 3, 10, 10, channels))
    chex.assert_shape(out['boxes'], (64, 3, 4))
    assert out['patches'].dtype == np.uint8 and out['boxes'].dtype == np.int32
    for i in range(64):
        for p in range(3):
            t, l, h, w = out['boxes'][i, p]
            assert (h, w) == (10, 10) and 0 <= t <= 18 and 0 <= l <= 18
            np.testing.assert_array_equal(out['patches'][i, p], images[i, t:t + h, l:l + w])
    again = patches.add_patches(arrays, 3, 10, seed=1)
    np.testing.assert_array_equal(again['boxes'], out['boxes'])
    other = patches.add_patches(arrays, 3, 10, seed=2)
    assert (other['boxes'] != out['boxes']).any()


def test_patches_prefer_content():
    images = ink_images(256)
    boxes = patches.add_patches({'image': images}, 3, 8, seed=0)['boxes']
    sums = patches.content_sums(images, 8)
    chosen = sums[np.arange(256)[:, None], boxes[..., 0], boxes[..., 1]]
    rng = np.random.default_rng(5)
    uniform = sums[np.arange(256)[:, None], rng.integers(0, 21, (256, 3)),
                   rng.integers(0, 21, (256, 3))]
    assert (chosen > 0).all()  # every patch has ink, as there are enough such boxes
    assert chosen.mean() > 2 * uniform.mean()
    # Without replacement: the boxes of one image differ.
    tops_lefts = boxes[..., 0] * 100 + boxes[..., 1]
    assert (np.sort(tops_lefts, 1)[:, 1:] != np.sort(tops_lefts, 1)[:, :-1]).all()
    # An empty image still gets (uniform) boxes, and a nearly empty one its inked boxes.
    empty = np.zeros((1, 28, 28, 1), np.uint8)
    dot = empty.copy()
    dot[0, 27, 27] = 255
    assert patches.add_patches({'image': empty}, 3, 8)['boxes'].shape == (1, 3, 4)
    corner = patches.add_patches({'image': dot}, 3, 8)['boxes'][0]
    assert (corner[0, :2] == 20).all()  # the one box holding the dot comes first


def test_content_sums_are_box_sums_around_the_median():
    images = np.full((2, 9, 9, 3), 255, np.uint8)  # white background, dark mark
    images[0, 2:4, 3:5] = 0
    sums = patches.content_sums(images, 3)
    chex.assert_shape(sums, (2, 7, 7))
    assert sums[1].max() == 0 and sums[0, 2, 3] == 4 * 3 * 255 and sums[0, 6, 0] == 0


@pytest.mark.parametrize('num,size,field', [(0, 8, 'image'), (3, 29, 'image'),
                                            (3, 0, 'image'), (3, 8, 'image_a'),
                                            (2.5, 8, 'image'), (5, 27, 'image'),
                                            (1, 30, 'image')])
def test_bad_patch_settings_are_one_line_errors(num, size, field):
    with pytest.raises(JaxgenError) as error:
        patches.add_patches({'image': ink_images(4)}, num, size, field=field)
    assert str(error.value) and '\n' not in str(error.value)
