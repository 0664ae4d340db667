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
from absl import logging

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen import visualisation
from jaxgen.errors import JaxgenError
from jaxgen.logging import Progress, SummaryWriter, read_scalars
from jaxgen.metrics import classifier, suite
from jaxgen.training import experiment as experiment_lib
from jaxgen.training import parallel
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


def write_pictures(exp, state, examples, workdir: str, step: int,
                   writer: SummaryWriter) -> None:
    """The model's pictures, as PNG under ``<workdir>/pictures`` and in TensorBoard.

    ``examples`` is a fixed batch of data (for reconstructions and the like).
    """
    key = jax.random.key(exp.seed + 1)  # fixed: the same latents at every step
    pictures = exp.model.pictures(parallel.to_host(exp.variables(state)), key, examples)
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


def run_evaluation(exp, state, test, workdir: str, step: int, writer: SummaryWriter,
                   own: bool = True, samples: int = 0, wall_s: float | None = None) -> dict:
    """Metrics on the test split, logged and appended to eval.jsonl: the model's own
    (``own``) and the distribution metrics of ``samples`` samples (when > 0). The
    record also holds ``wall_s`` when given: seconds since this process began
    training, compilation and earlier evaluations included (time to result)."""
    init_key, _, _ = experiment_lib.root_keys(exp.seed)
    variables = parallel.to_host(exp.variables(state))
    results = {}
    if own:
        results.update(exp.model.evaluate(variables, test.arrays,
                                          jax.random.fold_in(init_key, 1)))  # same draws
    if samples:
        extractor = classifier.for_config(exp.config.data, test.name)
        results.update(suite.model_metrics(exp.model, variables, test.arrays, extractor,
                                           jax.random.fold_in(init_key, 2), samples))
    results = {k: float(v) for k, v in results.items()}
    writer.scalars(step, {f'eval/{k}': v for k, v in results.items()})
    logging.info('eval at step %d: %s', step,
                 '  '.join(f'{k} {v:.4f}' for k, v in sorted(results.items())))
    with open(os.path.join(workdir, 'eval.jsonl'), 'a') as f:
        timing = {} if wall_s is None else {'wall_s': round(wall_s, 2)}
        f.write(json.dumps({'step': step, **results, **timing}) + '\n')
    return results


def _check_finite(step: int, metrics: dict) -> None:
    bad = sorted(k for k, v in metrics.items() if not math.isfinite(v))
    if bad:
        raise JaxgenError(f'training diverged at step {step}: {", ".join(bad)} not finite; '
                          'the last checkpoint is intact: lower the learning rates and rerun')


def prepare(config, workdir: str):
    """Steps 1 and 2 above: everything that can fail before the workdir is touched."""
    config_lib.check(config)
    mesh = parallel.make_mesh(config.get('num_devices', 0))
    parallel.check_batch_size(config.batch_size, mesh)
    dataset = data.load(config.data, 'train')
    exp = experiment_lib.build(config, dataset.info)
    test = None
    if (config.eval_every and hasattr(exp.model, 'evaluate')) or config.get('metrics_every'):
        test = data.load(config.data, 'test')
    checkpoints = Checkpoints(workdir, max_to_keep=config.keep_checkpoints)
    try:
        template = exp.abstract_state(parallel.replicated(mesh))
    except (TypeError, ValueError) as e:  # a config value the model cannot use
        first = str(e).strip().splitlines()[0]
        raise JaxgenError(f'model {config.model.name!r} cannot be built from config.model '
                          f'({first}); check its values against {config.model.name}\'s '
                          'config file') from e
    latest = checkpoints.latest_step()
    if latest is not None:
        checkpoints.check_fits(latest, template)
    return dataset, test, exp, checkpoints, template, latest, mesh


class _Periodic:
    """What happens between steps: logs, pictures, evaluation, checkpoints."""

    def __init__(self, config, exp, workdir: str, test, checkpoints: Checkpoints, examples,
                 began: float):
        self.config, self.exp, self.workdir, self.test = config, exp, workdir, test
        self.began = began  # perf_counter() when train() was called
        self.examples = examples
        self.checkpoints = checkpoints
        self.main = parallel.is_main_process()  # the one process that writes files
        self.writer = SummaryWriter(os.path.join(workdir, 'tensorboard'), enabled=self.main)
        self.progress: Progress | None = None
        self.metrics: dict = {}
        self.periods = self._periods()

    def _periods(self) -> dict[str, int]:
        """Each periodic event's interval in steps (events that cannot happen left out)."""
        c = self.config
        periods = {'log': c.log_every, 'pictures': c.sample_every,
                   'checkpoint': c.checkpoint_every}
        if self.test is not None:
            if c.eval_every and hasattr(self.exp.model, 'evaluate'):
                periods['eval'] = c.eval_every
            if c.get('metrics_every') and c.get('metrics_samples'):
                periods['metrics'] = c.metrics_every
        return periods

    def due(self, step: int) -> set[str]:
        """The events that happen after ``step``: every one at its period and at the end."""
        return {name for name, every in self.periods.items()
                if step % every == 0 or step == self.config.num_steps}

    def steps_to_next(self, step: int) -> int:
        """Steps from ``step`` to the next one that logs, draws, evaluates or saves."""
        return min([self.config.num_steps - step] +
                   [every - step % every for every in self.periods.values()])

    def after_step(self, step: int, state, step_metrics, started: float) -> None:
        c = self.config
        if self.progress is None:  # the first step includes compilation
            jax.block_until_ready(state)
            logging.info('compiled and ran the first step in %.1fs',
                         time.perf_counter() - started)
            self.progress = Progress(c.num_steps, step)
        due = self.due(step)
        if 'log' in due:
            self.metrics = {k: float(v) for k, v in jax.device_get(step_metrics).items()}
            _check_finite(step, self.metrics)
            # The line shows the terms; their details and per-player totals go to TensorBoard.
            terms = {k: v for k, v in sorted(self.metrics.items()) if '/' not in k}
            line = self.progress.update(step, terms)
            if self.main:
                logging.info('%s', line)
            self.writer.scalars(step, {**self.metrics,
                                       'steps_per_sec': self.progress.steps_per_sec})
        if self.main and 'pictures' in due:
            write_pictures(self.exp, state, self.examples, self.workdir, step, self.writer)
            write_curves(self.workdir, self.writer)
        if self.main and due & {'eval', 'metrics'}:
            samples = c.metrics_samples if 'metrics' in due else 0
            jax.block_until_ready(state)
            results = run_evaluation(self.exp, state, self.test, self.workdir, step, self.writer,
                                     own='eval' in due, samples=samples,
                                     wall_s=time.perf_counter() - self.began)
            self.metrics.update({f'eval/{k}': v for k, v in results.items()})
        if 'checkpoint' in due:
            self.checkpoints.save(step, state)

    def close(self) -> None:
        self.checkpoints.close()  # waits for an asynchronous save in flight
        self.writer.close()


def _write_config(workdir: str, config, data_info) -> None:
    path = os.path.join(workdir, 'config.json')
    if os.path.exists(path):
        with open(path) as f:
            changed = config_lib.changed_keys(config_lib.from_json(f.read())[0], config)
        if changed:
            logging.warning('resuming with a changed config: %s', ', '.join(changed))
    with open(path, 'w') as f:
        f.write(config_lib.to_json(config, data=data_info))
    if data_info.get('fallback'):
        logging.warning('FALLBACK DATA: training on %s instead of %s (recorded in %s)',
                        data_info['source'], data_info.get('requested'), path)


def train(config, workdir: str, hooks: Sequence[Hook] = ()) -> Result:
    """Trains (or resumes) the experiment ``config`` describes in ``workdir``."""
    began = time.perf_counter()
    dataset, test, exp, checkpoints, template, latest, mesh = prepare(config, workdir)
    os.makedirs(workdir, exist_ok=True)
    if parallel.is_main_process():
        _write_config(workdir, config, dataset.info)
    if latest is not None:
        state = checkpoints.restore(latest, template)
        logging.info('resumed from %s/%d', checkpoints.directory, latest)
    else:
        state = parallel.put_replicated(exp.init_state(), mesh)
    logging.info('training on %s', parallel.describe(mesh))
    step, preempted = int(parallel.to_host(state.step)), False
    arrays = parallel.put_replicated(dataset.arrays, mesh)
    _, data_key, _ = experiment_lib.root_keys(exp.seed)
    num_examples = min(512, dataset.info.get('num_examples') or 512)  # for pictures
    examples = jax.device_get(dataset.draw(dataset.arrays, data_key, 0, num_examples))
    periodic = _Periodic(config, exp, workdir, test, checkpoints, examples, began)
    single = exp.make_train_step(dataset.draw, config.batch_size, mesh)
    fused_steps = config.get('steps_per_call', 1)
    fused = (exp.make_train_step(dataset.draw, config.batch_size, mesh, steps=fused_steps,
                                 unroll=config.get('scan_unroll', 1))
             if fused_steps > 1 else None)
    if step == 0 and periodic.main:
        write_pictures(exp, state, examples, workdir, 0, periodic.writer)
    started = time.perf_counter()
    try:
        with _StopSignals() as stop:
            while step < config.num_steps:
                # Fused calls while no periodic event falls inside them, then single steps.
                if fused is not None and periodic.steps_to_next(step) >= fused_steps:
                    state, step_metrics = fused(state, arrays)
                    step += fused_steps
                else:
                    state, step_metrics = single(state, arrays)
                    step += 1
                periodic.after_step(step, state, step_metrics, started)
                for hook in hooks:
                    hook(step, state)
                if stop.received is not None:
                    logging.warning('received signal %d: saving a checkpoint at step %d',
                                    stop.received, step)
                    checkpoints.save(step, state, force=True)
                    preempted = True
                    break
    finally:  # also when training diverges or an exception interrupts it
        periodic.close()
    return Result(state=state, step=step, preempted=preempted, metrics=periodic.metrics)
