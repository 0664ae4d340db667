"""Update rules: which players move, in what order, with whose gradients."""

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from jaxgen import models, objectives, rules
from jaxgen.objectives.gan import gan_objective
from tests import helpers

MLP = ml_collections.ConfigDict(dict(name='mlp', latent_dim=4, g_hidden=(16,),
                                     d_hidden=(16,)))


def setup(batch_size=8, num_batches=1):
    model = models.build(MLP, {'shape': [2]})
    params, state = helpers.init_players(model)
    objective = gan_objective(model)
    x = jax.random.normal(jax.random.key(1), (num_batches, batch_size, 2)) + 1.0
    return model, objective, params, state, {'x': x}


def sgd(lr=0.1):
    return optax.sgd(lr)


def tree_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_player_gradients_are_finite_nonzero_and_reach_only_their_player():
    _, objective, params, state, batches = setup()
    batch = jax.tree.map(lambda x: x[0], batches)
    phase = {'generator': 'generator', 'discriminator': 'discriminator'}
    grads, losses, _ = helpers.player_grads(objective, phase, params, state, batch,
                                          jax.random.key(2))
    chex.assert_tree_all_finite(grads)
    for player in phase:
        assert all(float(jnp.abs(g).sum()) > 0 for g in jax.tree.leaves(grads[player])), player
        chex.assert_trees_all_equal_shapes(grads[player], params[player])
    # The generator's gradient is d g_loss / d theta_G, not that of the sum.
    def g_loss(g_params):
        l, _ = objective({**params, 'generator': g_params}, state, batch, jax.random.key(2))
        return l['generator']
    chex.assert_trees_all_close(grads['generator'], jax.grad(g_loss)(params['generator']),
                                rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('mover', ['generator', 'discriminator'])
def test_a_player_update_never_changes_another_players_parameters(mover):
    _, objective, params, state, batches = setup()
    batch = jax.tree.map(lambda x: x[0], batches)
    opts = {'generator': optax.adam(1e-2), 'discriminator': optax.adam(1e-2)}
    opt_state = {p: opts[p].init(params[p]) for p in opts}
    new_params, new_state, new_opt, metrics = helpers.apply_phase(
        objective, opts, {mover: mover}, params, state, opt_state, batch, jax.random.key(3))
    other = 'discriminator' if mover == 'generator' else 'generator'
    assert tree_equal(new_params[other], params[other])
    assert tree_equal(new_opt[other], opt_state[other])
    assert not tree_equal(new_params[mover], params[mover])
    assert f'loss/{mover}' in metrics


def test_alternating_moves_discriminator_first_then_generator_against_it():
    _, objective, params, state, batches = setup()
    opts = {'generator': sgd(), 'discriminator': sgd()}
    rule = rules.alternating(opts, d_steps=1)
    key = jax.random.key(4)
    got, _, _, _ = rule.update(objective, params, state, rule.init(params), batches, key)

    batch = jax.tree.map(lambda x: x[0], batches)
    phase_key = lambda i: jax.random.fold_in(jax.random.fold_in(key, i), 0)
    def grad_of(player, p, k):
        def loss(theta):
            losses, _ = objective({**p, player: theta}, state, batch, k)
            return losses[player]
        return jax.grad(loss)(p[player])
    step = lambda theta, g: jax.tree.map(lambda t, gg: t - 0.1 * gg, theta, g)
    d1 = step(params['discriminator'], grad_of('discriminator', params, phase_key(0)))
    after_d = {**params, 'discriminator': d1}
    g1 = step(params['generator'], grad_of('generator', after_d, phase_key(1)))
    chex.assert_trees_all_close(got['discriminator'], d1, rtol=1e-5, atol=1e-7)
    chex.assert_trees_all_close(got['generator'], g1, rtol=1e-5, atol=1e-7)

    # The generator's step is NOT the one taken against the old discriminator.
    g_old = step(params['generator'], grad_of('generator', params, phase_key(1)))
    assert not tree_equal(g_old, got['generator'])


def test_simultaneous_takes_both_gradients_at_the_same_point():
    _, objective, params, state, batches = setup()
    opts = {'generator': sgd(), 'discriminator': sgd()}
    rule = rules.simultaneous(opts)
    key = jax.random.key(5)
    got, _, _, _ = rule.update(objective, params, state, rule.init(params), batches, key)
    batch = jax.tree.map(lambda x: x[0], batches)
    grads, _, _ = helpers.player_grads(
        objective, {'generator': 'generator', 'discriminator': 'discriminator'}, params,
        state, batch, jax.random.fold_in(jax.random.fold_in(key, 0), 0))
    for p in opts:
        expected = jax.tree.map(lambda t, g: t - 0.1 * g, params[p], grads[p])
        chex.assert_trees_all_close(got[p], expected, rtol=1e-5, atol=1e-7)


def test_k_discriminator_steps_use_k_batches_and_one_generator_step():
    _, objective, params, state, batches = setup(num_batches=3)
    opts = {'generator': sgd(), 'discriminator': sgd()}
    rule = rules.alternating(opts, d_steps=3)
    assert rule.num_batches == 3
    key = jax.random.key(6)
    got, _, _, _ = rule.update(objective, params, state, rule.init(params), batches, key)
    p = dict(params)
    for j in range(3):
        batch = jax.tree.map(lambda x, j=j: x[j], batches)
        k = jax.random.fold_in(jax.random.fold_in(key, 0), j)
        opt_state = {'discriminator': opts['discriminator'].init(p['discriminator'])}
        p, _, _, _ = helpers.apply_phase(objective, opts, {'discriminator': 'discriminator'},
                                       p, state, opt_state, batch, k)
    chex.assert_trees_all_close(got['discriminator'], p['discriminator'], rtol=1e-5,
                                atol=1e-7)
    # Repeating with one batch three times would differ: each step saw its own.
    same = jax.tree.map(lambda x: jnp.stack([x[0]] * 3), batches)
    other, _, _, _ = rule.update(objective, params, state, rule.init(params), same, key)
    assert not tree_equal(other['discriminator'], got['discriminator'])


def test_any_optax_optimizer_per_player_and_jit():
    _, objective, params, state, batches = setup()
    opts = {'generator': optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3)),
            'discriminator': optax.rmsprop(1e-3)}
    rule = rules.alternating(opts)
    update = jax.jit(lambda p, s, r, b, k: rule.update(objective, p, s, r, b, k))
    new_params, _, _, metrics = update(params, state, rule.init(params), batches,
                                       jax.random.key(7))
    chex.assert_tree_all_finite((new_params, metrics))
    assert {'d_loss', 'g_loss', 'loss/generator', 'loss/discriminator'} <= set(metrics)


def test_a_term_reaches_exactly_the_players_it_is_weighted_for():
    model, objective, params, state, batches = setup()
    batch = jax.tree.map(lambda x: x[0], batches)
    # A term on the generated samples, weighted for the discriminator only: it
    # must not change the generator's gradient.
    extra = objective.with_term('pull', lambda o: (jnp.mean(o['fake'] ** 2), {}),
                                discriminator=1.0)
    phase = {'generator': 'generator', 'discriminator': 'discriminator'}
    base, _, _ = helpers.player_grads(objective, phase, params, state, batch, jax.random.key(8))
    more, _, _ = helpers.player_grads(extra, phase, params, state, batch, jax.random.key(8))
    chex.assert_trees_all_equal(base['generator'], more['generator'])
    chex.assert_trees_all_equal(base['discriminator'], more['discriminator'])  # D(.) unaffected
    gen_weighted = objective.with_term('pull', lambda o: (jnp.mean(o['fake'] ** 2), {}),
                                       generator=1.0)
    moved, _, _ = helpers.player_grads(gen_weighted, phase, params, state, batch,
                                     jax.random.key(8))
    assert not tree_equal(moved['generator'], base['generator'])
    with pytest.raises(ValueError, match='unknown players'):
        objective.with_term('bad', lambda o: (0.0, {}), encoder=1.0)
    assert isinstance(objectives.empty(model), objectives.Objective)


def test_a_phase_evaluates_only_the_terms_it_minimises_or_reports():
    """Alternating play: the D phase evaluates D's terms, the G phase G's terms and the
    metric-only term (reported by the last phase); each term is traced in one phase,
    and the moves equal those of phases given the whole objective."""
    _, objective, params, state, batches = setup()
    traced = []

    def counted(name, fn):
        def traced_fn(outputs):
            traced.append(name)
            return fn(outputs)
        return traced_fn
    counting = objective.only(())
    for term in objective.terms:
        counting = counting.with_term(term.name, counted(term.name, term.fn),
                                      **dict(term.weights))
    counting = counting.with_term('spread', counted('spread', lambda o: (jnp.std(o['fake']),
                                                                         {})))
    rule = rules.alternating({'discriminator': sgd(), 'generator': sgd()})
    update = lambda o: jax.jit(  # noqa: E731
        lambda p, s, r, b, k: rule.update(o, p, s, r, b, k))
    new, _, _, metrics = update(counting)(params, state, rule.init(params), batches,
                                          jax.random.key(3))
    assert sorted(traced) == sorted(['spread', *(t.name for t in objective.terms)])
    assert {'d_loss', 'g_loss', 'spread'} <= set(metrics)
    # The same moves as phases that evaluate every term (an objective without .only).
    whole, _, _, _ = update(lambda *a: counting(*a))(params, state, rule.init(params),
                                                     batches, jax.random.key(3))
    chex.assert_trees_all_close(new, whole, rtol=1e-6)
    assert len(traced) == len(objective.terms) + 1 + 2 * (len(objective.terms) + 1)
