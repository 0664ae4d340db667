"""Failures that are safe: non-finite states are never written, a workdir may be
remote (a mocked ``gs://`` bucket), one run holds a workdir at a time, and a
mistake found only while the first step traces leaves no workdir behind."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks.nan_injection import poison
from jaxgen import evaluate as evaluate_lib
from jaxgen import objectives
from jaxgen import sample as sample_lib
from jaxgen.errors import JaxgenError
from jaxgen.training import Checkpoints, experiment, health, lock, periodic, train
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.restore import load
from tests.test_train import digits_dcgan_config, ring_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('checkpoint_every, steps_per_call', [(1, 1), (3, 1), (2, 4), (6, 1)])
def test_a_nan_stops_the_run_naming_step_player_and_the_last_finite_checkpoint(
        tmp_path, checkpoint_every, steps_per_call):
    """G's 5th update (step 5) is NaN. Checkpoints every step or every 3; also with 4
    steps fused per call. Nothing non-finite is written, rotation (keep 2) keeps the
    last finite checkpoint, and that checkpoint restores with finite parameters."""
    config = poison(ring_config(num_steps=12, log_every=10, checkpoint_every=checkpoint_every,
                                keep_checkpoints=2, steps_per_call=steps_per_call),
                    'generator', 5)
    workdir = tmp_path / 'run'
    with pytest.raises(JaxgenError) as info:
        train(config, str(workdir))
    message = str(info.value)
    last = 4 // checkpoint_every * checkpoint_every
    assert '\n' not in message
    assert message.startswith("training diverged at step 5: the generator's parameters "
                               'are not finite'), message
    if not last:  # no checkpoint yet: the message says so and none is written
        assert 'no checkpoint was written before it' in message
        assert Checkpoints(workdir).all_steps() == []
        return
    assert f'checkpoints/{last}, where a rerun resumes' in message
    checkpoints = Checkpoints(workdir)
    assert checkpoints.all_steps()[-1] == last
    exp, state, step = load(str(workdir))
    assert step == last and health.nonfinite_parts(state) == []
    assert health.diverged(jax.device_get(state.health)) is None


def test_a_preemption_right_after_a_nan_saves_nothing(tmp_path):
    """SIGTERM after step 5 (G's NaN), between logs and checkpoints: the save that a
    preemption forces is refused, with the same one line."""
    config = poison(ring_config(num_steps=12, log_every=10, checkpoint_every=4),
                    'generator', 5)

    def preempt(step, state):
        if step == 5:
            os.kill(os.getpid(), signal.SIGTERM)
    with pytest.raises(JaxgenError, match="diverged at step 5: the generator's parameters"):
        train(config, str(tmp_path / 'run'), hooks=[preempt])
    assert Checkpoints(tmp_path / 'run').all_steps() == [4]


def test_a_save_checks_every_part_of_the_state(tmp_path):
    """Health covers parameters and losses; the check before a save covers the rest
    too (here a NaN in the optimizer state alone)."""
    config = ring_config()
    exp = experiment.build(config, _ring_info(config))
    state = exp.init_state()
    rule_state = jax.tree.map(lambda x: x + jnp.nan if jnp.issubdtype(x.dtype, jnp.floating)
                              else x, state.rule_state)
    assert health.nonfinite_parts(state) == []
    assert health.nonfinite_parts(state.replace(rule_state=rule_state)) == ['rule_state']
    events = periodic.Periodic(config, exp, str(tmp_path / 'run'), None,
                               Checkpoints(tmp_path / 'run'), None, 0.0)
    with pytest.raises(JaxgenError, match=r'at step 3 rule_state hold non-finite values; the '
                       'checkpoint was not written'):
        events.save(3, state.replace(rule_state=rule_state))
    assert Checkpoints(tmp_path / 'run').all_steps() == []


def test_health_records_the_first_bad_step_per_player_and_for_the_losses():
    h = health.initial(['g', 'd'])
    finite, bad = {'w': jnp.ones(2)}, {'w': jnp.array([1.0, jnp.inf])}
    h = health.update(h, 3, {'g': finite, 'd': bad}, {}, {'loss': jnp.float32(1)})
    h = health.update(h, 4, {'g': finite, 'd': bad}, {'g': bad}, {'loss': jnp.float32(np.nan)})
    h = jax.device_get(h)
    assert int(h['params']['d']) == 3 and int(h['params']['g']) == 4  # g's average at 4
    assert int(h['metrics']) == 4
    assert health.diverged(h) == (3, ["the d's parameters"])
    assert health.diverged(jax.device_get(health.initial(['g']))) is None


def _trained_with_a_poisoned_last_checkpoint(workdir):
    """A 6-step ring run, plus a step-8 checkpoint written around the checks with a
    NaN in the generator (as an older jaxgen could have written)."""
    train(ring_config(), str(workdir))
    exp, state, _ = load(str(workdir))
    params = jax.tree.map(lambda x: x.at[..., 0].set(jnp.nan) if x.ndim else x,
                          state.params['generator'])
    checkpoints = Checkpoints(workdir)
    checkpoints.save(8, state.replace(step=jnp.int32(8),
                                      params={**state.params, 'generator': params}))
    checkpoints.close()


def test_sample_evaluate_and_resume_refuse_a_nonfinite_checkpoint(tmp_path):
    workdir = tmp_path / 'run'
    _trained_with_a_poisoned_last_checkpoint(workdir)
    for call in (lambda: sample_lib.sample(str(workdir), 4, str(tmp_path / 's.png')),
                 lambda: evaluate_lib.evaluate(str(workdir), samples=0)):
        with pytest.raises(JaxgenError, match=r'checkpoints/8 holds non-finite values '
                           r'\(params/generator\); pass --step with another checkpoint '
                           r'\(this workdir has \[4, 6\]\)') as info:
            call()
        assert '\n' not in str(info.value)
    config = ring_config(num_steps=10)
    with pytest.raises(JaxgenError, match=r'checkpoints/8 holds non-finite values '
                       r'\(params/generator\); delete it to resume from the one before'):
        train(config, str(workdir))
    sample_lib.sample(str(workdir), 4, str(tmp_path / 's.png'), step=6)  # earlier ones work


def test_a_checkpoint_written_before_health_existed_restores_with_zeros(tmp_path):
    config = ring_config()
    exp = experiment.build(config, _ring_info(config))
    state = exp.init_state()
    checkpoints = Checkpoints(tmp_path / 'run')
    fields = ('step', 'params', 'model_state', 'rule_state', 'ema')  # no health
    checkpoints.save(2, {f: getattr(state, f) for f in fields})
    checkpoints.close()
    checkpoints = Checkpoints(tmp_path / 'run')
    checkpoints.check_fits(2, exp.abstract_state())
    restored = checkpoints.restore(2, exp.abstract_state())
    assert jax.tree.map(int, jax.device_get(restored.health)) == {
        'params': {'generator': 0, 'discriminator': 0}, 'metrics': 0}


def _ring_info(config):
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    return data.load(config.data, 'train').info


# ---- the workdir lock ------------------------------------------------------------

HOLDER = ('import sys, time\nfrom jaxgen.training.lock import WorkdirLock\n'
          'WorkdirLock(sys.argv[1]).acquire()\nprint("held", flush=True)\ntime.sleep(300)\n')


def test_a_live_lock_refuses_and_a_killed_owner_s_lock_is_taken_over(tmp_path, caplog):
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        before = (tmp_path / lock.LOCK_FILE).read_text()
        with pytest.raises(JaxgenError, match=f'workdir {tmp_path} is in use by process '
                           f'{holder.pid} on host {socket.gethostname()}') as info:
            lock.WorkdirLock(tmp_path).acquire()
        assert '\n' not in str(info.value)
        assert (tmp_path / lock.LOCK_FILE).read_text() == before  # untouched
    finally:
        holder.kill()
        holder.wait()
    # as if it was killed mid-beat, between writing its record aside and the rename
    killed_aside = tmp_path / f'{lock.LOCK_FILE}.{socket.gethostname()}.{holder.pid}.tmp'
    killed_aside.write_text('{"host": ')
    ours = lock.WorkdirLock(tmp_path)
    ours.acquire()
    assert f'taking over the lock of process {holder.pid}' in caplog.text
    assert json.loads((tmp_path / lock.LOCK_FILE).read_text())['pid'] == os.getpid()
    ours.release()
    assert list(tmp_path.iterdir()) == []  # no lock, and no aside file of either run


def _write_lock(path, **record):
    (path / lock.LOCK_FILE).write_text(json.dumps(record))


def test_another_host_s_lock_holds_while_its_heartbeat_is_fresh(tmp_path):
    _write_lock(tmp_path, host='tpu-vm-7', pid=12, start='1', heartbeat=time.time() - 10)
    with pytest.raises(JaxgenError, match='in use by process 12 on host tpu-vm-7'):
        lock.WorkdirLock(tmp_path).acquire()
    _write_lock(tmp_path, host='tpu-vm-7', pid=12, start='1',
                heartbeat=time.time() - lock.STALE_AFTER - 1)
    taken = lock.WorkdirLock(tmp_path)
    taken.acquire()
    taken.release()


def test_a_recycled_pid_is_not_taken_for_the_owner(tmp_path):
    """Our parent process is alive, but it did not start when the lock says."""
    _write_lock(tmp_path, host=socket.gethostname(), pid=os.getppid(), start='not-its-start',
                heartbeat=time.time())
    taken = lock.WorkdirLock(tmp_path)
    taken.acquire()
    taken.release()
    _write_lock(tmp_path, host=socket.gethostname(), pid=os.getppid(),
                start=lock._process_start(os.getppid()), heartbeat=time.time())
    with pytest.raises(JaxgenError, match=f'in use by process {os.getppid()}'):
        lock.WorkdirLock(tmp_path).acquire()


def test_the_lock_beats_while_held(tmp_path):
    held = lock.WorkdirLock(tmp_path, stale_after=0.25)
    held.acquire()
    first = json.loads((tmp_path / lock.LOCK_FILE).read_text())['heartbeat']
    time.sleep(0.3)
    assert json.loads((tmp_path / lock.LOCK_FILE).read_text())['heartbeat'] > first
    held.release()


def test_a_heartbeat_never_shows_a_second_run_an_empty_lock(tmp_path):
    """A heartbeat that truncated the file before writing it let a reader see an empty
    lock, take it for nobody's and start a second run on a live workdir (caught by a CI
    run as a JSONDecodeError in the test above). Heartbeats are now written aside and
    renamed into place, so every read sees a whole record."""
    held = lock.WorkdirLock(tmp_path, stale_after=0.002)  # a beat every 0.4 ms
    held.acquire()
    rival = lock.WorkdirLock(tmp_path)
    rival.me = {**rival.me, 'pid': rival.me['pid'] + 1}  # another process on this host
    try:
        empty = sum(rival.owner() is None for _ in range(3000))
    finally:
        held.release()
    assert empty == 0, f'{empty} of 3000 reads found the live lock empty'
    assert [p.name for p in tmp_path.iterdir()] == []  # no aside file left behind


def test_a_kill_while_config_json_is_rewritten_leaves_the_old_one(tmp_path, monkeypatch):
    """Each resume rewrites config.json; a kill in the middle used to leave it truncated,
    and the next resume (and sample, evaluate) could not read it."""
    from etils import epath  # pylint: disable=import-outside-toplevel
    workdir = tmp_path / 'run'
    train(ring_config(num_steps=2), str(workdir))
    before = (workdir / 'config.json').read_text()
    real = epath.Path.write_text

    def killed_halfway(self, text, *args, **kwargs):
        if self.name.endswith('config.json'):
            real(self, text[:len(text) // 2], *args, **kwargs)
            raise KeyboardInterrupt  # the signal arrives mid-write
        return real(self, text, *args, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(epath.Path, 'write_text', killed_halfway)
        with pytest.raises(KeyboardInterrupt):
            train(ring_config(num_steps=4), str(workdir))
    assert (workdir / 'config.json').read_text() == before
    assert not [p.name for p in workdir.iterdir() if p.name.startswith('.tmp-')]
    assert train(ring_config(num_steps=4), str(workdir)).step == 4


def test_the_eval_log_keeps_one_record_per_step_and_no_torn_line(tmp_path):
    log = tmp_path / 'eval.jsonl'
    log.write_text('{"step": 2, "x": 1.0}\n{"step": 6, "x": 0.3}\n{"step": 8, "x": 0.')
    workdir_lib.log_record(workdir_lib.resolve(log), {'step': 4, 'x': 0.5})
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {'step': 2, 'x': 1.0}, {'step': 4, 'x': 0.5}]
    workdir_lib.log_record(workdir_lib.resolve(log), {'step': 6, 'x': 0.25})
    assert log.read_text() == '{"step": 2, "x": 1.0}\n{"step": 4, "x": 0.5}\n' \
        '{"step": 6, "x": 0.25}\n'
    workdir_lib.log_record(workdir_lib.resolve(tmp_path / 'new' / 'eval.jsonl'), {'step': 0})
    assert (tmp_path / 'new' / 'eval.jsonl').read_text() == '{"step": 0}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['eval.jsonl', 'new']


def test_a_resumed_run_s_eval_log_reads_as_an_uninterrupted_run_s(tmp_path):
    """A run killed after evaluating step 6 but before checkpointing it resumes from
    step 4 and evaluates step 6 again: one record of it, the uninterrupted run's."""
    config = lambda n: ring_config(num_steps=n, eval_every=2, checkpoint_every=4)  # noqa: E731
    train(config(8), str(tmp_path / 'straight'))
    resumed = tmp_path / 'resumed'
    train(config(4), str(resumed))
    with open(resumed / 'eval.jsonl', 'a') as f:  # what the killed run had logged
        f.write('{"step": 6, "modes_covered": -1.0}\n{"step": 8, "modes_cov')
    train(config(8), str(resumed))
    records = [[{k: v for k, v in json.loads(line).items() if k != 'wall_s'}
                for line in (tmp_path / run / 'eval.jsonl').read_text().splitlines()]
               for run in ('straight', 'resumed')]
    assert [r['step'] for r in records[0]] == [2, 4, 6, 8]
    assert records[1] == records[0]


def test_train_releases_the_lock_and_refuses_a_live_one(tmp_path):
    workdir = tmp_path / 'run'
    train(ring_config(num_steps=2), str(workdir))
    assert not (workdir / lock.LOCK_FILE).exists()
    _write_lock(workdir, host='other-host', pid=3, start='1', heartbeat=time.time())
    with pytest.raises(JaxgenError, match='is in use by process 3 on host other-host'):
        train(ring_config(num_steps=4), str(workdir))
    assert Checkpoints(workdir).all_steps() == [2]


def test_a_live_lock_refuses_before_any_checkpoint_is_read(tmp_path, monkeypatch):
    """The live run's manager deletes old steps as it saves; a second run that listed
    them first could trip over a step vanishing under it (a flaky CI failure: a
    FileNotFoundError on checkpoints/1700) instead of the one-line refusal."""
    workdir = tmp_path / 'run'
    workdir.mkdir()
    _write_lock(workdir, host='other-host', pid=3, start='1', heartbeat=time.time())

    def vanishing(self):
        raise FileNotFoundError(f'{self.directory}/1700')
    monkeypatch.setattr(Checkpoints, 'latest_step', vanishing)
    staged = ring_config(num_steps=4)
    staged.stages = [{'until': 2}, {'until': 4}]
    for config in (ring_config(num_steps=4), staged):
        with pytest.raises(JaxgenError, match='is in use by process 3 on host other-host'):
            train(config, str(workdir))


# ---- a remote workdir, through epath's own mocking ------------------------------

@pytest.fixture
def fake_bucket(tmp_path, monkeypatch):
    """``gs://`` paths land in ``tmp_path/bucket-store``: epath's ``mock_epath`` for every
    file operation, TensorStore's file driver for Orbax's arrays. Nothing else is
    faked: Orbax still takes the path for GCS (``commit_success.txt``, no renames)."""
    from etils.epath import gpath  # pylint: disable=import-outside-toplevel
    from etils.epath import testing as epath_testing  # pylint: disable=import-outside-toplevel
    from orbax.checkpoint._src.path import gcs_utils  # pylint: disable=import-outside-toplevel
    store = tmp_path / 'bucket-store'

    def local(path):
        return os.fspath(path).replace('gs://', f'{store}/')

    def one(original, path, *args, **kwargs):
        return original(local(path), *args, **kwargs)

    def two(original, path, dst, *args, **kwargs):
        return original(local(path), local(dst), *args, **kwargs)

    monkeypatch.setattr(gpath, '_is_tf_installed', lambda: False)  # epath's own backend
    monkeypatch.setattr(gcs_utils, 'get_kvstore_for_gcs',
                        lambda path: {'driver': 'file', 'path': local(path)})
    monkeypatch.setattr(gcs_utils, 'is_hierarchical_namespace_enabled', lambda path: False)
    monkeypatch.setattr(workdir_lib, 'missing_modules', lambda path: [])
    monkeypatch.chdir(tmp_path)
    names = ('exists', 'glob', 'isdir', 'listdir', 'makedirs', 'mkdir', 'open', 'remove',
             'rmtree', 'stat', 'walk')
    with epath_testing.mock_epath(**{n: one for n in names},
                                  **{n: two for n in ('copy', 'rename', 'replace')}):
        yield store


def test_a_gs_workdir_trains_checkpoints_resumes_and_samples(fake_bucket, tmp_path):
    workdir = 'gs://bucket/runs/ring'
    first = train(ring_config(num_steps=4), workdir)
    local = fake_bucket / 'bucket' / 'runs' / 'ring'
    assert sorted(p.name for p in (local / 'checkpoints').iterdir()) == ['2', '4']
    for name in ('config.json', 'samples.png', 'tensorboard/metrics.jsonl'):
        assert (local / name).is_file(), name
    resumed = train(ring_config(num_steps=6), workdir)
    straight = train(ring_config(num_steps=6), str(tmp_path / 'local'))
    assert first.step == 4 and resumed.step == 6
    chex.assert_trees_all_equal(jax.device_get(resumed.state.params),
                                jax.device_get(straight.state.params))
    sample_lib.sample(workdir, 4, f'{workdir}/grid.png')
    assert (local / 'grid.png').is_file()
    assert not (tmp_path / 'gs:').exists()  # nothing went to a local folder named gs:


def test_a_gs_workdir_without_the_cloud_packages_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(workdir_lib, 'missing_modules', lambda path: ['google-cloud-storage'])
    with pytest.raises(JaxgenError, match='gs://bucket/run needs google-cloud-storage'):
        train(ring_config(), 'gs://bucket/run')


# ---- mistakes that show only while the step traces, and ignored options ---------

def test_a_term_reading_a_missing_output_is_one_line_and_no_workdir(tmp_path, monkeypatch):
    build = objectives.build

    def with_a_broken_term(config, model):
        objective = build(config, model)
        return objective.with_term('typo', lambda out: (out['fake_logitz'].mean(), {}),
                                   generator=1.0)
    monkeypatch.setattr(objectives, 'build', with_a_broken_term)
    workdir = tmp_path / 'run'
    with pytest.raises(JaxgenError, match=r"the train step cannot be built from this config "
                       r"\(KeyError: 'fake_logitz'\)") as info:
        train(ring_config(), str(workdir))
    assert '\n' not in str(info.value)
    assert not workdir.exists()


def test_options_the_run_ignores_are_reported(tmp_path, caplog):
    config = digits_dcgan_config()
    config.eval_every = 1
    config.data.mixture.radius = 3.0
    train(config, str(tmp_path / 'run'))
    assert "ignored: config.eval_every=1: model 'dcgan' has no evaluation of its own" in caplog.text
    assert "ignored: config.data.mixture.radius=3.0: dataset 'digits' does not use it" in caplog.text


# ---- the CPU speed-ups are opt-in, through the config ----------------------------

def test_config_cpu_speedups_reaches_the_train_step():
    """The DCGAN step's program holds the layout-explicit custom_jvp convolutions (one
    per conv layer, 4 here, on top of the activations' own) only when
    ``config.cpu_speedups`` asks for them."""
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    counts = {}
    for speedups in (False, True):
        config = digits_dcgan_config()
        config.cpu_speedups = speedups
        dataset = data.load(config.data, 'train')
        exp = experiment.build(config, dataset.info)
        step = exp.train_step_fn(dataset.draw, config.batch_size)
        program = str(jax.make_jaxpr(step)(exp.init_state(), dataset.arrays))
        counts[speedups] = program.count('custom_jvp_call')
    assert counts[True] - counts[False] >= 4, counts


def test_config_cpu_speedups_must_be_a_bool(tmp_path):
    import ml_collections  # pylint: disable=import-outside-toplevel
    config = ml_collections.ConfigDict({**ring_config().to_dict(), 'cpu_speedups': 1})
    with pytest.raises(JaxgenError, match='config.cpu_speedups must be True or False, got 1'):
        train(config, str(tmp_path / 'run'))
    assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize('seed', [2**32, -2**31 - 1, 1.5])
def test_a_seed_beyond_32_bits_is_one_line(tmp_path, seed):
    """jax.random.key reads 32 bits of a seed (2**33 and 0 gave the same key)."""
    config = ring_config(seed=seed) if isinstance(seed, int) else None
    if config is None:
        import ml_collections  # pylint: disable=import-outside-toplevel
        config = ml_collections.ConfigDict({**ring_config().to_dict(), 'seed': seed})
    with pytest.raises(JaxgenError, match='config.seed must be an integer from -2'):
        train(config, str(tmp_path / 'run'))
    assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize('seed', [0, 7, 2**31 + 3, 2**32 - 1, -1, -2**31])
def test_the_step_s_seed_argument_gives_the_key_of_the_python_seed(seed):
    """The compiled step takes its seed as an argument (training/seeded.py): the key it
    derives is the one jax.random.key derives from the config's Python int."""
    from jaxgen.training import seeded  # pylint: disable=import-outside-toplevel
    derived = jax.jit(lambda s: jax.random.key_data(jax.random.key(s)))(seeded.seed_value(seed))
    np.testing.assert_array_equal(derived, jax.random.key_data(jax.random.key(seed)))
