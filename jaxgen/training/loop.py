"""The training loop: ``train(config, workdir)``.

Order of business, so that bad input never touches the workdir:

1. check the config, load the data, build the experiment (any of these may
   raise a one-line ``JaxgenError``);
2. if the workdir holds a checkpoint, check that it fits the config;
3. only then create the workdir, write ``config.json``, restore or initialise
   the state, and train.

While training it logs a progress line and TensorBoard scalars every
``log_every`` steps, writes pictures every ``sample_every`` steps, and saves a
checkpoint every ``checkpoint_every`` steps, at the end, and on SIGTERM or
SIGINT (preemption): then it returns with ``preempted=True`` and a rerun of the
same command resumes bit-identically, since every key derives from the step.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import time
from typing import Any, Callable, Sequence

import jax
import numpy as np
from absl import logging

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen import visualisation
from jaxgen.errors import JaxgenError
from jaxgen.logging import Progress, SummaryWriter, read_scalars
from jaxgen.training import experiment as experiment_lib
from jaxgen.training.checkpoint import Checkpoints
from jaxgen.visualisation.training import training_curves

Hook = Callable[[int, Any], None]


@dataclasses.dataclass
class Result:
    state: Any
    step: int
    preempted: bool
    metrics: dict


class _StopSignals:
    """Turns SIGTERM/SIGINT into a flag the loop checks after every step."""

    def __init__(self):
        self.received: int | None = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals stay as they were
                pass
        return self

    def _handle(self, signum, frame):
        del frame
        self.received = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def write_pictures(exp, state, workdir: str, step: int, writer: SummaryWriter) -> None:
    """The model's pictures, as PNG under ``<workdir>/pictures`` and in TensorBoard."""
    key = jax.random.key(exp.seed + 1)  # fixed: the same latents at every step
    pictures = exp.model.pictures(exp.variables(state), key)
    for name, image in pictures.items():
        visualisation.save_png(os.path.join(workdir, 'pictures', f'{name}_{step:07d}.png'),
                               image)
        visualisation.save_png(os.path.join(workdir, f'{name}.png'), image)
    writer.images(step, pictures)


def write_curves(workdir: str, writer: SummaryWriter) -> None:
    """Loss and information-bound curves from what the run has logged so far."""
    writer.flush()
    pictures = training_curves(read_scalars(os.path.join(workdir, 'tensorboard')))
    for name, image in pictures.items():
        visualisation.save_png(os.path.join(workdir, f'{name}.png'), image)


def run_evaluation(exp, state, test, workdir: str, step: int, writer: SummaryWriter) -> dict:
    """The model's own metrics on the test split, logged and written to eval.json."""
    init_key, _, _ = experiment_lib.root_keys(exp.seed)
    results = exp.model.evaluate(exp.variables(state), test.arrays,
                                 jax.random.fold_in(init_key, 1))  # same codes at every eval
    results = {k: float(v) for k, v in results.items()}
    writer.scalars(step, {f'eval/{k}': v for k, v in results.items()})
    logging.info('eval at step %d: %s', step,
                 '  '.join(f'{k} {v:.4f}' for k, v in sorted(results.items())))
    with open(os.path.join(workdir, 'eval.jsonl'), 'a') as f:
        f.write(json.dumps({'step': step, **results}) + '\n')
    return results


def _check_finite(step: int, metrics: dict) -> None:
    bad = sorted(k for k, v in metrics.items() if not math.isfinite(v))
    if bad:
        raise JaxgenError(f'training diverged at step {step}: {", ".join(bad)} not finite; '
                          'the last checkpoint is intact: lower the learning rates and rerun')


def prepare(config, workdir: str):
    """Steps 1 and 2 above: everything that can fail before the workdir is touched."""
    config_lib.check(config)
    dataset = data.load(config.data, 'train')
    exp = experiment_lib.build(config, dataset.info)
    test = None
    if config.eval_every and hasattr(exp.model, 'evaluate'):
        test = data.load(config.data, 'test')
    checkpoints = Checkpoints(workdir, max_to_keep=config.keep_checkpoints)
    try:
        template = exp.abstract_state()
    except (TypeError, ValueError) as e:  # a config value the model cannot use
        first = str(e).strip().splitlines()[0]
        raise JaxgenError(f'model {config.model.name!r} cannot be built from config.model '
                          f'({first}); check its values against {config.model.name}\'s '
                          'config file') from e
    latest = checkpoints.latest_step()
    if latest is not None:
        checkpoints.check_fits(latest, template)
    return dataset, test, exp, checkpoints, template, latest


def train(config, workdir: str, hooks: Sequence[Hook] = ()) -> Result:
    """Trains (or resumes) the experiment ``config`` describes in ``workdir``."""
    dataset, test, exp, checkpoints, template, latest = prepare(config, workdir)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, 'config.json'), 'w') as f:
        f.write(config_lib.to_json(config, data=dataset.info))
    if dataset.info.get('fallback'):
        logging.warning('FALLBACK DATA: training on %s instead of %s (recorded in %s)',
                        dataset.info['source'], dataset.info.get('requested'),
                        os.path.join(workdir, 'config.json'))

    if latest is not None:
        state = checkpoints.restore(latest, template)
        logging.info('resumed from %s/%d', checkpoints.directory, latest)
    else:
        state = exp.init_state()
    step = int(state.step)
    writer = SummaryWriter(os.path.join(workdir, 'tensorboard'),
                           enabled=jax.process_index() == 0)
    arrays = jax.device_put(dataset.arrays)
    train_step = exp.make_train_step(dataset.draw, config.batch_size)
    progress, metrics, preempted = None, {}, False
    num_steps = config.num_steps
    if step == 0:
        write_pictures(exp, state, workdir, 0, writer)

    started = time.perf_counter()
    with _StopSignals() as stop:
        while step < num_steps:
            state, step_metrics = train_step(state, arrays)
            step += 1
            if progress is None:  # the first step includes compilation
                jax.block_until_ready(state)
                logging.info('compiled and ran the first step in %.1fs',
                             time.perf_counter() - started)
                progress = Progress(num_steps, step)
            if step % config.log_every == 0 or step == num_steps:
                metrics = {k: float(v) for k, v in jax.device_get(step_metrics).items()}
                _check_finite(step, metrics)
                # The line shows the terms; their details and the per-player
                # totals go to TensorBoard.
                line = progress.update(step, {k: v for k, v in sorted(metrics.items())
                                              if '/' not in k})
                logging.info('%s', line)
                writer.scalars(step, {**metrics, 'steps_per_sec': progress.steps_per_sec})
            if step % config.sample_every == 0 or step == num_steps:
                write_pictures(exp, state, workdir, step, writer)
                write_curves(workdir, writer)
            if test is not None and (step % config.eval_every == 0 or step == num_steps):
                metrics.update({f'eval/{k}': v for k, v in
                                run_evaluation(exp, state, test, workdir, step, writer).items()})
            for hook in hooks:
                hook(step, state)
            if step % config.checkpoint_every == 0 or step == num_steps:
                checkpoints.save(step, state)
            if stop.received is not None:
                logging.warning('received signal %d: saving a checkpoint at step %d',
                                stop.received, step)
                checkpoints.save(step, state, force=True)
                preempted = True
                break
    checkpoints.close()
    writer.close()
    return Result(state=state, step=step, preempted=preempted, metrics=metrics)

