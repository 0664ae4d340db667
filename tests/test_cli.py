"""The command lines as a user runs them: one-line errors, SIGTERM, resume, sampling."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from jaxgen.training import Checkpoints

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_RING = ['--config', 'configs/gan_ring.py', '--config.batch_size=16',
             '--config.model.latent_dim=4', '--config.model.g_hidden=(16,)',
             '--config.model.d_hidden=(16,)']


def run(args, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, **kwargs)


@pytest.mark.parametrize('flag,expected', [
    ('--config.batch_sise=8', "the config has no key 'batch_sise' (Did you mean \"batch_size\""),
    ('--config.batch_size=abc', "flag --config.batch_size=abc: invalid literal"),
    ('--config.model.g_hidden=oops', 'g_hidden must be a tuple of positive integers'),
    ('--config.data.fallback=maybe', 'give a value of the type the config file uses'),
])
def test_bad_overrides_are_one_line_and_touch_nothing(tmp_path, flag, expected):
    workdir = tmp_path / 'run'
    result = run(['train.py', *TINY_RING, f'--workdir={workdir}', flag])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), result.stderr[-2000:]
    assert expected in lines[0]
    assert not workdir.exists()


@pytest.mark.parametrize('args,expected', [
    (['train.py', *TINY_RING, '--workdir={run}', '--config.batch_sise=8'],
     "error: the config has no key 'batch_sise'"),
    (['train.py', *TINY_RING], 'error: --workdir is required; --help says what it takes'),
    (['-m', 'jaxgen.sample', '--workdri={run}'], "error: Unknown command line flag 'workdri'. "
     'Did you mean: workdir?; --help lists the flags'),
    (['-m', 'jaxgen.sample', '--workdir={run}', '--num=abc'], "error: flag --num=abc: invalid "
     "literal for int() with base 10: 'abc'; --help gives each flag's type"),
    (['-m', 'jaxgen.evaluate'], 'error: --workdir is required'),
    (['-m', 'jaxgen.evaluate', '--workdir={run}', '--set=foo'],
     "error: --set 'foo' is not name=integer"),
], ids=['train-no-such-key', 'train-no-workdir', 'sample-unknown-flag', 'sample-not-an-int',
        'evaluate-no-workdir', 'evaluate-bad-set'])
def test_a_bad_flag_is_one_line_answered_before_jax_is_imported(tmp_path, args, expected):
    """JAX takes about 2 s to import: each command line imports it only once its flags
    parse. Each kind of bad flag gets its own line, with a hint that fits it."""
    run_dir = tmp_path / 'run'
    result = run(['-X', 'importtime', *[a.format(run=run_dir) for a in args]])
    imported = {line.split('|')[-1].strip() for line in result.stderr.splitlines()
                if line.startswith('import time:')}
    lines = [line for line in result.stderr.splitlines() if not line.startswith('import time:')]
    assert result.returncode == 2 and lines == [lines[0]], result.stderr[-2000:]
    assert lines[0].startswith(expected), lines[0]
    assert 'absl.flags' in imported and 'jax' not in imported
    assert not run_dir.exists()


def test_missing_config_file_is_one_line(tmp_path):
    result = run(['train.py', '--config', 'configs/no_such.py', f'--workdir={tmp_path}/run'])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'cannot load config file configs/no_such.py' in lines[0]
    assert not (tmp_path / 'run').exists()


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes(tmp_path):
    workdir = str(tmp_path / 'run')
    args = [sys.executable, 'train.py', *TINY_RING, f'--workdir={workdir}',
            '--config.num_steps=1000000', '--config.log_every=50',
            '--config.checkpoint_every=1000000', '--config.sample_every=1000000']
    proc = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    seen = []
    for line in proc.stderr:  # wait until training is under way
        seen.append(line)
        if 'steps/s' in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=120)[1]
    log = ''.join(seen) + rest
    assert proc.returncode == 143, log[-3000:]
    assert 'rerun the same command to resume' in log
    step = Checkpoints(workdir).latest_step()
    assert step is not None and step >= 50

    resumed = run(['train.py', *TINY_RING, f'--workdir={workdir}',
                   f'--config.num_steps={step + 10}', '--config.log_every=5'])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'resumed from {Checkpoints(workdir).directory}/{step}' in resumed.stderr
    assert Checkpoints(workdir).latest_step() == step + 10

    out = tmp_path / 'grid.png'
    sampled = run(['-m', 'jaxgen.sample', f'--workdir={workdir}', '--num=100', f'--out={out}'])
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert out.stat().st_size > 1000
    missing = run(['-m', 'jaxgen.sample', f'--workdir={tmp_path}/nothing'])
    assert missing.returncode == 2 and 'config.json not found' in missing.stderr


def test_a_second_run_on_a_live_workdir_is_refused_and_a_sigkilled_run_resumes(tmp_path):
    """The same command started twice by mistake: the second is one line naming the
    first's process and touches nothing. After SIGKILL (no chance to clean up) the
    same command resumes from the last checkpoint, taking over the stale lock."""
    workdir = tmp_path / 'run'
    base = ['train.py', *TINY_RING, f'--workdir={workdir}', '--config.checkpoint_every=100',
            '--config.sample_every=1000000']
    args = [*base, '--config.num_steps=1000000', '--config.log_every=50']
    first = subprocess.Popen([sys.executable, *args], cwd=ROOT, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.time() + 240
        for line in first.stderr:  # until a checkpoint exists
            if Checkpoints(workdir).latest_step() or time.time() > deadline:
                break
        first.send_signal(signal.SIGSTOP)  # alive and holding the lock, but off the CPU
        before = sorted(p.name for p in workdir.rglob('*') if 'checkpoints' not in p.parts)
        second = run(args)
        assert second.returncode == 2, second.stderr[-3000:]
        lines = second.stderr.strip().splitlines()
        assert lines[-1] == (f'error: workdir {workdir} is in use by process {first.pid} on '
                             f'host {socket.gethostname()}; wait for that run to end or stop '
                             'it, or pass another --workdir'), second.stderr[-3000:]
        assert 'Traceback' not in second.stderr
        after = sorted(p.name for p in workdir.rglob('*') if 'checkpoints' not in p.parts)
        assert after == before
    finally:
        first.kill()  # SIGKILL: the lock file stays behind
        first.wait()
    step = Checkpoints(workdir).latest_step()
    assert (workdir / 'run.lock').exists() and step
    resumed = run([*base, f'--config.num_steps={step + 5}', '--config.log_every=5'])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'taking over the lock of process {first.pid}' in resumed.stderr
    assert f'resumed from {Checkpoints(workdir).directory}/{step}' in resumed.stderr
    assert not (workdir / 'run.lock').exists()


def test_a_config_read_back_from_json_is_unchanged_even_with_nested_tuples():
    """The AAE's rule.phases is a tuple of tuples; JSON gives lists of lists. A resumed
    run must not warn of a changed config it did not change."""
    from configs import aae
    from jaxgen import config as config_lib
    config = aae.get_config()
    back = config_lib.from_json(config_lib.to_json(config, data={}))[0]
    assert config_lib.changed_keys(back, config) == []
    config.rule.phases = (('encoder:reconstruction', 'decoder:reconstruction'), ('discriminator',))
    assert config_lib.changed_keys(back, config) == ['rule.phases']


def test_an_older_workdirs_flat_data_fields_move_into_their_sub_dicts():
    """Workdirs written before each dataset family had its own sub-dict kept
    ``data.radius``, ``data.std``, ``data.num_modes`` and ``data.edges_classes`` flat."""
    import json
    from configs import gan_ring
    from jaxgen import config as config_lib
    config = gan_ring.get_config()
    config.data.mixture.std = 0.05
    blob = json.loads(config_lib.to_json(config))
    mixture = blob['config']['data'].pop('mixture')
    blob['config']['data'].update(mixture, edges_classes='shoes_bags')
    del blob['config']['data']['edges']
    back = config_lib.from_json(json.dumps(blob))[0]
    config.data.edges.classes = 'shoes_bags'
    assert config_lib.changed_keys(back, config) == []
