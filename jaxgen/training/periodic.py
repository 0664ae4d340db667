"""What happens between train steps: the progress line and TensorBoard scalars,
pictures, evaluation, health checks and checkpoints, each at its own period
(``config.log_every``, ``sample_every``, ``eval_every``/``metrics_every``,
``checkpoint_every``) and at the end. ``loop.py`` calls :class:`Periodic` after
every step; ``seeds.py`` runs one per seed.
"""

from __future__ import annotations

import time

import jax
from absl import logging

from jaxgen import visualisation
from jaxgen.data import draw as draw_lib
from jaxgen.data import stream as stream_lib
from jaxgen.errors import JaxgenError
from jaxgen.logging import Progress, SummaryWriter, read_scalars
from jaxgen.metrics import classifier, suite
from jaxgen.metrics import own as own_metrics
from jaxgen.training import experiment as experiment_lib
from jaxgen.training import health, parallel
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.checkpoint import Checkpoints
from jaxgen.visualisation import pictures as pictures_lib
from jaxgen.visualisation.training import training_curves


PICTURE_EXAMPLES = 512  # the fixed batch of data pictures read


def picture_examples(dataset, seed: int) -> dict:
    """The fixed batch of data that pictures read (reconstructions, completions): at most
    ``PICTURE_EXAMPLES`` examples, drawn with the run's data key at step 0."""
    num = min([PICTURE_EXAMPLES] + (
        list(draw_lib.stream_sizes(dataset.info, dataset.arrays).values())
        if dataset.transform is not None else []))
    _, data_key, _ = experiment_lib.root_keys(seed)
    return jax.device_get(dataset.draw(dataset.arrays, data_key, 0, num))


def draw_pictures(exp, variables, examples) -> dict:
    """The model's pictures, drawn with the run's fixed picture key: the same latents at
    every step, and in ``python -m jaxgen.sample --pictures``."""
    return pictures_lib.pictures(exp.model, variables, jax.random.key(exp.seed + 1), examples)


def write_pictures(exp, state, examples, workdir: str, step: int,
                   writer: SummaryWriter) -> None:
    """The model's pictures, as PNG under ``<workdir>/pictures`` and in TensorBoard.

    ``examples`` is a fixed batch of data (for reconstructions and the like).
    """
    pictures = draw_pictures(exp, parallel.to_host(exp.variables(state)), examples)
    workdir = workdir_lib.resolve(workdir)
    for name, image in pictures.items():
        visualisation.save_png(workdir / 'pictures' / f'{name}_{step:07d}.png', image)
        visualisation.save_png(workdir / f'{name}.png', image)
    writer.images(step, pictures)


def write_curves(workdir: str, writer: SummaryWriter) -> None:
    """Loss and information-bound curves from what the run has logged so far."""
    writer.flush()
    workdir = workdir_lib.resolve(workdir)
    pictures = training_curves(read_scalars(workdir / 'tensorboard'))
    for name, image in pictures.items():
        visualisation.save_png(workdir / f'{name}.png', image)


def run_evaluation(exp, state, test, workdir: str, step: int, writer: SummaryWriter,
                   own: bool = True, samples: int = 0, wall_s: float | None = None) -> dict:
    """Metrics on the test split, logged and added to eval.jsonl: the model's own
    (``own``) and the distribution metrics of ``samples`` samples (when > 0). The
    record also holds ``wall_s`` when given: seconds since this process began
    training, compilation and earlier evaluations included (time to result)."""
    init_key, _, _ = experiment_lib.root_keys(exp.seed)
    variables = parallel.to_host(exp.variables(state))
    results = {}
    if own:
        evaluate = own_metrics.for_model(exp.model)
        results.update(evaluate(variables, test.arrays,
                                jax.random.fold_in(init_key, 1)))  # same draws
    if samples:
        extractor = classifier.for_config(exp.config.data, test.name)
        results.update(suite.model_metrics(exp.model, variables, test.arrays, extractor,
                                           jax.random.fold_in(init_key, 2), samples))
    results = {k: float(v) for k, v in results.items()}
    writer.scalars(step, {f'eval/{k}': v for k, v in results.items()})
    logging.info('eval at step %d: %s', step,
                 '  '.join(f'{k} {v:.4f}' for k, v in sorted(results.items())))
    timing = {} if wall_s is None else {'wall_s': round(wall_s, 2)}
    workdir_lib.log_record(workdir_lib.resolve(workdir) / 'eval.jsonl',
                           {'step': step, **results, **timing})
    return results


class Periodic:
    """What happens between steps: logs, pictures, evaluation, checkpoints."""

    def __init__(self, config, exp, workdir: str, test, checkpoints: Checkpoints, examples,
                 began: float):
        self.config, self.exp, self.workdir, self.test = config, exp, workdir, test
        self.began = began  # perf_counter() when train() was called
        self.examples = examples
        self.checkpoints = checkpoints
        self.main = parallel.is_main_process()  # the one process that writes files
        self.writer = SummaryWriter(workdir_lib.resolve(workdir) / 'tensorboard',
                                    enabled=self.main)
        self.progress: Progress | None = None
        self.metrics: dict = {}
        self.periods = self._periods()
        self.stream = None  # the streaming path, whose position is saved with the state

    def _periods(self) -> dict[str, int]:
        """Each periodic event's interval in steps (events that cannot happen left out)."""
        c = self.config
        periods = {'log': c.log_every, 'pictures': c.sample_every,
                   'checkpoint': c.checkpoint_every}
        if self.test is not None:
            if c.eval_every and own_metrics.for_model(self.exp.model):
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
        if self.progress is None:
            jax.block_until_ready(state)
            logging.info('ran the first step in %.1fs', time.perf_counter() - started)
            self.progress = Progress(c.num_steps, step)
        due = self.due(step)
        if due:  # nothing is logged, drawn, evaluated or saved from a diverged state
            self.check_health(state)
        if 'log' in due:
            self.metrics = {k: float(v) for k, v in parallel.to_host(step_metrics).items()}
            # The line shows the terms; their details and per-player totals go to TensorBoard.
            terms = {k: v for k, v in sorted(self.metrics.items()) if '/' not in k}
            line = self.progress.update(step, terms)
            if self.main:
                logging.info('%s', line)
            self.writer.scalars(step, {**self.metrics,
                                       'steps_per_sec': self.progress.steps_per_sec})
        if self.main and 'pictures' in due:
            self.write_pictures(step, state)
            write_curves(self.workdir, self.writer)
        if self.main and due & {'eval', 'metrics'}:
            samples = c.metrics_samples if 'metrics' in due else 0
            jax.block_until_ready(state)
            results = run_evaluation(self.exp, state, self.test, self.workdir, step, self.writer,
                                     own='eval' in due, samples=samples,
                                     wall_s=time.perf_counter() - self.began)
            self.metrics.update({f'eval/{k}': v for k, v in results.items()})
        if 'checkpoint' in due:
            self.save(step, state)

    def write_pictures(self, step: int, state) -> None:
        write_pictures(self.exp, state, self.examples, self.workdir, step, self.writer)

    def check_health(self, state) -> None:
        """One line, and no save, if anything in the state stopped being finite: the
        step, the player, and the last finite checkpoint (the latest one written,
        since no other kind is ever written)."""
        found = health.diverged(parallel.to_host(state.health))
        if found is None:
            return
        step, parts = found
        self.checkpoints.wait()
        last = self.checkpoints.latest_step()
        where = (f'the last finite checkpoint is {self.checkpoints.directory}/{last}, '
                 'where a rerun resumes' if last is not None else
                 'no checkpoint was written before it')
        parts = ', '.join(parts[:-1]) + ' and ' + parts[-1] if len(parts) > 1 else parts[0]
        raise JaxgenError(f'training diverged at step {step}: {parts} are not '
                          f'finite; nothing after that was saved and {where}: lower the '
                          'learning rates (config.optimizers.<player>.learning_rate) and rerun')

    def save(self, step: int, state, force: bool = False) -> None:
        """Saves ``state`` after checking its health and every value in it."""
        self.check_health(state)
        bad = health.nonfinite_parts(state)
        if bad:
            raise JaxgenError(f'at step {step} {", ".join(bad)} hold non-finite values; the '
                              f'checkpoint was not written, the last one is '
                              f'{self.checkpoints.directory}/{self.checkpoints.latest_step()}: '
                              'lower the learning rates and rerun')
        self.checkpoints.save(step, state, force=force,
                              iterator=None if self.stream is None else
                              stream_lib.Snapshot(self.stream))

    def close(self) -> None:
        self.checkpoints.close()  # waits for an asynchronous save in flight
        self.writer.close()
