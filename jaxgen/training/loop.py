"""The training loop: ``train(config, workdir)``.

Order of business, so that bad input never touches the workdir:

1. check the config, load the data, build the experiment, and trace and compile
   the train step (any of these may raise a one-line ``JaxgenError``; a mistake
   that only shows while the step traces, such as a term asking for an output the
   model does not have, is one line too);
2. if the workdir holds a checkpoint, check that it fits the config;
3. only then take the workdir's lock (one run per workdir, ``lock.py``), create
   the workdir, write ``config.json``, restore or initialise the state, and train.

The workdir may be local or remote (``gs://``): every file goes through
``etils.epath``. Non-finite values are found on device at every step
(``health.py``); the host reads them at every log and before every save, and a
diverged run stops with one line naming the step, the player and the last finite
checkpoint, which it never overwrites or rotates away.

While training it logs a progress line and TensorBoard scalars every
``log_every`` steps, writes pictures every ``sample_every`` steps, and saves a
checkpoint every ``checkpoint_every`` steps, at the end, and on SIGTERM or
SIGINT (preemption): then it returns with ``preempted=True`` and a rerun of the
same command resumes bit-identically, since every key derives from the step.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Sequence

import jax
import numpy as np
from absl import logging

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen.data import stream as stream_lib
from jaxgen.data import kinds
from jaxgen.errors import JaxgenError, first_line
from jaxgen.metrics import own as own_metrics
from jaxgen.training import experiment as experiment_lib
from jaxgen.training import health, lazy, parallel
from jaxgen.training import periodic as periodic_lib
from jaxgen.training import pretrained as pretrained_lib
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.checkpoint import Checkpoints
from jaxgen.training.lock import WorkdirLock
from jaxgen.training.signals import StopSignals
from jaxgen.training.stages import Stage

Hook = Callable[[int, Any], None]


@dataclasses.dataclass
class Result:
    state: Any
    step: int
    preempted: bool
    metrics: dict


@dataclasses.dataclass
class Prepared:
    """Everything ``train`` needs, built and checked before the workdir is touched."""
    dataset: Any
    test: Any
    exp: Any
    checkpoints: Checkpoints
    template: Any
    latest: int | None
    mesh: Any
    steps: dict  # steps per call -> the compiled train step (1: lazy.SingleSteps)
    stream: Any = None  # the streaming data path's grain pipeline; None: on device
    pretrained: dict = dataclasses.field(default_factory=dict)  # config.init_from, loaded


def _data_shapes(dataset, stream, mesh, steps: int) -> Any:
    """What the compiled step takes as data: the arrays, or one call's raw rows."""
    if stream is None:
        everywhere = parallel.replicated(mesh)
        return jax.tree.map(lambda x: jax.ShapeDtypeStruct(
            np.shape(x), np.asarray(x).dtype, sharding=everywhere), dataset.arrays)
    sharding = parallel.batch_sharding(mesh, leading=1 if steps == 1 else 2)
    return {f: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding)
            for f, x in stream.abstract(steps).items()}


def _compile_steps(exp, dataset, config, template, mesh, stream=None) -> dict:
    """The train step, traced ahead of time (single and fused): a mistake that only
    shows while tracing (a term reading an output the model does not have) becomes
    one line here, before the workdir exists, and compiled, except the programs of
    lazy phases chosen by the host (:class:`jaxgen.training.lazy.SingleSteps`, one
    per schedule under ``config.lazy_phases='host'``), compiled when first run."""
    fused = config.get('steps_per_call', 1)
    host = lazy.mode(config) == 'host'
    steps = {}
    for n in sorted({1, fused}):
        def lower(schedule, n=n):
            fn = exp.make_train_step(None if stream else dataset.draw, config.batch_size, mesh,
                                     steps=n, unroll=config.get('scan_unroll', 1),
                                     transform=dataset.transform if stream else None,
                                     schedule=schedule)
            return fn.lower(template, _data_shapes(dataset, stream, mesh, n))
        try:
            if n == 1:
                steps[n] = lazy.SingleSteps.build(lower, exp.rule.every, host)
            else:
                steps[n] = lower(None).compile()
        except JaxgenError:
            raise
        except Exception as e:  # pylint: disable=broad-except
            raise JaxgenError(
                f'the train step cannot be built from this config ({first_line(e)}); '
                f'check config.objective and config.rule against model {config.model.name!r} '
                '(--verbosity=1 prints the traceback)') from e
    return steps


def ignored_settings(config, exp, dataset) -> list[str]:
    """Config options that this run would silently ignore, each as a sentence."""
    notes = []
    if config.eval_every and own_metrics.for_model(exp.model) is None:
        notes.append(f'config.eval_every={config.eval_every}: model {config.model.name!r} has '
                     'no evaluation of its own')
    if config.get('metrics_every') and kinds.kind(dataset.info) != 'images':
        notes.append(f'config.metrics_every={config.metrics_every}: the distribution metrics '
                     f'need images, and {dataset.name!r} has none')
    notes += [f'config.data.{k}={v!r}: dataset {dataset.name!r} does not use it'
              for k, v in data.unused_settings(config.data).items()]
    return notes


def prepare(config, workdir: str, check: bool = True) -> Prepared:
    """Steps 1 and 2 above: everything that can fail before the workdir is touched."""
    config_lib.check(config)
    workdir_lib.check(workdir)
    mesh = parallel.make_mesh(config.get('num_devices', 0))
    parallel.check_batch_size(config.batch_size, mesh)
    dataset = data.load(config.data, 'train')
    exp = experiment_lib.build(config, dataset.info)
    test = None
    if (config.eval_every and own_metrics.for_model(exp.model)) or config.get('metrics_every'):
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
    if latest is not None and check:  # not when a stage starts from a grown state
        checkpoints.check_fits(latest, template)
    init_from = pretrained_lib.sources(config, exp.model)  # required ones: even on resume
    loaded = pretrained_lib.load(init_from, template) if latest is None and check else {}
    for note in ignored_settings(config, exp, dataset):
        logging.warning('ignored: %s', note)
    stream = None
    if dataset.info.get('path') == 'stream':
        stream = stream_lib.Stream(
            dataset.sources or stream_lib.array_sources(dataset),
            experiment_lib.root_keys(exp.seed)[1],
            config.batch_size, exp.rule.num_batches,
            share=stream_lib.process_share(config.batch_size))
    started = time.perf_counter()
    steps = _compile_steps(exp, dataset, config, template, mesh, stream)
    logging.info('built the train step in %.1fs', time.perf_counter() - started)
    return Prepared(dataset, test, exp, checkpoints, template, latest, mesh, steps, stream,
                    loaded)


def _write_config(workdir, config, data_info) -> None:
    path = workdir_lib.resolve(workdir) / 'config.json'
    if path.exists():
        changed = config_lib.changed_keys(config_lib.from_json(path.read_text())[0], config)
        if changed:
            logging.warning('resuming with a changed config: %s', ', '.join(changed))
    workdir_lib.write_whole(path, config_lib.to_json(config, data=data_info))
    if data_info.get('fallback'):
        logging.warning('FALLBACK DATA: training on %s instead of %s (recorded in %s)',
                        data_info['source'], data_info.get('requested'), path)


def train(config, workdir: str, hooks: Sequence[Hook] = (), stage: Stage | None = None) -> Result:
    """Trains (or resumes) the experiment ``config`` describes in ``workdir``."""
    if stage is None and config.get('stages'):
        from jaxgen.training import stages  # pylint: disable=import-outside-toplevel
        return stages.train(config, workdir, hooks)
    began = time.perf_counter()
    stage = stage or Stage(config)
    config_lib.check(config)
    workdir_lib.check(workdir)  # e.g. gs:// without its packages: one line, before any read
    lock = WorkdirLock(workdir) if parallel.is_main_process() else None
    if lock is not None:  # before prepare() reads checkpoints a live run may be deleting
        lock.check_free()
    p = prepare(config, workdir, check=stage.state is None)
    checkpoints = p.checkpoints
    if lock is not None:
        lock.acquire()  # refuses a workdir that a live run is using, touching nothing
    try:
        return _train(config, workdir, hooks, p, began, stage)
    finally:
        checkpoints.close()
        if lock is not None:
            lock.release()


def _train(config, workdir, hooks, p: Prepared, began: float, stage: Stage) -> Result:
    exp, checkpoints, mesh, dataset = p.exp, p.checkpoints, p.mesh, p.dataset
    if parallel.is_main_process():
        _write_config(workdir, stage.config, dataset.info)
    if stage.state is not None:
        state = parallel.put_replicated(stage.state, mesh)
    elif p.latest is not None:
        state = checkpoints.restore(p.latest, p.template)
        health.check_restored(state, f'{checkpoints.directory}/{p.latest}',
                              'delete it to resume from the one before '
                              f'({checkpoints.all_steps()[:-1] or "none"}), or start a new '
                              '--workdir')
        if p.stream is not None and checkpoints.has_data_state(p.latest):
            stream_lib.check_state(checkpoints.restore_data(p.latest, p.stream.iterator),
                                   p.latest, f'{checkpoints.directory}/{p.latest}')
        logging.info('resumed from %s/%d', checkpoints.directory, p.latest)
    else:
        state = parallel.put_replicated(
            pretrained_lib.apply(exp.init_state(), p.pretrained, exp.rule), mesh)
        for player in p.pretrained:
            logging.info('%s starts from %s', player, config.init_from[player])
    logging.info('training on %s', parallel.describe(mesh))
    step, preempted = int(np.ravel(parallel.to_host(state.step))[0]), False  # N seeds: [N]
    stream = p.stream
    if stream is None:
        arrays = parallel.put_replicated(dataset.arrays, mesh)
    elif stream.position != step:  # a fresh run, or a checkpoint from the on-device path
        stream.seek(step)

    def feed(steps: int):
        if stream is None:
            return arrays
        sharding = parallel.batch_sharding(mesh, leading=1 if steps == 1 else 2)
        return stream_lib.to_global(stream.next(steps), sharding, steps)

    def examples(seed):  # a fixed batch of data, for pictures
        return periodic_lib.picture_examples(dataset, seed)
    if config.get('num_seeds', 1) == 1:
        periodic = periodic_lib.Periodic(config, exp, workdir, p.test, checkpoints,
                                         examples(exp.seed), began)
    else:  # one Periodic per seed, in <workdir>/seed_<i>
        from jaxgen.training import seeds  # pylint: disable=import-outside-toplevel
        periodic = seeds.Periodic(config, exp, workdir, p.test, checkpoints, examples, began)
    periodic.stream = stream
    fused_steps = max(p.steps)
    single, fused = p.steps[1], p.steps[fused_steps] if fused_steps > 1 else None
    if step == 0 and periodic.main and config.get('pictures_at_start', True):
        periodic.write_pictures(0, state)
    started = time.perf_counter()
    try:
        with StopSignals() as stop:
            while step < config.num_steps:
                # Fused calls while no periodic event falls inside them, then single steps.
                if fused is not None and periodic.steps_to_next(step) >= fused_steps:
                    state, step_metrics = fused(state, feed(fused_steps))
                    step += fused_steps
                else:
                    state, step_metrics = single(step)(state, feed(1))
                    step += 1
                periodic.after_step(step, state, step_metrics, started)
                for hook in hooks:
                    hook(step, state)
                if stop.received is not None:
                    logging.warning('received signal %d: saving a checkpoint at step %d',
                                    stop.received, step)
                    periodic.save(step, state, force=True)
                    preempted = True
                    break
    finally:  # also when training diverges or an exception interrupts it
        periodic.close()
    return Result(state=state, step=step, preempted=preempted, metrics=periodic.metrics)
