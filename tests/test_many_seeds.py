"""Many seeds in one program (``config.num_seeds``): each seed of a vmapped run is,
bit for bit, the separate run with ``config.seed = seed + i``, its outputs in
``seed_<i>/``, and a killed many-seed run resumes to the same states."""

import json
import os
import signal
import subprocess
import sys

import chex
import jax
import numpy as np
import pytest

from jaxgen import sample
from jaxgen.errors import JaxgenError
from jaxgen.logging import read_scalars
from jaxgen.training import Checkpoints, restore, seeds, train
from tests.test_train import ring_config

N = 3


def many_config(**overrides):
    return ring_config(num_seeds=N, seed=5, **overrides)


@pytest.fixture(scope='module')
def separate(tmp_path_factory):
    """The N separate runs: (workdir, final state) for seeds 5, 6, 7."""
    runs = []
    for i in range(N):
        workdir = str(tmp_path_factory.mktemp('separate') / f'seed{i}')
        runs.append((workdir, jax.device_get(train(ring_config(seed=5 + i), workdir).state)))
    return runs


def assert_each_seed_is_its_separate_run(state, separate):
    state = jax.device_get(state)
    for i, (_, single) in enumerate(separate):
        chex.assert_trees_all_equal(seeds.take(state, i), single)  # bit-exact, on CPU


@pytest.mark.exact_across_programs  # see conftest.py
def test_each_seed_equals_its_separate_run_and_writes_its_own_outputs(tmp_path, separate):
    workdir = str(tmp_path / 'many')
    result = train(many_config(), workdir)
    assert result.step == 6 and not result.preempted
    chex.assert_shape(result.state.step, (N,))
    assert_each_seed_is_its_separate_run(result.state, separate)
    for i, (single_dir, _) in enumerate(separate):
        mine = os.path.join(workdir, f'seed_{i}')
        pictures = sorted(os.listdir(os.path.join(single_dir, 'pictures')))
        assert len(pictures) >= 3  # steps 0, 3 and 6
        for name in pictures:
            with open(os.path.join(mine, 'pictures', name), 'rb') as a, \
                    open(os.path.join(single_dir, 'pictures', name), 'rb') as b:
                assert a.read() == b.read(), (i, name)  # the same samples, drawn the same
        logged = read_scalars(os.path.join(mine, 'tensorboard'))
        theirs = read_scalars(os.path.join(single_dir, 'tensorboard'))
        losses = sorted(k for k in theirs if not k.startswith('steps_per_sec'))
        assert losses and all(logged[k] == theirs[k] for k in losses)
        assert result.metrics[f'seed_{i}/{losses[0]}'] == theirs[losses[0]][-1][1]
    # One checkpointed state with the leading axis; restore.load picks a named seed,
    # and jaxgen.sample draws from it what the separate run's workdir gives.
    with pytest.raises(JaxgenError, match=r'trained 3 seeds.*--seed_index 0\.\.2'):
        restore.load(workdir)
    one, state, step = restore.load(workdir, seed_index=1)
    assert step == 6 and one.seed == 6
    key = jax.random.key(0)
    np.testing.assert_array_equal(
        one.model.generate(one.variables(state), {'num': 16}, key),
        one.model.generate(one.variables(separate[1][1]), {'num': 16}, key))
    ours = sample.sample(workdir, 16, str(tmp_path / 'ours.png'), seed_index=1)
    theirs = sample.sample(separate[1][0], 16, str(tmp_path / 'theirs.png'))
    with open(ours, 'rb') as a, open(theirs, 'rb') as b:
        assert a.read() == b.read()
    with pytest.raises(JaxgenError, match='trained one seed'):
        restore.load(separate[1][0], seed_index=1)
    # --pictures for a seed: into that seed's folder, as training drew them
    drawn = sample.pictures(workdir, seed_index=1)
    assert drawn == [os.path.join(workdir, 'seed_1', 'pictures_6', 'samples.png')]
    with open(drawn[0], 'rb') as a, \
            open(os.path.join(workdir, 'seed_1', 'pictures', 'samples_0000006.png'), 'rb') as b:
        assert a.read() == b.read()


@pytest.mark.exact_across_programs  # see conftest.py
def test_killed_many_seed_run_resumes_to_the_separate_runs(tmp_path, separate):
    def sigterm_at_step_3(step, state):
        del state
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
    workdir = str(tmp_path / 'killed')
    first = train(many_config(), workdir, hooks=[sigterm_at_step_3])
    assert first.preempted and first.step == 3
    assert Checkpoints(workdir).latest_step() == 3
    resumed = train(many_config(), workdir)
    assert resumed.step == 6 and not resumed.preempted
    assert_each_seed_is_its_separate_run(resumed.state, separate)


@pytest.mark.exact_across_programs  # shares the separate runs with the two above
def test_vmapped_seeds_match_their_separate_runs_to_rounding(tmp_path, separate):
    """``vmap_seeds``: one batched program; XLA:CPU sums its gradients in another
    order, so each seed matches its separate run to float rounding only."""
    result = train(many_config(vmap_seeds=True, num_steps=2, checkpoint_every=2),
                   str(tmp_path / 'vmapped'))
    state = jax.device_get(result.state)
    for i, (workdir, _) in enumerate(separate):
        _, theirs, _ = restore.load(workdir, step=2)
        chex.assert_trees_all_close(seeds.take(state, i).params, theirs.params,
                                    rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('change, message', [
    ({'num_seeds': 0}, 'config.num_seeds must be a positive integer'),
    ({'num_seeds': 2, 'stages': ({'steps': 3},)}, 'cannot train a stage schedule'),
    ({'num_seeds': 2, 'data.path': 'stream'}, 'needs the on-device data path'),
])
def test_impossible_seed_settings_are_one_line(change, message):
    config = ring_config()
    with config.unlocked():
        for k, v in change.items():
            if k == 'data.path':
                config.data.path = v
            else:
                config[k] = v
    exp = seeds.experiment_lib.Experiment(config=config, data_info={}, model=None,
                                          objective=None, rule=None)
    with pytest.raises(JaxgenError, match=message):
        seeds.many(exp)


def test_the_seed_loop_equals_separate_runs_bit_for_bit_under_default_flags(tmp_path):
    """``seeds_program='loop'`` runs each seed through the separate run's own compiled
    program (its seed an argument), so it equals the separate runs bit for bit under
    XLA's default flags too, where the tests' -O0 would hide a difference: 50 full-size
    ring steps, in a fresh process without the tests' flags. (``'map'`` differs in the
    last bits of seed 5 there on the 2-core CPU by step 50, not by step 20,
    docs/results/scale_and_speed.md.)"""
    out = tmp_path / 'exact.json'
    env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, os.path.join(root, 'tests', 'exact_seeds_worker.py'),
                    str(out), 'loop', '50'], env=env, cwd=root, check=True, timeout=600)
    result = json.loads(out.read_text())
    assert result['xla_flags'] == ''  # XLA's defaults
    assert result['equal'] == [True] * 3


@pytest.mark.parametrize('change, message', [
    ({'seeds_program': 'pmap'}, 'config.seeds_program must be one of loop, map, vmap'),
    ({'seeds_program': 'map', 'vmap_seeds': True}, 'contradicts config.seeds_program'),
])
def test_an_unknown_seeds_program_is_one_line(change, message):
    config = ring_config(num_seeds=2, **change)
    exp = seeds.experiment_lib.Experiment(config=config, data_info={}, model=None,
                                          objective=None, rule=None)
    with pytest.raises(JaxgenError, match=message):
        seeds.many(exp)
