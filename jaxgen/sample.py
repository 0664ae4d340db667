"""Sample from a trained model without training.

    python -m jaxgen.sample --workdir runs/dcgan --num 64 --out grid.png

Reads ``<workdir>/config.json`` and the latest (or ``--step``) checkpoint; needs
neither the dataset nor TensorFlow.
"""

from __future__ import annotations

import jax
from absl import app, flags, logging

from jaxgen import cli
from jaxgen import visualisation
from jaxgen.errors import JaxgenError
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.restore import load


def define_flags() -> None:
    """The command line's flags (defined on demand, so importing defines nothing)."""
    flags.DEFINE_string('workdir', None, 'A training workdir (holds config.json and checkpoints).')
    flags.DEFINE_integer('num', 64, 'Number of samples.')
    flags.DEFINE_string('out', None, 'Output PNG path (default <workdir>/sample.png).')
    flags.DEFINE_integer('seed', 0, 'Seed of the latent draws.')
    flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
    flags.mark_flags_as_required(['workdir'])


def sample(workdir: str, num: int, out: str, seed: int = 0, step: int | None = None) -> str:
    if num < 1:
        raise JaxgenError(f'--num must be at least 1, got {num}')
    exp, state, step = load(workdir, step)
    samples = exp.model.sample(exp.variables(state), jax.random.key(seed), num)
    image = visualisation.render_samples(jax.device_get(samples), exp.data_info)
    visualisation.save_png(out, image)
    logging.info('wrote %d samples from %s (step %d) to %s', num, workdir, step, out)
    return out


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    out = f.out or str(workdir_lib.resolve(f.workdir) / 'sample.png')
    cli.run_or_explain(lambda: sample(f.workdir, f.num, out, f.seed, f.step))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
