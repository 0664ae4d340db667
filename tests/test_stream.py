"""The streaming data path: the same batches as the on-device path, and exact resume."""

import json
import os
import signal
import subprocess
import sys
import time

import chex
import jax
import numpy as np
import pytest

from configs import dcgan
from jaxgen import data
from jaxgen.data import draw as draw_lib
from jaxgen.data import stream as stream_lib
from jaxgen.errors import JaxgenError
from jaxgen.training import Checkpoints, loop, restore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = jax.random.key(3)


def unpaired(seed=0):
    """Two unpaired domains of different sizes, with crop and flip."""
    rng = np.random.default_rng(seed)
    arrays = {'image_a': rng.integers(0, 256, (23, 10, 12, 1), dtype=np.uint8),
              'label_a': np.arange(23, dtype=np.int32),
              'image_b': rng.integers(0, 256, (17, 10, 12, 3), dtype=np.uint8),
              'label_b': np.arange(17, dtype=np.int32) + 100}
    info = {'streams': {'a': ['image_a', 'label_a'], 'b': ['image_b', 'label_b']}}
    transform = draw_lib.make_transform(draw_lib.stream_fields(info, arrays), crop=(8, 8),
                                        flip=True)
    return data.Dataset('pairs', arrays, draw_lib.make_draw(info, transform),
                        {**info, 'path': 'stream'}, transform)


@pytest.mark.parametrize('num_batches', [1, 2])
def test_stream_rows_transformed_equal_the_on_device_draw(num_batches):
    ds = unpaired()
    stream = stream_lib.Stream(stream_lib.array_sources(ds), KEY, 4, num_batches)
    transform = jax.jit(ds.transform)
    draw = jax.jit(ds.draw, static_argnums=3)
    for step in (0, 1, 5, 11):  # several epochs of both streams (5 and 4 batches each)
        raw = stream.element(step)
        chex.assert_shape(raw['image_a'], (num_batches, 4, 10, 12, 1))
        chex.assert_shape(raw['image_b'], (num_batches, 4, 10, 12, 3))
        for i in range(num_batches):
            got = transform(jax.tree.map(lambda x, i=i: x[i], raw), KEY,
                            step * num_batches + i)
            want = draw(ds.arrays, KEY, step * num_batches + i, 4)
            chex.assert_trees_all_equal(got, want)
            chex.assert_shape(got['image_a'], (4, 8, 8, 1))
    # The two streams are shuffled independently: a-labels are not b-labels - 100.
    rows = stream_lib.host_rows(np.asarray(jax.random.key_data(KEY)), 0, {'a': 23, 'b': 17}, 4)
    assert not np.array_equal(rows['a'], rows['b'])


def test_next_and_seek_follow_the_steps():
    ds = unpaired()
    stream = stream_lib.Stream(stream_lib.array_sources(ds), KEY, 4)
    first = [stream.next() for _ in range(3)]
    assert stream.position == 3
    stream.seek(1)
    chex.assert_trees_all_equal(stream.next(2), jax.tree.map(lambda *x: np.stack(x),
                                                             *first[1:3]))
    chex.assert_trees_all_equal(stream.next(), stream.element(3))


def test_a_batch_larger_than_a_stream_is_one_line():
    with pytest.raises(JaxgenError, match='batch size 20 is larger than the 17 examples'):
        stream_lib.Stream(stream_lib.array_sources(unpaired()), KEY, 20)


def tiny_config(path, steps, **overrides):
    c = dcgan.get_config('digits')
    c.num_steps, c.batch_size, c.model.features, c.model.latent_dim = steps, 16, 8, 8
    c.log_every, c.sample_every, c.checkpoint_every = 2, 10 ** 6, 3
    c.data.path = path
    c.data.fallback = True
    for k, v in overrides.items():
        c[k] = v
    return c


def params(state):
    return jax.tree.leaves(jax.device_get(state.params))


@pytest.mark.exact_across_programs  # see conftest.py
def test_stream_and_device_paths_train_identically(tmp_path):
    """Fused calls of two steps, on both paths."""
    device = loop.train(tiny_config('device', 3, steps_per_call=2), str(tmp_path / 'd'))
    streamed = loop.train(tiny_config('stream', 3, steps_per_call=2), str(tmp_path / 's'))
    chex.assert_trees_all_equal(params(device.state), params(streamed.state))


@pytest.mark.exact_across_programs  # see conftest.py
def test_a_staged_streaming_run_killed_mid_stage_equals_the_staged_on_device_run(tmp_path):
    """Stages on the streaming path: each stage's pipeline is built with that stage's
    batch size and positioned at its first step; killed in the second stage (SIGTERM
    after step 3) and resumed, the run equals the uninterrupted on-device run."""
    def staged(path):
        return tiny_config(path, 4, batch_size=8, checkpoint_every=10 ** 6,
                           stages=({'until': 2}, {'batch_size': 16}))

    def sigterm_at_3(step, state):
        del state
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
    device = loop.train(staged('device'), str(tmp_path / 'd'))
    workdir = str(tmp_path / 's')
    assert loop.train(staged('stream'), workdir, hooks=[sigterm_at_3]).preempted
    resumed = loop.train(staged('stream'), workdir)
    assert resumed.step == 4
    chex.assert_trees_all_equal(params(device.state), params(resumed.state))


@pytest.mark.exact_across_programs  # see conftest.py
def test_a_preempted_streaming_run_resumes_where_the_on_device_run_goes(tmp_path):
    """SIGTERM after step 2 (a checkpoint at 3 is not reached: the run saves at 2), then
    the same config resumes the stream at its saved position and ends equal to the
    uninterrupted on-device run."""
    def sigterm_at_2(step, state):
        del state
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
    device = loop.train(tiny_config('device', 4), str(tmp_path / 'd'))
    workdir = str(tmp_path / 's')
    assert loop.train(tiny_config('stream', 4), workdir, hooks=[sigterm_at_2]).preempted
    state_file = tmp_path / 's' / 'checkpoints' / '2' / 'data' / 'process_0-of-1.json'
    assert json.loads(state_file.read_text()) == {'next_index': 2}
    resumed = loop.train(tiny_config('stream', 4), workdir)
    assert resumed.step == 4
    chex.assert_trees_all_equal(params(device.state), params(resumed.state))


def test_a_checkpoint_whose_stream_disagrees_with_its_step_is_refused(tmp_path):
    loop.train(tiny_config('stream', 3), str(tmp_path))
    state_file = tmp_path / 'checkpoints' / '3' / 'data' / 'process_0-of-1.json'
    state_file.write_text(json.dumps({'next_index': 2}))
    with pytest.raises(JaxgenError, match='holds a data stream at step 2, but the train state '
                                          'at step 3'):
        loop.train(tiny_config('stream', 5), str(tmp_path))


def test_mixtures_are_refused_on_the_stream_path():
    with pytest.raises(JaxgenError, match="drawn afresh at every step, on device"):
        data.load({'name': 'ring', 'path': 'stream'})


@pytest.mark.exact_across_programs  # see conftest.py
def test_a_sigkilled_streaming_run_resumes_bit_exactly(tmp_path):
    """Killed with no chance to clean up, the same command resumes from the last
    checkpoint and ends where an uninterrupted run ends."""
    args = [sys.executable, 'train.py', '--config', 'configs/dcgan.py:digits',
            '--config.batch_size=16', '--config.model.features=8',
            '--config.model.latent_dim=8', '--config.data.path=stream',
            '--config.sample_every=1000000', '--config.checkpoint_every=5',
            '--config.log_every=5']
    workdir = tmp_path / 'killed'
    env = {**os.environ, 'JAXGEN_DATA_DIR': ''}
    first = subprocess.Popen([*args, f'--workdir={workdir}', '--config.num_steps=1000000'],
                             cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 240
        for _ in first.stderr:
            if (Checkpoints(workdir).latest_step() or 0) >= 5 or time.time() > deadline:
                break
    finally:
        first.kill()
        first.wait()
    step = Checkpoints(workdir).latest_step()
    assert step, 'no checkpoint before the kill'
    end = step + 4
    resumed = subprocess.run([*args, f'--workdir={workdir}', f'--config.num_steps={end}'],
                             cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'resumed from {Checkpoints(workdir).directory}/{step}' in resumed.stderr
    state_file = workdir / 'checkpoints' / str(end) / 'data' / 'process_0-of-1.json'
    assert json.loads(state_file.read_text()) == {'next_index': end}
    # Uninterrupted, in this process, on the on-device path: the same parameters.
    config = tiny_config('device', end, checkpoint_every=5, log_every=5)
    whole = loop.train(config, str(tmp_path / 'whole'))
    _, killed, _ = restore.load(str(workdir), end)
    chex.assert_trees_all_equal(params(killed), params(whole.state))


def test_two_streams_of_one_size_are_shuffled_independently():
    """Unpaired domains must not be drawn in lockstep: with equal sizes, the same key for
    both streams would pair example i of one with example i of the other every epoch."""
    rows = stream_lib.host_rows(np.asarray(jax.random.key_data(KEY)), 0, {'a': 20, 'b': 20}, 4)
    assert not np.array_equal(rows['a'], rows['b'])
