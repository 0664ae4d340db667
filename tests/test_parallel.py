"""Scale and speed: the data-parallel step on 8 devices equals the 1-device step,
two processes train, checkpoint, resume and match one, fused calls equal single
steps, and bfloat16 computes in bfloat16 while parameters stay float32."""

import os
import socket
import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import data
from jaxgen.errors import JaxgenError
from jaxgen.training import experiment, parallel, restore, train
from tests.test_train import ring_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(devices: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('JAX_', 'XLA_'))
           or k.startswith(('JAX_COMPILATION_CACHE', 'JAX_PERSISTENT_CACHE', 'XLA_FLAGS'))}
    return {**env, 'JAX_NUM_CPU_DEVICES': str(devices), 'JAX_PLATFORMS': 'cpu',
            'PYTHONPATH': ROOT}


def test_eight_devices_match_one_device_with_global_batchnorm(tmp_path):
    """The digits DCGAN (BatchNorm in G and D), 2 steps on 1 and on 8 devices.

    Per-device BatchNorm statistics would change every loss; global ones agree
    to float rounding. (SGD here: Adam would blow the rounding noise in the
    gradients of the biases in front of BatchNorm, zero in exact arithmetic,
    up to full-size steps.)
    """
    out = tmp_path / 'runs.npz'
    subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'parallel_worker.py'),
                    str(out), '1', '8'], env=_env(8), cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    runs = np.load(out)
    assert int(runs['1/devices']) == 1 and int(runs['8/devices']) == 8
    names = sorted(k[2:] for k in runs if k.startswith('1/') and k != '1/devices')
    assert any('batch_stats' in n for n in names) and any('metric/' in n for n in names)
    for name in names:
        np.testing.assert_allclose(runs[f'8/{name}'], runs[f'1/{name}'], rtol=2e-5, atol=2e-5,
                                   err_msg=name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


RING_FLAGS = ['--config', os.path.join(ROOT, 'configs', 'gan_ring.py'),
              '--config.batch_size=16', '--config.log_every=2', '--config.sample_every=4',
              '--config.checkpoint_every=2', '--config.model.g_hidden=(16,)',
              '--config.model.d_hidden=(16,)', '--config.model.latent_dim=4',
              '--config.rule.d_steps=2']  # = ring_config()


def _two_processes(workdir, steps: int) -> list[str]:
    port = _free_port()
    procs = [subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'train.py'), *RING_FLAGS, f'--workdir={workdir}',
         f'--config.num_steps={steps}', f'--coordinator=127.0.0.1:{port}',
         '--num_processes=2', f'--process_id={i}'],
        env=_env(2), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in range(2)]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    return logs


def test_two_processes_train_checkpoint_resume_and_match_one(tmp_path):
    """jax.distributed over gloo on 127.0.0.1: 2 processes x 2 CPU devices."""
    workdir = tmp_path / 'two'
    logs = _two_processes(workdir, 2)
    assert all('4 cpu device(s) over 2 process(es)' in log for log in logs)
    assert 'step  2/2' in logs[0] and 'step  2/2' not in logs[1]  # process 0 logs
    assert sorted(os.listdir(workdir / 'checkpoints')) == ['2']
    logs = _two_processes(workdir, 4)  # a rerun resumes
    assert all('resumed from' in log for log in logs)

    c = ring_config(num_steps=4, batch_size=16, log_every=2, sample_every=4,
                    checkpoint_every=2)
    one = train(c, str(tmp_path / 'one'))  # one process, one device
    _, two, step = restore.load(str(workdir))
    assert step == 4
    for a, b in zip(jax.tree.leaves(two.params), jax.tree.leaves(one.state.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_fused_calls_match_single_steps_and_stop_short_of_periodic_events(tmp_path):
    def run(steps_per_call, name, unroll=1):
        seen = []
        c = ring_config(num_steps=12, log_every=6, sample_every=12, checkpoint_every=5,
                        steps_per_call=steps_per_call, scan_unroll=unroll)
        c.ema.decay = 0.9
        result = train(c, str(tmp_path / name), hooks=[lambda step, _: seen.append(step)])
        return result, seen

    single, single_steps = run(1, 'single')
    fused, fused_steps = run(4, 'fused')
    assert single_steps == list(range(1, 13))
    # 4 fused, then single steps up to the checkpoint at 5 and the log at 6, 4 fused
    # again, and single steps to the checkpoint at 10 and the end.
    assert fused_steps == [4, 5, 6, 10, 11, 12]
    assert sorted(os.listdir(tmp_path / 'fused' / 'checkpoints')) == ['10', '12', '5']
    assert single.metrics == fused.metrics
    for a, b in zip(jax.tree.leaves(single.state), jax.tree.leaves(fused.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Two steps per loop iteration (and a 4-step scan): the same run.
    unrolled, unrolled_steps = run(4, 'unrolled', unroll=2)
    assert unrolled_steps == fused_steps and unrolled.metrics == single.metrics
    for a, b in zip(jax.tree.leaves(single.state), jax.tree.leaves(unrolled.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_state():
    def build(precision):
        c = ring_config(precision=precision)
        dataset = data.load(c.data)
        exp = experiment.build(c, dataset.info)
        return exp, dataset, exp.train_step_fn(dataset.draw, c.batch_size)

    exp, dataset, step = build('bfloat16')
    state = exp.init_state()
    jaxpr = str(jax.make_jaxpr(step)(state, dataset.arrays))
    matmuls = [line for line in jaxpr.splitlines() if 'dot_general' in line]
    assert matmuls and any('bf16' in line for line in matmuls)
    new_state, metrics = jax.jit(step)(state, dataset.arrays)
    dtypes = {x.dtype for x in jax.tree.leaves((new_state.params, new_state.rule_state,
                                                new_state.model_state))
              if jnp.issubdtype(x.dtype, jnp.floating)}
    assert dtypes == {jnp.dtype(jnp.float32)}

    exp32, _, step32 = build('float32')
    assert 'bf16' not in str(jax.make_jaxpr(step32)(state, dataset.arrays))
    _, metrics32 = jax.jit(step32)(exp32.init_state(), dataset.arrays)
    for name in ('d_loss', 'g_loss'):
        assert np.isfinite(metrics[name])
        np.testing.assert_allclose(metrics[name], metrics32[name], rtol=0.05)
        assert metrics[name] != metrics32[name]  # rounding shows: it did compute in bf16


@pytest.mark.parametrize('change, message', [
    (dict(num_devices=2), 'config.num_devices=2 but 1 device(s) are visible'),
    (dict(num_devices=-1), 'config.num_devices must be 0 (all) or a positive integer'),
    (dict(steps_per_call=0), 'config.steps_per_call must be a positive integer'),
    (dict(scan_unroll=0), 'config.scan_unroll must be a positive integer'),
    (dict(precision='float16'), "config.precision='float16'; use one of"),
])
def test_bad_parallel_settings_are_one_clear_line(tmp_path, change, message):
    with pytest.raises(JaxgenError, match=message.replace('(', r'\(').replace(')', r'\)')):
        train(ring_config(**change), str(tmp_path / 'run'))
    assert not os.path.exists(tmp_path / 'run')


def test_batch_that_does_not_split_over_the_devices_is_refused():
    with pytest.raises(JaxgenError, match='config.batch_size=12 does not split over 8'):
        parallel.check_batch_size(12, types.SimpleNamespace(size=8))
    parallel.check_batch_size(16, types.SimpleNamespace(size=8))
