"""NADE, PixelCNN, Row LSTM and Diagonal BiLSTM (jaxgen/models/autoregressive/): the
autoregressive property by ``jax.jacrev`` (raster order, and colour order for RGB),
probabilities of all 2^9 binary 3x3 images summing to 1, NADE against its conditionals
computed naively, and one-line errors for data a model cannot take."""

import dataclasses
import functools
import itertools

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.models.autoregressive import masks
from jaxgen.models.autoregressive.base import log_prob_from_logits

BINARY = {'kind': 'images', 'scale': 'unit', 'binarize': 'dynamic'}
EIGHT_BIT = {'kind': 'images', 'scale': 'tanh', 'binarize': ''}
SETTINGS = {
    'nade': dict(name='nade', output='bernoulli', hidden_units=5, ordering='raster',
                 ordering_seed=0, order_agnostic=False, eval_orderings=1),
    'nade_random': dict(name='nade', output='bernoulli', hidden_units=5, ordering='random',
                        ordering_seed=3, order_agnostic=False, eval_orderings=1),
    # Widths of 6 and 12: colour groups of two and four features.
    'pixelcnn': dict(name='pixelcnn', output='bernoulli', features=6, num_layers=1, head=12,
                     sampler='cached'),
    'row_lstm': dict(name='pixelrnn', layer='row_lstm', output='bernoulli', features=6,
                     num_layers=1, head=12),
    'diagonal_bilstm': dict(name='pixelrnn', layer='diagonal_bilstm', output='bernoulli',
                            features=6, num_layers=1, head=12),
}


EVERY = np.array(list(itertools.product((0.0, 1.0), repeat=9)), np.float32).reshape(512, 3, 3, 1)


def config(name, **overrides):
    return ml_collections.ConfigDict({**SETTINGS[name], **overrides})


def random_variables(model, seed: int = 0):
    """Variables of ``model.init``'s shapes drawn in numpy (compiling the random
    initialisers took seconds per model): weights N(0, 1/fan-in), biases 0.5, not 0,
    since with two features per colour group a ReLU is otherwise off for every input
    often enough to hide a dependence from the Jacobian."""
    rng = np.random.default_rng(seed)
    shapes = jax.eval_shape(model.init, jax.random.key(0))

    def draw(path, leaf):
        if 'bias' in jax.tree_util.keystr(path) or leaf.ndim == 1:
            return np.full(leaf.shape, 0.5, np.float32)
        fan_in = int(np.prod(leaf.shape[:-1]))
        return (rng.normal(size=leaf.shape) / np.sqrt(fan_in)).astype(np.float32)
    return jax.tree_util.tree_map_with_path(draw, shapes)


@functools.cache
def built(name, shape=(3, 3, 1), output='bernoulli'):
    """A tiny model and its variables, shared by the tests (compiled once)."""
    info = {**(BINARY if output == 'bernoulli' else EIGHT_BIT), 'shape': list(shape)}
    model = models.build(config(name, output=output), info)
    return model, random_variables(model)


def checks(model):
    """``(variables, x) -> (jacobian, gradients)``, one program: the Jacobian ``[D, D]``
    of the logits (summed over the K logits) with respect to the input, summed in
    absolute value over the images of ``x`` (several, so that a ReLU off for one image
    hides no dependence; each image's outputs depend on it alone), and the gradient of
    -mean log p(x) with respect to the parameters. Both come from one VJP of the
    network (these tests are compile-bound)."""
    d = model.num_dims

    @jax.jit
    def run(variables, x):
        logits, vjp = jax.vjp(model.logits, variables, x)
        rows = jnp.eye(d).reshape(d, 1, *x.shape[1:], 1)
        loss_cotangent = jax.grad(lambda l: -log_prob_from_logits(
            l, x.astype(jnp.int32)).mean())(logits)
        cotangents = jnp.concatenate([jnp.broadcast_to(rows, (d, *logits.shape)),
                                      loss_cotangent[None]])
        grads, x_grads = jax.vmap(vjp)(cotangents)
        jac = jnp.abs(x_grads[:d]).reshape(d, len(x), d).sum(1)
        return jac, jax.tree.map(lambda g: g[d], grads)
    return run


def assert_autoregressive(model, jac):
    """Zero gradient of every output with respect to itself and every later input (in
    the model's order), and a nonzero one on the dimension just before it."""
    order = model.order()
    ranked = jac[np.ix_(order, order)]
    upper = np.triu(ranked)
    assert upper.max() == 0.0, f'an output depends on inputs at or after its own: {upper}'
    assert (np.diag(ranked, -1) > 0).all(), f'an output misses the previous input: {ranked}'


@pytest.mark.parametrize('name', list(SETTINGS))
def test_binary_models_are_autoregressive_normalised_and_finite(name):
    model, variables = built(name)
    x = jax.random.bernoulli(jax.random.key(1), 0.5, (4, 3, 3, 1)).astype(jnp.float32)
    jac, grads = checks(model)(variables, x)  # 0/1: values and network input alike
    assert_autoregressive(model, np.asarray(jac))
    chex.assert_tree_all_finite(grads)
    assert all(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(grads)), name
    log_p = model.log_prob(variables, EVERY)
    chex.assert_shape(log_p, (512,))
    np.testing.assert_allclose(float(jnp.exp(jax.nn.logsumexp(log_p))), 1.0, rtol=1e-5)


# The Row LSTM builds its gates' colour groups with the Diagonal BiLSTM's code
# (pixelrnn.LSTMLayer.parts); its raster order is checked above (time budget).
@pytest.mark.parametrize('name', ['pixelcnn', 'diagonal_bilstm'])
def test_rgb_models_respect_raster_then_colour_order(name):
    model, variables = built(name, (2, 3, 3), 'categorical')
    x = jnp.floor(jax.random.uniform(jax.random.key(2), (4, 2, 3, 3), maxval=256.0))  # values
    jac, grads = checks(model)(variables, x)
    assert_autoregressive(model, np.asarray(jac))
    chex.assert_tree_all_finite(grads)


def test_masks_and_skew_by_hand():
    a = masks.mask((3, 3), [0, 1, 2], [0, 1, 2], 'A')
    np.testing.assert_array_equal(a[1, 1], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(masks.mask((3, 3), [0], [0], 'B')[..., 0, 0],
                                  [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(masks.groups(6, 3, blocks=2), [0, 1, 2, 0, 1, 2])
    x = jnp.arange(1, 13).reshape(1, 3, 4, 1)
    np.testing.assert_array_equal(masks.skew(x)[0, :, :, 0],
                                  [[1, 2, 3, 4, 0, 0], [0, 5, 6, 7, 8, 0], [0, 0, 9, 10, 11, 12]])
    np.testing.assert_array_equal(masks.unskew(masks.skew(x), 4), x)


def naive_nade_log_prob(model, variables, x):
    """Each conditional from scratch: h_d = sigmoid(c + sum_{j before d} x_j W_j)."""
    p = variables['model']['params']
    w, v, b, c = (np.asarray(p[k], np.float64) for k in ('W', 'V', 'b', 'c'))
    flat, order, total = x.reshape(len(x), -1), model.order(), np.zeros(len(x))
    for t, d in enumerate(order):
        h = 1 / (1 + np.exp(-(c + flat[:, order[:t]] @ w[order[:t]])))
        p1 = 1 / (1 + np.exp(-(b[d] + h @ v[d])))
        total += np.log(np.where(flat[:, d] == 1, p1, 1 - p1))
    return total


@pytest.mark.parametrize('name', ['nade', 'nade_random'])
def test_nade_likelihood_is_the_product_of_its_conditionals(name):
    model, variables = built(name)
    rng = np.random.default_rng(5)  # away from the near-uniform initialisation
    variables = jax.tree.map(lambda a: a + rng.normal(size=a.shape).astype(np.float32),
                             variables)
    x = np.asarray(jax.random.bernoulli(jax.random.key(4), 0.5, (6, 3, 3, 1)), np.float32)
    np.testing.assert_allclose(model.log_prob(variables, x),
                               naive_nade_log_prob(model, variables, x), rtol=1e-5)


def test_bad_input_gets_one_line():
    model, variables = built('pixelcnn')
    errors = [
        (lambda: model.log_prob(variables, np.full((2, 3, 3, 1), 0.5)), 'binary pixels'),
        (lambda: model.log_prob(variables, np.zeros((2, 4, 4, 1))), r'shape \(3, 3, 1\)'),
        (lambda: models.build(config('pixelcnn'), {**BINARY, 'binarize': '', 'shape': [3, 3, 1]}),
         "binarize='dynamic'"),
        (lambda: models.build(config('row_lstm', output='categorical'),
                              {**BINARY, 'shape': [3, 3, 1]}), 'not binarised'),
        (lambda: models.build(config('diagonal_bilstm', output='categorical', features=4),
                              {**EIGHT_BIT, 'shape': [3, 3, 3]}), 'multiple of the 3'),
        (lambda: models.build(config('row_lstm', layer='grid_lstm'),
                              {**BINARY, 'shape': [3, 3, 1]}), 'config.model.layer'),
        (lambda: models.build(config('nade'), {**BINARY, 'shape': [3, 3, 3]}), 'one-channel'),
        (lambda: models.build(config('nade'), {**BINARY, 'kind': 'points', 'shape': [2]}),
         'needs images'),
    ]
    for call, message in errors:
        with pytest.raises(JaxgenError, match=message) as e:
            call()
        assert '\n' not in str(e.value)
    rgb, rgb_vars = built('pixelcnn', (2, 3, 3), 'categorical')
    with pytest.raises(JaxgenError, match='binarised'):  # 0/1 in tanh scale: still 8-bit
        models.build(config('pixelcnn', output='categorical'),
                     {**EIGHT_BIT, 'scale': 'unit', 'shape': [2, 3, 3]}).log_prob(
            rgb_vars, np.ones((1, 2, 3, 3)))


def test_order_agnostic_nade_scores_each_image_under_its_own_ordering():
    model, variables = built('nade')
    agnostic = dataclasses.replace(model, order_agnostic=True)
    values = jnp.asarray(EVERY[::97], jnp.int32)  # 6 images
    key = jax.random.key(8)
    got = jax.jit(agnostic.log_likelihood)(variables, values, key)
    orders = jax.vmap(lambda k: jax.random.permutation(k, 9))(jax.random.split(key, 6))
    one_by_one = jax.jit(lambda v, x, o: log_prob_from_logits(model.logits(v, x, o), x))
    expected = [one_by_one(variables, values[i:i + 1], orders[i]) for i in range(6)]
    np.testing.assert_allclose(got, jnp.concatenate(expected), rtol=1e-6)
    assert len({tuple(o) for o in np.asarray(orders)}) == 6
    # Without a key (evaluation) the fixed ordering.
    np.testing.assert_allclose(agnostic.log_likelihood(variables, values),
                               model.log_likelihood(variables, values), rtol=1e-6)
