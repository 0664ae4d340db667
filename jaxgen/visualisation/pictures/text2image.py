"""Text-to-image GAN pictures (Reed et al., 2016): captions → samples (one row per caption
of the data, the same noise down each column), an interpolation between two captions'
embeddings (the paper's Figure 5; the same noise along each row), the zero-shot captions
(the held-out attribute-class combinations: captioned_mnist's ``captions.HELD_OUT``,
captioned_glyphs' ``glyph_captions.HELD_OUT``) and, for
a model with an inverse network, style transfer (the paper's Figure 6: z = S(x) of real
images, then new captions)."""

from __future__ import annotations

import numpy as np

from jaxgen.data.derived import captions as captions_lib
from jaxgen.data.derived import glyph_captions
from jaxgen.visualisation.grid import labelled_grid

COLUMNS = 8
ROWS = 8


def caption_text(model, chars) -> str:
    """The text of one row of the model's text ids (characters or words)."""
    return model.text.decode(chars)


def encoded(model, sentence: str) -> np.ndarray:
    """A caption of the data's template as the model reads it (characters or words)."""
    return model.text.encode(sentence)[0]


def distinct_captions(examples, num: int, field: str = 'chars') -> np.ndarray:
    """Up to ``num`` distinct caption rows ``[n, L]`` of the examples, in order."""
    chars = np.asarray(examples[field])
    _, first = np.unique(chars, axis=0, return_index=True)
    return chars[np.sort(first)[:num]]


def zero_shot_captions(model) -> np.ndarray:
    """captioned_mnist's held-out combinations, the other attribute in its middle bin."""
    rows = []
    for attribute, word, digit in captions_lib.HELD_OUT:
        t = captions_lib.THICKNESS.index(word) if attribute == 'thickness' else 1
        s = captions_lib.SLANT.index(word) if attribute == 'slant' else 1
        rows.append(encoded(model, captions_lib.caption(digit, t, s)))
    return np.stack(rows)


def glyph_zero_shot_captions(model) -> np.ndarray:
    """captioned_glyphs' held-out combinations, each completed with the other attributes
    of the first font that has the held-out value (bold G: DejaVu Sans Bold's 'bold
    upright sans'), so that every caption describes a face that exists."""
    fonts = model.data_info['font_attributes']
    rows = []
    for character, attribute, value in glyph_captions.HELD_OUT:
        face = next(f for f in fonts.values() if f[attribute] == value)
        rows.append(encoded(model, glyph_captions.caption(
            character, face['family'], face['weight'], face['style'])))
    return np.stack(rows)


ZERO_SHOT = {'captioned_mnist': zero_shot_captions, 'captioned_glyphs': glyph_zero_shot_captions}


def rows_of(model, variables, key, chars: np.ndarray, name: str, title: str):
    """One row per caption, the same ``COLUMNS`` latents in every row."""
    z = np.tile(np.asarray(model.sample_latent(key, COLUMNS)), (len(chars), 1))
    e = np.asarray(model.embed(variables, np.repeat(chars, COLUMNS, 0)))
    images = np.asarray(model.decode(variables, z, e))
    images = images.reshape(len(chars), COLUMNS, *images.shape[1:])
    return {name: labelled_grid(images, row_labels=[caption_text(model, c) for c in chars],
                                title=title, cell_px=40)}


def interpolation(model, variables, key, chars: np.ndarray):
    """G along β·e1 + (1 − β)·e2 between two captions' embeddings, one z per row."""
    steps = np.linspace(1.0, 0.0, COLUMNS, dtype=np.float32)
    e1, e2 = np.asarray(model.embed(variables, chars[:2]))
    e = (steps[:, None] * e1 + (1.0 - steps[:, None]) * e2)
    rows = 4
    z = np.repeat(np.asarray(model.sample_latent(key, rows)), COLUMNS, 0)
    images = np.asarray(model.decode(variables, z, np.tile(e, (rows, 1))))
    images = images.reshape(rows, COLUMNS, *images.shape[1:])
    a, b = caption_text(model, chars[0]), caption_text(model, chars[1])
    return {'interpolation': labelled_grid(
        images, col_labels=[f'{s:.2f}' for s in steps], row_labels=[f'z{i}' for i in range(rows)],
        title='β·φ(a) + (1−β)·φ(b), columns: β', xlabel=f'a: {a}\nb: {b}', cell_px=48)}


def style_transfer(model, variables, examples, chars: np.ndarray):
    """z = S(x) of real images (first column), then G(z, φ(t)) for each caption t."""
    real = np.asarray(examples['image'][:4], np.float32)
    z = np.asarray(model.invert(variables, real))
    e = np.asarray(model.embed(variables, chars))
    made = np.asarray(model.decode(variables, np.repeat(z, len(chars), 0),
                                   np.tile(e, (len(real), 1))))
    made = made.reshape(len(real), len(chars), *made.shape[1:])
    images = np.concatenate([real[:, None], made], axis=1).swapaxes(0, 1)
    return {'style_transfer': labelled_grid(  # rows: captions (long labels fit as rows)
        images, row_labels=['real image x'] + [caption_text(model, c) for c in chars],
        title='columns: z = S(x); rows: G(z, new caption)', cell_px=48)}


def pictures(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    out = {}
    if examples is not None and model.text.field in examples:
        chars = distinct_captions(examples, ROWS, model.text.field)
        out.update(rows_of(model, variables, key, chars, 'samples',
                           'rows: captions of the data; columns: noise z'))
        if len(chars) >= 2:
            out.update(interpolation(model, variables, key, chars))
        if model.inverse is not None:
            out.update(style_transfer(model, variables, examples, chars[:4]))
    zero_shot = ZERO_SHOT.get(model.data_info.get('name'))
    if zero_shot is not None:
        out.update(rows_of(model, variables, key, zero_shot(model), 'zero_shot',
                           'held-out attribute-class combinations (never in training)'))
    return out
