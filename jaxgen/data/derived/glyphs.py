"""Glyphs: characters rendered from the fonts inside matplotlib's wheel, a multi-domain set in
which the font is the domain and the character the content.

Every ``.ttf`` in ``matplotlib/mpl-data/fonts/ttf`` (DejaVu Sans/Serif/Mono with their bold
and oblique faces, STIX General, Computer Modern cmr10/cmb10/cmss10/cmti10/cmtt10/cmmi10)
renders :data:`CHARACTERS` (26 capitals and 10 digits: ``label`` indexes
``info['class_names']``) with Pillow's ``ImageFont.truetype``. A font is a domain
(``domain`` indexes ``info['domain_names']``, the file stems) only if it has every
character: its character map must send the character to a glyph of that name ('A',
'zero'; 'zerooldstyle' counts), the rendering must be non-empty, differ from the font's
.notdef box, and differ from the font's other characters. The others (the symbol and size
variants of STIX, cmex10, cmsy10, the Display and Last Resort fonts) are listed in
``info['skipped_fonts']`` with the reason.

Each (font, character) is rendered once at :data:`RENDER_PX`, cropped to its ink bounding
box and then, per example, resized (Lanczos) so its longest side is ``BOX * s`` pixels
(``s`` uniform in :data:`SCALE`), centred by bounding box in a 28x28 frame (MNIST's 20-px box
in 28) and shifted by up to :data:`SHIFT` pixels each way, to a quarter pixel (drawn 4x
larger, then box-averaged): white ink on black, uint8. Each pair gets ``NUM_TRAIN +
NUM_TEST`` examples from ``numpy.random.default_rng([SEED, crc32(font), character index])``,
at as many different quarter-pixel shifts, so no two are the same image: the first 20 are
the train split, the last 5 the test split. For 32x32 set ``config.data.resize=32``.
"""

from __future__ import annotations

import os
import string
import zlib
from typing import Any, Callable, Sequence

import numpy as np

from jaxgen.data.derived import cache

CHARACTERS = string.ascii_uppercase + string.digits
DIGIT_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
SIZE = 28
BOX = 20
RENDER_PX = 64
SCALE = (0.8, 1.05)
SHIFT = 2.0
SUPERSAMPLE = 4
NUM_TRAIN, NUM_TEST = 20, 5
SEED = 0
NOTDEF_PROBE = '\U0010fffd'  # a private-use code point no font here maps


def font_dir() -> str:
    import matplotlib  # pylint: disable=import-outside-toplevel
    return os.path.join(matplotlib.get_data_path(), 'fonts', 'ttf')


def font_paths() -> list[str]:
    folder = font_dir()
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith('.ttf')]


def glyph_name(char: str) -> str:
    return DIGIT_NAMES[int(char)] if char.isdigit() else char


def _render(font, char: str) -> np.ndarray:
    """The character's ink, cropped to its bounding box (``[0, 0]`` when empty)."""
    from PIL import Image, ImageDraw  # pylint: disable=import-outside-toplevel
    canvas = Image.new('L', (3 * RENDER_PX, 3 * RENDER_PX), 0)
    ImageDraw.Draw(canvas).text((RENDER_PX, RENDER_PX), char, fill=255, font=font)
    ink = np.asarray(canvas)
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not rows.size:
        return np.zeros((0, 0), np.uint8)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def masters(path: str, characters: str = CHARACTERS) -> tuple[list[np.ndarray] | None, str]:
    """(the cropped renderings of ``characters``, '') or (None, why the font is skipped)."""
    from fontTools.ttLib import TTFont  # pylint: disable=import-outside-toplevel
    from PIL import ImageFont  # pylint: disable=import-outside-toplevel
    cmap = TTFont(path, lazy=True).getBestCmap() or {}
    font = ImageFont.truetype(path, RENDER_PX)
    notdef = _render(font, NOTDEF_PROBE)
    out = []
    for char in characters:
        name = cmap.get(ord(char), '').split('.')[0]
        if name not in (glyph_name(char), glyph_name(char) + 'oldstyle'):
            return None, f'maps {char!r} to glyph {name or "(none)"!r}'
        ink = _render(font, char)
        if not ink.size or ink.max() == 0:
            return None, f'renders {char!r} empty'
        if ink.shape == notdef.shape and np.array_equal(ink, notdef):
            return None, f'renders {char!r} as its .notdef box'
        out.append(ink)
    if len({(m.shape, m.tobytes()) for m in out}) < len(out):
        return None, 'renders different characters identically'
    return out, ''


def jittered(ink: np.ndarray, scale: float, dy: float, dx: float,
             size: int = SIZE) -> np.ndarray:
    """``ink`` resized to longest side ``BOX * scale``, centred in ``size`` and shifted by
    (``dy``, ``dx``) pixels, to a quarter pixel: drawn at :data:`SUPERSAMPLE` times the size,
    then box-averaged."""
    from PIL import Image  # pylint: disable=import-outside-toplevel
    h, w, big = *ink.shape, size * SUPERSAMPLE
    factor = BOX * SUPERSAMPLE * scale / max(h, w)
    nh, nw = max(1, round(h * factor)), max(1, round(w * factor))
    glyph = np.asarray(Image.fromarray(ink).resize((nw, nh), Image.Resampling.LANCZOS))
    top = int(np.clip((big - nh) // 2 + round(dy * SUPERSAMPLE), 0, big - nh))
    left = int(np.clip((big - nw) // 2 + round(dx * SUPERSAMPLE), 0, big - nw))
    canvas = np.zeros((big, big), np.uint8)
    canvas[top:top + nh, left:left + nw] = glyph
    return np.asarray(Image.fromarray(canvas).reduce(SUPERSAMPLE))


def jitters(rng: np.random.Generator, n: int) -> list[tuple[float, float, float]]:
    """``n`` (scale, dy, dx): scales uniform in :data:`SCALE`, shifts on ``n`` different
    quarter-pixel offsets within :data:`SHIFT`, so that no two examples are the same."""
    steps = int(SHIFT * SUPERSAMPLE)
    side = 2 * steps + 1
    cells = rng.choice(side * side, n, replace=False)
    scales = rng.uniform(*SCALE, n)
    return [(float(s), (c // side - steps) / SUPERSAMPLE, (c % side - steps) / SUPERSAMPLE)
            for s, c in zip(scales, cells)]


def render(split: str, paths: Sequence[str] | None = None, characters: str = CHARACTERS,
           seed: int = SEED) -> tuple[dict, dict]:
    """(arrays, info) of ``split`` over the fonts in ``paths`` (default: matplotlib's)."""
    kept, skipped, images, labels, domains = [], {}, [], [], []
    for path in font_paths() if paths is None else paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        inks, why = masters(path, characters)
        if inks is None:
            skipped[stem] = why
            continue
        for c, ink in enumerate(inks):
            rng = np.random.default_rng([seed, zlib.crc32(stem.encode()), c])
            params = jitters(rng, NUM_TRAIN + NUM_TEST)
            params = params[:NUM_TRAIN] if split == 'train' else params[NUM_TRAIN:]
            images += [jittered(ink, *p) for p in params]
            labels += [c] * len(params)
            domains += [len(kept)] * len(params)
        kept.append(stem)
    arrays = {'image': np.asarray(images, np.uint8).reshape(-1, SIZE, SIZE, 1),
              'label': np.asarray(labels, np.int32), 'domain': np.asarray(domains, np.int32)}
    return arrays, _info(split, kept, skipped, characters, seed, arrays)


def _info(split, kept, skipped, characters, seed, arrays) -> dict:
    import matplotlib  # pylint: disable=import-outside-toplevel
    import PIL  # pylint: disable=import-outside-toplevel
    from PIL import features  # pylint: disable=import-outside-toplevel
    return {
        'name': 'glyphs', 'kind': 'images', 'split': split,
        'source': f'the .ttf fonts of matplotlib {matplotlib.__version__} '
                  f'(mpl-data/fonts/ttf), rendered by Pillow {PIL.__version__} with '
                  f'FreeType {features.version("freetype2")}',
        'recipe': f'render at {RENDER_PX} px, crop to the ink box, resize (Lanczos) to a '
                  f'longest side of {BOX}*scale px, centre in {SIZE}x{SIZE}, shift (at '
                  f'{SUPERSAMPLE}x, then box-averaged; a different shift per example); '
                  f'first {NUM_TRAIN} examples per (font, character) train, last '
                  f'{NUM_TEST} test',
        'parameters': {'render_px': RENDER_PX, 'box': BOX, 'scale': list(SCALE),
                       'shift': SHIFT, 'supersample': SUPERSAMPLE, 'num_train': NUM_TRAIN,
                       'num_test': NUM_TEST,
                       'rng': 'numpy.random.default_rng([seed, crc32(font), char index])'},
        'seed': seed, 'num_examples': int(arrays['label'].shape[0]),
        'num_classes': len(characters), 'class_names': list(characters),
        'domain_names': kept, 'skipped_fonts': skipped, 'shape': [SIZE, SIZE, 1],
    }


def glyphs(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """Characters (``label``) in matplotlib's fonts (``domain``); ``base`` is unused."""
    del base
    return cache.cached(cache.cache_dir_of(config), 'glyphs', split,
                        lambda: render(split))
