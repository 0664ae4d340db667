"""Stage schedules (training/stages.py): a toy MLP GAN that gains a block at a
stage boundary, where the batch size also changes, killed at the boundary and in
the middle of a stage and resumed bit-exactly; the carry rules; the config checks."""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import growing_ring
from jaxgen import data
from jaxgen.errors import JaxgenError
from jaxgen.training import Checkpoints, experiment, restore, stages, train
from tests import helpers


def staged_config(**overrides):
    c = growing_ring.get_config()
    c.num_steps = 6
    c.batch_size = 16
    c.log_every = 2
    c.sample_every = 100
    c.checkpoint_every = 100
    c.model.width = 8
    c.model.latent_dim = 4
    c.stages = ({'until': 3},
                {'model': {'depth': 2, 'fade_start': 3, 'fade_steps': 2}, 'batch_size': 32})
    for k, v in overrides.items():
        c[k] = v
    return c


def test_staged_run_killed_at_the_boundary_and_mid_stage_resumes_bit_exactly(
        tmp_path, monkeypatch):
    sizes = []
    original = experiment.Experiment.make_train_step

    def recorded(self, draw, batch_size, *args, **kwargs):
        sizes.append((self.config.model.depth, batch_size))
        return original(self, draw, batch_size, *args, **kwargs)
    monkeypatch.setattr(experiment.Experiment, 'make_train_step', recorded)
    config = staged_config()
    config.ema.decay = 0.5  # the averaged generator grows too
    full = train(config, str(tmp_path / 'full'))
    assert full.step == 6 and not full.preempted
    assert sizes == [(1, 16), (2, 32)]  # the step was rebuilt with the new batch size
    params = full.state.params['generator']
    assert set(params) == {'in', 'hidden_0', 'hidden_1', 'out'}
    assert set(full.state.ema['generator']) == set(params)

    workdir = str(tmp_path / 'killed')
    first = train(config, workdir, hooks=[helpers.kill_at(3)])  # the boundary: stage 0's state
    assert first.preempted and first.step == 3
    assert 'hidden_1' not in first.state.params['generator']
    second = train(config, workdir, hooks=[helpers.kill_at(5)])  # grown from stage 0's checkpoint
    assert second.preempted and second.step == 5
    assert Checkpoints(workdir).latest_step() == 5
    resumed = train(config, workdir)  # restored into stage 1's template
    assert resumed.step == 6 and not resumed.preempted
    chex.assert_trees_all_equal(jax.device_get(resumed.state), jax.device_get(full.state))

    # Sampling rebuilds the stage of the checkpoint from the staged config.json.
    exp, state, step = restore.load(workdir)
    assert step == 6 and exp.model.generator.depth == 2
    chex.assert_trees_all_equal(jax.device_get(state.params), jax.device_get(full.state.params))


def experiments(config):
    info = data.load(stages.stage_config(config, 0).data, 'train').info
    return [experiment.build(stages.stage_config(config, i), info) for i in (0, 1)]


def test_growth_keeps_matching_layers_and_their_adam_moments_and_fades_the_new_block_in():
    config = staged_config()
    config.ema.decay = 0.5
    old_exp, new_exp = experiments(config)
    old = old_exp.init_state()
    old = old.replace(rule_state=jax.tree.map(lambda x: x + 1, old.rule_state),
                      ema=jax.tree.map(lambda x: x + 2, old.ema))
    new = new_exp.init_state()
    grown = stages.grow(old_exp, old, new_exp, new)
    chex.assert_trees_all_equal(grown.ema['generator']['out'], old.ema['generator']['out'])
    chex.assert_trees_all_equal(grown.ema['generator']['hidden_1'],
                                new.ema['generator']['hidden_1'])
    for player in ('generator', 'discriminator'):
        for layer in ('in', 'hidden_0', 'out'):
            chex.assert_trees_all_equal(grown.params[player][layer], old.params[player][layer])
        chex.assert_trees_all_equal(grown.params[player]['hidden_1'],
                                    new.params[player]['hidden_1'])
    mu = grown.rule_state['generator'][0].mu  # adam's first moments, carried by path
    chex.assert_trees_all_equal(mu['hidden_0'], old.rule_state['generator'][0].mu['hidden_0'])
    chex.assert_trees_all_equal(mu['hidden_1'], new.rule_state['generator'][0].mu['hidden_1'])
    reset = stages.grow(old_exp, old, new_exp, new, reset_optimizer=True)
    chex.assert_trees_all_equal(reset.rule_state, new.rule_state)
    # At the stage's first step the new block's weight is 0: the grown model is the old
    # one; two steps later (fade_steps) it weighs fully.
    batch, key = {'x': jnp.ones((5, 2)), 'step': jnp.asarray(3)}, jax.random.key(1)
    before, _ = old_exp.model.forward(old_exp.variables(old, ema=False), batch, key)
    after, _ = new_exp.model.forward(new_exp.variables(grown, ema=False), batch, key)
    np.testing.assert_allclose(after['fake'], before['fake'], rtol=1e-6)
    np.testing.assert_allclose(after['real_logits'], before['real_logits'], rtol=1e-6)
    later, _ = new_exp.model.forward(new_exp.variables(grown, ema=False), {**batch, 'step': 5}, key)
    full = new_exp.model.generator.apply({'params': grown.params['generator']}, after['z'])
    np.testing.assert_allclose(later['fake'], full, rtol=1e-6)
    assert not np.allclose(later['fake'], before['fake'])


def test_a_model_grow_method_decides_the_carried_variables():
    old_exp, new_exp = experiments(staged_config())
    old, new = old_exp.init_state(), new_exp.init_state()
    calls = []

    def grow(old_variables, new_variables):
        calls.append(sorted(old_variables))
        return jax.tree.map(jnp.zeros_like, new_variables)
    object.__setattr__(new_exp.model, 'grow', grow)  # a frozen dataclass
    grown = stages.grow(old_exp, old, new_exp, new)
    assert calls == [['discriminator', 'generator']] * 2  # raw and averaged weights
    assert all(not np.any(x) for x in jax.tree.leaves(grown.params))


def test_stage_index_derives_from_the_step():
    s = stages.parse(staged_config())
    assert [s_['until'] for s_ in s] == [3, 6]  # the last runs to num_steps
    assert [stages.index(s, t) for t in range(6)] == [0, 0, 0, 1, 1, 1]
    # the state after step 3 was made by stage 0; after step 4 by stage 1
    assert [stages.of_checkpoint(s, t) for t in (0, 3, 4, 6)] == [0, 0, 1, 1]
    config = staged_config(stages=({'until': 3, 'data': {'mixture': {'std': 0.5}}}, {'until': 9}, {}))
    c = stages.stage_config(config, 0)
    assert (c.data.mixture.std, c.num_steps, 'stages' in c) == (0.5, 3, False)
    c = stages.stage_config(config, 1)  # each stage against the base config
    assert (c.data.mixture.std, c.num_steps) == (config.data.mixture.std, 6)  # num_steps ends the run
    assert stages.parse(config)[-1]['until'] == 10  # a last stage that never runs
    c = stages.stage_config(staged_config(), 1)
    assert (c.model.depth, c.batch_size, c.num_steps) == (2, 32, 6)


@pytest.mark.parametrize('bad, message', [
    (({'until': 3}, {'until': 2}), 'stages\\[1\\].until must be a step after 3'),
    (({'until': 3, 'optimizer': {}},), 'unknown entries \\[.optimizer.\\]'),
    (({'until': 4},), 'ends at step 4, before config.num_steps=6'),
])
def test_bad_stages_are_one_line(tmp_path, bad, message):
    with pytest.raises(JaxgenError, match=message):
        train(staged_config(stages=bad), str(tmp_path / 'run'))
    assert not os.path.exists(tmp_path / 'run')
