"""Sample from a trained model without training.

    python -m jaxgen.sample --workdir runs/dcgan --num 64 --out grid.png
    python -m jaxgen.sample --workdir runs/cgan --label 3      # conditional: class 3
    python -m jaxgen.sample --workdir runs/ring8 --seed_index 5  # one seed of num_seeds=8
    python -m jaxgen.sample --workdir runs/pixelcnn --pictures   # every picture the model draws

Reads ``<workdir>/config.json`` and the latest (or ``--step``) checkpoint; needs
neither the dataset nor TensorFlow. ``--pictures`` writes the pictures training writes
(completions, style mixing, reconstructions...) from that checkpoint into
``<workdir>/pictures_<step>/``, with up to 512 test examples where a picture reads data
(so it loads the test split).
"""

from __future__ import annotations

from absl import app, flags, logging

from jaxgen import cli
from jaxgen.errors import JaxgenError

# JAX and the model code (about 2 s to import) are imported where they are used, so a
# mistyped flag is answered at once. pylint: disable=import-outside-toplevel


def define_flags() -> None:
    """The command line's flags (defined on demand, so importing defines nothing)."""
    flags.DEFINE_string('workdir', None, 'A training workdir (holds config.json and checkpoints).')
    flags.DEFINE_integer('num', 64, 'Number of samples.')
    flags.DEFINE_string('out', None, 'Output PNG path (default <workdir>/sample.png).')
    flags.DEFINE_integer('seed', 0, 'Seed of the latent draws.')
    flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
    flags.DEFINE_integer('label', None, 'Class label of every sample, for a conditional '
                         'model (cgan); default: unconditional draws.')
    flags.DEFINE_integer('seed_index', None, 'Which seed of a many-seed run '
                         '(config.num_seeds > 1) to sample from.')
    flags.DEFINE_bool('pictures', False, 'Write every picture the model draws (as training '
                      'does) into <workdir>/pictures_<step>/ instead of one sample grid.')
    flags.DEFINE_bool('ema', True, 'The averaged weights where the run kept them; --noema: '
                      'the trained weights (pictures_<step>_raw/ with --pictures).')
    flags.mark_flags_as_required(['workdir'])


def sample(workdir: str, num: int, out: str, seed: int = 0, step: int | None = None,
           label: int | None = None, seed_index: int | None = None, ema: bool = True) -> str:
    if num < 1:
        raise JaxgenError(f'--num must be at least 1, got {num}')
    import jax
    import numpy as np
    from jaxgen import visualisation
    from jaxgen.training.restore import load
    exp, state, step = load(workdir, step, seed_index)
    inputs = {'num': num}
    if label is not None:
        classes = exp.data_info.get('num_classes')
        if not classes or not 0 <= label < classes:
            raise JaxgenError(f'--label {label}: the data has ' + (
                f'classes 0..{classes - 1}' if classes else 'no class labels'))
        inputs['label'] = np.full((num,), label, np.int32)
    samples = exp.model.generate(exp.variables(state, ema), inputs, jax.random.key(seed))
    image = visualisation.render_samples(jax.device_get(samples), exp.data_info)
    visualisation.save_png(out, image)
    logging.info('wrote %d samples from %s (step %d) to %s', num, workdir, step, out)
    return out


def pictures(workdir: str, out_dir: str | None = None, step: int | None = None,
             seed_index: int | None = None, ema: bool = True) -> list[str]:
    """The model's pictures from a checkpoint, drawn as training draws them, with test
    examples in place of training ones; into ``<outputs>/pictures_<step>[_raw]/`` (the
    seed's folder for a seed of a many-seed run); returns the PNG paths."""
    from jaxgen import data, visualisation
    from jaxgen.training import periodic
    from jaxgen.training import workdir as workdir_lib
    from jaxgen.training.restore import load
    exp, state, step = load(workdir, step, seed_index)
    examples = periodic.picture_examples(data.load(exp.config.data, 'test'), exp.seed)
    drawn = periodic.draw_pictures(exp, exp.variables(state, ema), examples)
    raw = '_raw' if state.ema and not ema else ''
    out = (workdir_lib.resolve(out_dir) if out_dir else
           workdir_lib.outputs(workdir, seed_index) / f'pictures_{step}{raw}')
    paths = []
    for name, image in drawn.items():
        paths.append(str(out / f'{name}.png'))
        visualisation.save_png(paths[-1], image)
    logging.info('wrote %s from %s (step %d) to %s', ', '.join(sorted(drawn)), workdir, step,
                 out)
    return paths


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    if f.pictures:
        cli.run_or_explain(lambda: pictures(f.workdir, f.out, f.step, f.seed_index, f.ema))
        return
    from jaxgen.training import workdir as workdir_lib
    out = f.out or str(workdir_lib.outputs(f.workdir, f.seed_index) / 'sample.png')
    cli.run_or_explain(lambda: sample(f.workdir, f.num, out, f.seed, f.step, f.label,
                                      f.seed_index, f.ema))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
