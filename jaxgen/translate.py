"""Translate images with a trained translation model (pix2pix, CycleGAN, StarGAN).

    python -m jaxgen.translate --workdir runs/pix2pix --input sketches/*.png
    python -m jaxgen.translate --workdir runs/cyclegan --input split:test:16 --target BtoA
    python -m jaxgen.translate --workdir runs/stargan --input digit.png --target thick \\
        --target swell                                   # StarGAN: any target domains
    python -m jaxgen.translate --workdir runs/pix2pix --input photo.jpg --resize --channels

``--input`` takes image files (PNG, JPEG, anything Pillow reads) or
``split:<train|test>[:<n>]``: the first ``n`` (default 16) examples of that split of
the workdir's own dataset, in the field the target translates from. ``--target``
names what to make (default: every target made from the first target's domain):
pix2pix ``output``, CycleGAN ``AtoB`` (default) or ``BtoA``, StarGAN a domain name or
its index (default: every domain). Writes
``<out>/<input name>_<target>.png`` for each input and target, and
``<out>/translations.png``, one row per input (input, then each target); ``--out``
defaults to ``<workdir>/translated``. Bad input (another image size or channel
count without ``--resize``/``--channels``, an unknown target, a workdir whose model
does not translate) is one line, and nothing is written.
"""

from __future__ import annotations

import os
import re

import jax
import numpy as np
from absl import app, flags, logging
from PIL import Image

from jaxgen import cli, visualisation
from jaxgen.errors import JaxgenError
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.restore import load
from jaxgen.visualisation.grid import labelled_grid

SPLIT = re.compile(r'^split:(train|test)(?::(\d+))?$')


def define_flags() -> None:
    flags.DEFINE_string('workdir', None, 'A training workdir of a translation model.')
    flags.DEFINE_multi_string('input', [], 'Image files, or split:<train|test>[:<n>].')
    flags.DEFINE_multi_string('target', [], 'What to make: a target of the model (default all).')
    flags.DEFINE_string('out', None, 'Output folder (default <workdir>/translated).')
    flags.DEFINE_bool('resize', False, 'Resize inputs to the model\'s image size.')
    flags.DEFINE_bool('channels', False, 'Convert inputs to the model\'s channel count.')
    flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
    flags.DEFINE_integer('seed', 0, 'Seed of any noise the model draws.')
    flags.mark_flags_as_required(['workdir'])


def check_targets(model, targets: list[str]) -> list[str]:
    names = list(model.targets)
    if not targets:  # every target made from the first one's domain
        first = model.source_fields[names[0]]
        targets = [n for n in names if model.source_fields[n] == first]
    chosen = []
    for t in targets:
        if t.isdigit() and int(t) < len(names):
            t = names[int(t)]
        if t not in names:
            raise JaxgenError(f'--target {t!r} is not one of this model\'s targets: '
                              + ', '.join(f'{i} {n}' for i, n in enumerate(names)))
        chosen.append(t)
    return chosen


def read_image(path: str, shape, resize: bool, channels: bool) -> np.ndarray:
    """One file as float32 ``[H, W, C]`` in [-1, 1], checked against ``shape``."""
    try:
        image = Image.open(path)
        image.load()
    except (OSError, ValueError) as e:
        raise JaxgenError(f'cannot read image {path}: {e}') from e
    h, w, c = shape
    have = 1 if image.mode in ('L', '1', 'I', 'F') else 3
    if have != c and not channels:
        raise JaxgenError(f'{path} has {have} channel(s) but the model takes {c}: pass '
                          '--channels to convert it')
    image = image.convert('L' if c == 1 else 'RGB')
    if image.size != (w, h):
        if not resize:
            raise JaxgenError(f'{path} is {image.size[1]}x{image.size[0]} but the model '
                              f'translates {h}x{w} images: pass --resize to resize it')
        image = image.resize((w, h), Image.Resampling.LANCZOS)
    array = np.asarray(image, np.float32).reshape(h, w, c)
    return array / 127.5 - 1.0


def read_inputs(exp, inputs: list[str], field: str, resize: bool, channels: bool):
    """``(names, images [N, H, W, C])`` from files or one ``split:`` entry."""
    shape = tuple(exp.model.data_info['shape'])
    if len(inputs) == 1 and SPLIT.match(inputs[0]):
        from jaxgen import data  # pylint: disable=import-outside-toplevel
        split, n = SPLIT.match(inputs[0]).groups()
        n = int(n or 16)
        dataset = data.load(exp.config.data, split)
        if field not in dataset.arrays:
            raise JaxgenError(f'the {split} split of {dataset.name} has no {field!r} to '
                              f'translate from (it has {sorted(dataset.arrays)})')
        raw = dataset.arrays[field][:n]
        images = raw.astype(np.float32) / 127.5 - 1.0 if raw.dtype == np.uint8 else raw
        return [f'{split}_{i:04d}' for i in range(len(images))], images
    if not inputs or any(i.startswith('split:') for i in inputs):
        raise JaxgenError('--input takes image files, or one split:<train|test>[:<n>]')
    names = [os.path.splitext(os.path.basename(p))[0] for p in inputs]
    return names, np.stack([read_image(p, shape, resize, channels) for p in inputs])


def translate(workdir: str, inputs: list[str], targets: list[str], out: str | None = None,
              resize: bool = False, channels: bool = False, step: int | None = None,
              seed: int = 0) -> str:
    exp, state, step = load(workdir, step)
    model = exp.model
    if not hasattr(model, 'inputs_for'):
        raise JaxgenError(f'{workdir} holds a {exp.config.model.name} model, which does not '
                          'translate images; use python -m jaxgen.sample')
    targets = check_targets(model, targets)
    fields = {model.source_fields[t] for t in targets}
    if len(fields) > 1:
        raise JaxgenError(f'targets {targets} translate from different domains; pass one '
                          '--target at a time')
    names, images = read_inputs(exp, inputs, fields.pop(), resize, channels)
    variables = exp.variables(state)
    key = jax.random.key(seed)
    outputs = [np.asarray(model.generate(variables, model.inputs_for(images, t), key))
               for t in targets]
    out = str(out or workdir_lib.resolve(workdir) / 'translated')  # only now: all checked
    for t, made in zip(targets, outputs):
        for name, image in zip(names, made):
            visualisation.save_png(os.path.join(out, f'{name}_{t}.png'),
                                   visualisation.image_grid(image[None], padding=0))
    grid = labelled_grid(np.stack([images] + outputs, axis=1), col_labels=['input'] + targets,
                         row_labels=names, cell_px=48)
    visualisation.save_png(os.path.join(out, 'translations.png'), grid)
    logging.info('translated %d image(s) into %s with %s (step %d): %s', len(names),
                 ', '.join(targets), workdir, step, out)
    return out


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    cli.run_or_explain(lambda: translate(f.workdir, f.input, f.target, f.out, f.resize,
                                         f.channels, f.step, f.seed))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
