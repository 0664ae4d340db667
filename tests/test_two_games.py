"""A toy objective holding two GAN games, trained: two tiny MLP generator and
discriminator pairs on 2-D points, game A (minimax) between ``g_a`` and ``d_a`` on
points around (2, 0), game B (relativistic average) between ``g_b`` and ``d_b`` on
points around (-2, 1). Both games are in one ``Objective`` and one update rule;
each reads its own named outputs, and no output is renamed.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen.models.layers import split_variables
from jaxgen.objectives import empty
from jaxgen.objectives.gan import Game, with_game
from jaxgen.rules import alternating

CENTRES = {'a': np.array([2.0, 0.0]), 'b': np.array([-2.0, 1.0])}
PLAYERS = ('d_a', 'd_b', 'g_a', 'g_b')
BATCH = 64


class MLP(nn.Module):
    out: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.out)(nn.relu(nn.Dense(16)(x)))


class TwoGames:
    """A model bundle: for each game, G maps noise to points and D scores points."""
    players = PLAYERS

    def __init__(self):
        self.nets = {'d_a': MLP(1), 'd_b': MLP(1), 'g_a': MLP(2), 'g_b': MLP(2)}

    def init(self, key):
        keys = dict(zip(PLAYERS, jax.random.split(key, len(PLAYERS))))
        return {p: self.nets[p].init(keys[p], jnp.zeros((1, 2))) for p in PLAYERS}

    def generate(self, variables, game, key, n=BATCH):
        return self.nets[f'g_{game}'].apply(variables[f'g_{game}'],
                                            jax.random.normal(key, (n, 2)))

    def forward(self, variables, batch, key, train=True):
        del train
        outputs = {}
        for game, game_key in zip('ab', jax.random.split(key)):
            fake = self.generate(variables, game, game_key)
            d = lambda x, game=game: self.nets[f'd_{game}'].apply(variables[f'd_{game}'], x)
            outputs[f'real_{game}'] = d(batch[f'x_{game}'])[:, 0]
            outputs[f'fake_{game}'] = d(fake)[:, 0]
        return outputs, {p: {} for p in PLAYERS}


def two_game_objective(model):
    objective = with_game(empty(model), Game('a', real_logits='real_a', fake_logits='fake_a',
                                             discriminator='d_a', generator='g_a'))
    return with_game(objective, Game('b', real_logits='real_b', fake_logits='fake_b',
                                     discriminator='d_b', generator='g_b'),
                     loss='relativistic_average')


def data(key):
    ka, kb = jax.random.split(key)
    return {f'x_{g}': jnp.asarray(CENTRES[g], jnp.float32) + 0.1 * jax.random.normal(k, (BATCH, 2))
            for g, k in (('a', ka), ('b', kb))}


@pytest.fixture(scope='module')
def setup():
    model = TwoGames()
    params = {p: split_variables(v)[0] for p, v in model.init(jax.random.key(0)).items()}
    return model, two_game_objective(model), params


def test_each_loss_reaches_only_its_own_games_players(setup):
    model, objective, params = setup
    state = {p: {} for p in PLAYERS}
    batch, key = data(jax.random.key(1)), jax.random.key(2)
    losses, aux = objective(params, state, batch, key)
    assert set(losses) == set(PLAYERS)
    assert {'d_loss_a', 'g_loss_a', 'd_loss_b', 'g_loss_b', 'd_loss_a/D(x)',
            'd_loss_b/D_ra(x_r)'} <= set(aux.metrics)
    for loss in PLAYERS:
        game = loss[-1]
        grads = jax.grad(lambda p, loss=loss: objective(p, state, batch, key)[0][loss])(params)
        for player in PLAYERS:
            norm = sum(float(jnp.sum(g ** 2)) for g in jax.tree.leaves(grads[player]))
            # a game's losses move both its players (D's loss reaches G through the fakes)
            # and nothing of the other game
            assert (norm > 0) == (player[-1] == game), (loss, player, norm)


def test_both_games_train_in_one_objective(setup):
    model, objective, params = setup
    optimizers = {p: optax.adam(1e-2, b1=0.5) for p in PLAYERS}
    rule = alternating(optimizers, first=('d_a', 'd_b'))
    state = {p: {} for p in PLAYERS}

    @jax.jit
    def step(params, opt_state, i):
        key = jax.random.fold_in(jax.random.key(3), i)
        batches = jax.tree.map(lambda x: x[None], data(jax.random.fold_in(key, 1)))
        batches['step'] = i[None]
        params, _, opt_state, metrics = rule.update(objective, params, state, opt_state,
                                                    batches, key)
        return params, opt_state, metrics

    def distances(params):
        return {g: float(np.linalg.norm(np.mean(np.asarray(model.generate(
            {f'g_{g}': {'params': params[f'g_{g}']}}, g, jax.random.key(9), 512)), 0)
            - CENTRES[g])) for g in 'ab'}

    before, opt_state = distances(params), rule.init(params)
    for i in range(400):
        params, opt_state, metrics = step(params, opt_state, jnp.asarray(i))
    after = distances(params)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert min(before.values()) > 1.5, before
    assert max(after.values()) < 0.5, (before, after)
