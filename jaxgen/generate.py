"""Generate from a condition with a trained conditional model: text (the text-to-image
GAN) or key patches (Puzzle-GAN).

    python -m jaxgen.generate --workdir runs/t2i/gan_int_cls --text "a thick seven slanted to the left"
    python -m jaxgen.generate --workdir runs/t2i/gan_int_cls --text "a thin one standing upright" \\
        --text "a medium two slanted to the right" --num 8 --out captions.png
    python -m jaxgen.generate --workdir runs/puzzlegan --patches test:12
    python -m jaxgen.generate --workdir runs/puzzlegan --image digit.png --boxes "2,3,8,8;14,10,8,8"

A model says what it generates from in its bundle's ``conditions``: ``('chars',)`` for
text read by character, ``('tokens',)`` by word (``data/text.py``), ``('patches',)`` for
key patches (``{'patches': float32 [B, P, s, s, C] in [-1, 1], 'boxes': int32 [B, P,
4]}``). ``--text`` (repeatable) draws ``--num`` images per caption, one row each;
``--patches SPLIT:INDEX`` takes the stored key patches of that example of the run's
dataset, ``--image FILE --boxes "top,left,h,w;..."`` crops them from an image
(``--resize``/``--channels`` as in ``jaxgen.translate``); ``--num`` completions each.
Writes one PNG grid (``--out``, default ``<workdir>/generated.png``).

Bad input is one line and writes nothing: characters outside the text encoder's
vocabulary (named; for a word-level encoder, words outside it), an empty caption, a
caption longer than the model reads, boxes outside the image or patches larger than it, a
workdir whose model takes no text (or no patches). Words the captions never used are
allowed and reported in one info line (by a character-level encoder, which can read them).
"""

from __future__ import annotations

import re

import jax
import numpy as np
from absl import app, flags, logging

from jaxgen import cli, visualisation
from jaxgen.data import text as text_lib
from jaxgen.errors import JaxgenError
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.restore import load
from jaxgen.translate import read_image
from jaxgen.visualisation.grid import labelled_grid

PATCHES = re.compile(r'^(train|test):(\d+)$')


def define_flags() -> None:
    flags.DEFINE_string('workdir', None, 'A training workdir of a conditional model.')
    flags.DEFINE_multi_string('text', [], 'A caption (text-to-image models); repeatable.')
    flags.DEFINE_string('patches', None, 'SPLIT:INDEX: that example\'s stored key patches.')
    flags.DEFINE_string('image', None, 'An image file to crop key patches from (--boxes).')
    flags.DEFINE_string('boxes', None, '"top,left,height,width;..." boxes in --image.')
    flags.DEFINE_integer('num', 16, 'Images per condition.')
    flags.DEFINE_string('out', None, 'Output PNG (default <workdir>/generated.png).')
    flags.DEFINE_bool('resize', False, 'Resize --image to the model\'s image size.')
    flags.DEFINE_bool('channels', False, 'Convert --image to the model\'s channel count.')
    flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
    flags.DEFINE_integer('seed', 0, 'Seed of the latent draws.')
    flags.mark_flags_as_required(['workdir'])


def require(model, condition: str, workdir: str, name: str) -> str:
    """``condition`` (``'text'``: whichever of ``chars`` and ``tokens`` the model takes, or
    ``'patches'``) as the model's ``conditions`` name it; one line if it takes none."""
    takes = tuple(getattr(model, 'conditions', ()))
    fields = text_lib.FIELDS if condition == 'text' else (condition,)
    found = [c for c in takes if c in fields]
    if found:
        return found[0]
    what = {'text': 'text', 'patches': 'key patches'}[condition]
    raise JaxgenError(f'{workdir} holds a {name} model, which does not generate from '
                      f'{what}' + (f' (it takes {", ".join(takes)})' if takes else
                                   '; use python -m jaxgen.sample'))


def encode_text(text: str, data_info, level: str = 'char') -> tuple[np.ndarray, list[str]]:
    """``(ids int32 [length], words the captions never used)`` of a caption at ``level``
    (``data/text.py``: characters of ``data_info['char_vocabulary']`` or words of its
    ``word_vocabulary``); one line for an empty caption, a character (word) outside the
    vocabulary, named, or a caption too long."""
    return text_lib.spec(data_info, level, 'python -m jaxgen.generate --text').encode(text)


def parse_boxes(spec: str) -> np.ndarray:
    try:
        boxes = [[int(v) for v in box.split(',')] for box in spec.split(';') if box.strip()]
    except ValueError as e:
        raise JaxgenError(f'--boxes {spec!r}: write integers "top,left,height,width;..."') from e
    if not boxes or any(len(b) != 4 for b in boxes):
        raise JaxgenError(f'--boxes {spec!r}: write "top,left,height,width" per box, boxes '
                          'separated by ";"')
    return np.array(boxes, np.int32)


def crop_patches(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """float32 ``[P, s, s, C]`` crops of ``image`` ``[H, W, C]``; one line for boxes that
    are not equal squares, larger than the image or outside it."""
    h, w = image.shape[:2]
    sizes = {(int(b[2]), int(b[3])) for b in boxes}
    if len(sizes) != 1 or len({*sizes.pop()}) != 1:
        raise JaxgenError(f'key patches are equal squares; the boxes have heights and widths '
                          f'{sorted({(int(b[2]), int(b[3])) for b in boxes})}')
    side = int(boxes[0, 2])
    if side > min(h, w) or side < 1:
        raise JaxgenError(f'patches of {side} px are larger than the {h}x{w} image')
    for top, left, bh, bw in boxes.tolist():
        if top < 0 or left < 0 or top + bh > h or left + bw > w:
            raise JaxgenError(f'box ({top}, {left}, {bh}, {bw}) (top, left, height, width) '
                              f'lies outside the {h}x{w} image')
    return np.stack([image[t:t + bh, l:l + bw] for t, l, bh, bw in boxes.tolist()])


def stored_patches(exp, spec: str) -> tuple[np.ndarray, np.ndarray]:
    """One example's stored ``(patches [P, s, s, C] in [-1, 1], boxes [P, 4])``."""
    match = PATCHES.match(spec)
    if not match:
        raise JaxgenError(f'--patches {spec!r}: write SPLIT:INDEX, e.g. test:12')
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    split, index = match.group(1), int(match.group(2))
    arrays = data.load(exp.config.data, split).arrays
    if 'patches' not in arrays:
        raise JaxgenError(f'the {split} split of this run\'s dataset has no stored key patches')
    if index >= len(arrays['patches']):
        raise JaxgenError(f'--patches {spec}: the {split} split has {len(arrays["patches"])} '
                          'examples')
    patches = arrays['patches'][index]
    patches = patches.astype(np.float32) / 127.5 - 1.0 if patches.dtype == np.uint8 else patches
    return patches, np.asarray(arrays['boxes'][index], np.int32)


def generate(workdir: str, texts=(), patches: str | None = None, image: str | None = None,
             boxes: str | None = None, num: int = 16, out: str | None = None,
             resize: bool = False, channels: bool = False, step: int | None = None,
             seed: int = 0) -> str:
    if num < 1:
        raise JaxgenError(f'--num must be at least 1, got {num}')
    given = [n for n, v in (('--text', texts), ('--patches', patches), ('--image', image)) if v]
    if len(given) != 1:
        raise JaxgenError('pass --text (captions), --patches SPLIT:INDEX or --image FILE '
                          f'--boxes ...; got {", ".join(given) or "none"}')
    if (image is None) != (boxes is None):
        raise JaxgenError('--image and --boxes go together')
    exp, state, step = load(workdir, step)
    model, name = exp.model, exp.config.model.name
    if texts:
        field = require(model, 'text', workdir, name)
        encoded = [encode_text(t, exp.data_info, text_lib.LEVEL_OF[field]) for t in texts]
        unused = sorted({w for _, words in encoded for w in words})
        if unused:
            logging.info('words the training captions never used: %s', ', '.join(unused))
        rows = [' '.join(t.split()) for t in texts]
        inputs = [{field: np.repeat(ids[None], num, 0)} for ids, _ in encoded]
    else:
        require(model, 'patches', workdir, name)
        if patches:
            parts, where = stored_patches(exp, patches)
            rows = [f'{patches}']
        else:
            shape = tuple(exp.data_info['shape'])
            where = parse_boxes(boxes)
            parts = crop_patches(read_image(image, shape, resize, channels), where)
            rows = [image]
        inputs = [{'patches': np.repeat(parts[None], num, 0),
                   'boxes': np.repeat(where[None], num, 0)}]
    variables = exp.variables(state)
    key = jax.random.key(seed)
    made = np.stack([np.asarray(model.generate(variables, i, key)) for i in inputs])
    out = out or str(workdir_lib.resolve(workdir) / 'generated.png')  # only now: all checked
    visualisation.save_png(out, labelled_grid(made, row_labels=rows, cell_px=40))
    logging.info('generated %d image(s) per condition from %s (step %d): %s', num, workdir,
                 step, out)
    return out


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    cli.run_or_explain(lambda: generate(f.workdir, f.text, f.patches, f.image, f.boxes, f.num,
                                        f.out, f.resize, f.channels, f.step, f.seed))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
