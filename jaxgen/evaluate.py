"""Evaluate a trained model from its checkpoint, with the model's own metrics.

    python -m jaxgen.evaluate --workdir runs/vae --set num_samples=5000   # IWAE NLL, k = 5000
    python -m jaxgen.evaluate --workdir runs/infogan                      # code accuracy

Loads ``<workdir>/config.json`` and the latest (or ``--step``) checkpoint, loads
the test split, runs the model bundle's ``evaluate``, prints a table and writes
``<workdir>/evaluation_<step>.json``.
"""

from __future__ import annotations

import json
import os
import time

import jax
from absl import app, flags, logging

from jaxgen import cli, data
from jaxgen.errors import JaxgenError
from jaxgen.training.restore import load


def define_flags() -> None:
    """The command line's flags (defined on demand, so importing defines nothing)."""
    flags.DEFINE_string('workdir', None, 'A training workdir (holds config.json and checkpoints).')
    flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
    flags.DEFINE_multi_string('set', [], 'Keyword arguments of the model\'s evaluate, as '
                              'name=integer (e.g. num_samples=5000, num_examples=1000).')
    flags.DEFINE_integer('seed', 0, 'Seed of the evaluation\'s random draws.')
    flags.mark_flags_as_required(['workdir'])


def parse_settings(settings: list[str]) -> dict[str, int]:
    out = {}
    for item in settings:
        name, _, value = item.partition('=')
        if not name or not value.lstrip('-').isdigit():
            raise JaxgenError(f'--set {item!r} is not name=integer; e.g. --set num_samples=5000')
        out[name] = int(value)
    return out


def evaluate(workdir: str, step: int | None = None, settings: dict | None = None,
             seed: int = 0) -> dict[str, float]:
    exp, state, step = load(workdir, step)
    if not hasattr(exp.model, 'evaluate'):
        raise JaxgenError(f'model {exp.config.model.name!r} defines no evaluation yet')
    test = data.load(exp.config.data, 'test')
    started = time.perf_counter()
    try:
        results = exp.model.evaluate(exp.variables(state), test.arrays, jax.random.key(seed),
                                     **(settings or {}))
    except TypeError as e:
        raise JaxgenError(f'--set names an argument the model\'s evaluate does not take '
                          f'({e})') from e
    results = {k: float(v) for k, v in results.items()}
    record = {'step': step, 'seconds': time.perf_counter() - started, 'settings': settings,
              **results}
    path = os.path.join(workdir, f'evaluation_{step}.json')
    with open(path, 'w') as f:
        json.dump(record, f, indent=2)
    for name, value in sorted(results.items()):
        print(f'{name:24s} {value:.4f}')
    logging.info('wrote %s (%.0fs)', path, record['seconds'])
    return results


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    cli.run_or_explain(lambda: evaluate(f.workdir, f.step, parse_settings(f.set), f.seed))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
