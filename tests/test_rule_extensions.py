"""Frozen players, persistent model state and phases that run every k steps
(issue 28, item 4), each trained with a test-local model on 2-D points:

* ``features`` is a frozen feature network (``config.frozen``): no optimizer, no
  gradient (its parameters pass through a guard whose backward pass raises), and
  bit-identical after training;
* the discriminator keeps a history of fakes in a Linen collection ``buffers``
  (CycleGAN's image pool), which its phases update and a resume restores exactly;
* a lazy ``discriminator:r1`` phase (``config.rule.every``) moves the discriminator
  only on the last step of each block of k, in one trace.
"""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import pytest

from jaxgen import rules
from jaxgen.config import adam, base_config
from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective
from jaxgen.training import Checkpoints, experiment

POOL, LATENT, BATCH, K = 8, 3, 4, 3


@jax.custom_vjp
def no_gradient(params):
    return params


def _fwd(params):
    return params, None


def _bwd(_, g):
    raise AssertionError('a gradient was taken for the frozen player')


no_gradient.defvjp(_fwd, _bwd)


class MLP(nn.Module):
    features: tuple

    @nn.compact
    def __call__(self, x):
        for i, f in enumerate(self.features):
            x = nn.Dense(f)(x)
            x = nn.relu(x) if i + 1 < len(self.features) else x
        return x


class HistoryCritic(nn.Module):
    """Logits of real points and of this step's fakes mixed with past ones; in train
    mode the fakes replace random slots of the history (``buffers``)."""

    @nn.compact
    def __call__(self, real, fake, key):
        pool = self.variable('buffers', 'pool', jnp.zeros, (POOL, fake.shape[-1]))
        seen = self.variable('buffers', 'seen', lambda: jnp.zeros((), jnp.int32))
        slots = jax.random.randint(key, (fake.shape[0],), 0, POOL)
        history = jnp.where(seen.value > 0, pool.value[slots], jax.lax.stop_gradient(fake))
        if self.is_mutable_collection('buffers') and not self.is_initializing():
            pool.value = pool.value.at[slots].set(jax.lax.stop_gradient(fake))
            seen.value = seen.value + 1
        mlp = MLP((8, 1))
        return mlp(real)[:, 0], mlp(jnp.concatenate([fake, history]))[:, 0]


class Demo:
    players = {'generator': MLP((8, 2)), 'discriminator': HistoryCritic(),
               'features': MLP((2,))}

    def init(self, key):
        kg, kd, kf = jax.random.split(key, 3)
        x = jnp.zeros((1, 2))
        return {'generator': self.players['generator'].init(kg, jnp.zeros((1, LATENT))),
                'discriminator': self.players['discriminator'].init(kd, x, x, kd),
                'features': self.players['features'].init(kf, x)}

    def forward(self, variables, batch, key, train=True):
        kz, kp = jax.random.split(key)
        G, D, F = (self.players[p] for p in ('generator', 'discriminator', 'features'))
        fake = G.apply(variables['generator'], jax.random.normal(kz, (BATCH, LATENT)))
        frozen = {'params': no_gradient(variables['features']['params'])}
        real, fake_features = (F.apply(frozen, x) for x in (batch['points'], fake))
        (real_logits, fake_logits), d_state = D.apply(
            variables['discriminator'], real, fake_features, kp,
            mutable=['buffers'] if train else False)
        if not train:
            d_state = {'buffers': variables['discriminator']['buffers']}
        state = {'generator': {}, 'features': {}, 'discriminator': dict(d_state)}
        return {'real_logits': real_logits, 'fake_logits': fake_logits}, state


def d_loss(out):
    return (jnp.mean(jax.nn.softplus(-out['real_logits']))
            + jnp.mean(jax.nn.softplus(out['fake_logits']))), {}


def g_loss(out):
    return jnp.mean(jax.nn.softplus(-out['fake_logits'][:BATCH])), {}


def logit_penalty(out):  # a regulariser of the discriminator alone, like R1
    return jnp.mean(out['real_logits'] ** 2), {}


def draw(arrays, data_key, index, batch_size):
    del arrays
    points = jax.random.normal(jax.random.fold_in(data_key, index), (batch_size, 2))
    return {'points': points + 2.0}


def demo_config(**rule):
    c = base_config()
    c.frozen = ('features',)
    c.optimizers.generator = adam(1e-2)
    c.optimizers.discriminator = adam(1e-2)
    c.rule = ml_collections.ConfigDict(rule or {'name': 'alternating', 'd_steps': 1})
    return c


def demo_experiment(config):
    """``experiment.build``'s wiring, with the test-local model and objective."""
    model = Demo()
    objective = Objective(forward=model.forward, players=tuple(model.players),
                          loss_names=('generator', 'discriminator', 'features', 'r1'))
    objective = (objective.with_term('d_loss', d_loss, discriminator=1.0)
                 .with_term('g_loss', g_loss, generator=1.0)
                 .with_term('penalty', logit_penalty, r1=10.0 * K))
    optimizers = experiment.build_optimizers(config.optimizers, tuple(model.players),
                                             config.frozen)
    return experiment.Experiment(config=config, data_info={}, model=model,
                                 objective=objective, rule=rules.build(config.rule, optimizers))


def moved(a, b) -> bool:
    return not all(jnp.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def run(exp, state, steps, step_fn=None):
    step_fn = step_fn or exp.make_train_step(draw, BATCH)
    for _ in range(steps):
        state, metrics = step_fn(state, {})
    return state, metrics


def test_a_frozen_player_has_no_optimizer_no_gradient_and_never_moves():
    exp = demo_experiment(demo_config())
    start = jax.device_get(exp.init_state())
    assert set(start.rule_state) == {'generator', 'discriminator'}  # no optimizer state
    state, _ = run(exp, exp.init_state(), 5)  # the guard raises if any gradient is taken
    state = jax.device_get(state)
    chex.assert_trees_all_equal(state.params['features'], start.params['features'])
    for player in ('generator', 'discriminator'):  # the others trained
        assert moved(state.params[player], start.params[player])


@pytest.mark.parametrize('change, message', [
    ({'frozen': ('critic',)}, 'not players'),
    ({'frozen': ('features', 'discriminator')}, 'also gives'),
    ({'frozen': ()}, "no entry for player.*'features'.*config.frozen"),
])
def test_frozen_players_are_checked_in_one_line(change, message):
    config = demo_config()
    config.update(change)
    with pytest.raises(JaxgenError, match=message):
        demo_experiment(config)


def test_a_rule_that_moves_a_frozen_player_is_one_line():
    config = demo_config(name='phased', phases=(('discriminator',), ('features',)))
    with pytest.raises(JaxgenError, match=r"moves \['features'\].*no optimizer"):
        demo_experiment(config)


def test_a_persistent_buffer_survives_a_resume_bit_exactly(tmp_path):
    exp = demo_experiment(demo_config())
    full, _ = run(exp, exp.init_state(), 8)
    half, _ = run(exp, exp.init_state(), 4)
    checkpoints = Checkpoints(tmp_path)
    checkpoints.save(4, half, force=True)
    checkpoints.wait()
    restored = checkpoints.restore(4, exp.abstract_state())
    resumed, _ = run(exp, restored, 4)
    full, resumed, half = jax.device_get((full, resumed, half))
    buffers = full.model_state['discriminator']['buffers']
    assert int(buffers['seen']) == 8  # one push per discriminator phase
    assert float(jnp.abs(buffers['pool']).min()) > 0  # filled with fakes
    assert not jnp.array_equal(buffers['pool'], half.model_state['discriminator']['buffers']['pool'])
    chex.assert_trees_all_equal(resumed, full)


def test_a_phase_every_k_steps_moves_only_on_the_last_step_of_each_block():
    lazy = demo_experiment(demo_config(
        name='phased', phases=(('discriminator',), ('generator',), ('discriminator:r1',)),
        every=(1, 1, K)))
    plain = demo_experiment(demo_config(
        name='phased', phases=(('discriminator',), ('generator',))))
    chex.clear_trace_counter()
    lazy_step = jax.jit(chex.assert_max_traces(lazy.train_step_fn(draw, BATCH), n=1))
    plain_step = jax.jit(plain.train_step_fn(draw, BATCH))
    state = lazy.init_state()
    for step in range(2 * K + 1):
        with_r1, metrics = lazy_step(state, {})
        without, _ = plain_step(state, {})
        d_moved = moved(with_r1.params['discriminator'], without.params['discriminator'])
        ends_block = (step + 1) % K == 0
        assert d_moved == ends_block, step
        assert (float(metrics['loss/r1']) != 0.0) == ends_block, step
        if not ends_block:
            chex.assert_trees_all_equal(with_r1, without)
        state = with_r1


def test_a_lazy_phase_needs_the_step():
    rule = demo_experiment(demo_config(name='phased', phases=(('discriminator',),),
                                       every=(2,))).rule
    with pytest.raises(JaxgenError, match="every 2 steps.*no 'step'"):
        rule.update(None, {}, {}, {}, {'points': jnp.zeros((1, BATCH, 2))}, jax.random.key(0))


def test_every_needs_one_positive_integer_per_phase_of_the_phased_rule():
    with pytest.raises(JaxgenError, match='one integer >= 1 per phase'):
        demo_experiment(demo_config(name='phased', phases=(('discriminator',),), every=(0,)))
    with pytest.raises(JaxgenError, match="only rule 'phased' reads"):
        demo_experiment(demo_config(name='alternating', every=(1, 2)))
