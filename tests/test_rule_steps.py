"""Each update rule's step against the same step written out by hand.

Two tiny games whose gradients are known in closed form:

* a bilinear game with a batch offset, ``L = x y + b (x + y)``: player ``x``
  minimises ``L`` (gradient ``y + b``), player ``y`` minimises ``-L`` (gradient
  ``-(x + b)``). With SGD every rule's next values are a line of arithmetic;
  with Adam the reference calls ``optax.adam`` itself for each player's proposal and
  writes the rule's logic (look-ahead, extrapolation) by hand;
* a one-sample GAN with a linear discriminator, for the unrolled rule: the
  reference unrolls ``k`` Adam steps of ``D`` written out in jnp and differentiates
  the generator's loss through them with ``jax.grad``.

The forward pass also counts its calls per player in the model state, so the tests
see whose model state each phase writes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen.objectives.base import Objective
from jaxgen.rules import alternating, simultaneous
from jaxgen.rules.extragradient import extragradient
from jaxgen.rules.optimistic import optimistic
from jaxgen.rules.phased import phased
from jaxgen.rules.unrolled import unrolled

LR = 0.1
X0, Y0 = 0.7, -0.4
B = (0.3, -1.1)  # the batch offset b of batches 0 and 1


def bilinear(loss_names=('x', 'y')):
    """``L = x y + b (x + y)``; x minimises L, y minimises -L (losses named ``loss_names``)."""
    def forward(variables, batch, key, train=True):
        del key, train
        outputs = {'x': variables['x']['params'], 'y': variables['y']['params'],
                   'b': batch['b']}
        counts = {p: {'calls': variables[p]['calls'] + 1.0} for p in ('x', 'y')}
        return outputs, counts
    objective = Objective(forward=forward, players=('x', 'y'),
                          loss_names=() if loss_names == ('x', 'y') else loss_names)
    return objective.with_term('xy', lambda o: (o['x'] * o['y'] + o['b'] * (o['x'] + o['y']),
                                                {}), **{loss_names[0]: 1.0, loss_names[1]: -1.0})


def value(x, y, b):
    return x * y + b * (x + y)


def grad_x(x, y, b):
    del x
    return y + b


def grad_y(x, y, b):
    del y
    return -(x + b)


def play(rule, objective=None, steps=1, num_batches=None):
    objective = objective or bilinear()
    params = {'x': jnp.float32(X0), 'y': jnp.float32(Y0)}
    model_state = {'x': {'calls': jnp.float32(0.0)}, 'y': {'calls': jnp.float32(0.0)}}
    state = rule.init(params)
    batches = {'b': jnp.asarray(B[:num_batches or rule.num_batches], jnp.float32)}
    metrics = None
    for t in range(steps):
        params, model_state, state, metrics = rule.update(objective, params, model_state, state,
                                                          batches, jax.random.key(t))
    as_float = lambda tree: {k: (float(v) if not isinstance(v, dict) else as_float(v))  # noqa
                             for k, v in tree.items()}
    return as_float(params), as_float(model_state), as_float(metrics)


def approx(x):
    return pytest.approx(x, rel=1e-5, abs=1e-6)


def sgd():
    return {'x': optax.sgd(LR), 'y': optax.sgd(LR)}


def test_simultaneous_step_is_both_gradients_at_the_same_point():
    params, counts, metrics = play(simultaneous(sgd()))
    b = B[0]
    assert params == {'x': approx(X0 - LR * grad_x(X0, Y0, b)),
                      'y': approx(Y0 - LR * grad_y(X0, Y0, b))}
    assert counts == {'x': {'calls': 1.0}, 'y': {'calls': 1.0}}
    assert metrics['loss/x'] == approx(value(X0, Y0, b))
    assert metrics['loss/y'] == approx(-value(X0, Y0, b))


def test_alternating_step_moves_the_first_player_k_times_on_k_batches_then_the_other():
    params, counts, metrics = play(alternating(sgd(), d_steps=2, first=('x',)))
    x1 = X0 - LR * grad_x(X0, Y0, B[0])
    x2 = x1 - LR * grad_x(x1, Y0, B[1])
    y1 = Y0 - LR * grad_y(x2, Y0, B[1])   # against the moved x, on the last batch
    assert params == {'x': approx(x2), 'y': approx(y1)}
    # x's model state is written by its two steps, y's by its one; neither by the other's
    assert counts == {'x': {'calls': 2.0}, 'y': {'calls': 1.0}}
    # each loss as the player that minimised it saw it, in its last repeat
    assert metrics['loss/x'] == approx(value(x1, Y0, B[1]))
    assert metrics['loss/y'] == approx(-value(x2, Y0, B[1]))
    assert metrics['xy'] == approx(value(x1, Y0, B[1]))   # the term, as x saw it


def test_phased_step_follows_the_schedule_with_loss_names_and_shares_optimizer_state():
    """Phases x (twice), y, x again, with SGD momentum 0.5: x's two phases share one
    momentum trace (optax.sgd: trace = g + 0.5 trace, step -lr trace)."""
    opts = {'x': optax.sgd(LR, momentum=0.5), 'y': optax.sgd(LR, momentum=0.5)}
    rule = phased(opts, [('x:attack',), ('y:defend',), ('x:attack',)], repeats=(2, 1, 1))
    params, counts, _ = play(rule, bilinear(('attack', 'defend')))
    x, y, trace_x = X0, Y0, 0.0
    for b in B:
        trace_x = grad_x(x, y, b) + 0.5 * trace_x
        x -= LR * trace_x
    y -= LR * grad_y(x, y, B[1])
    trace_x = grad_x(x, y, B[1]) + 0.5 * trace_x
    x -= LR * trace_x
    assert params == {'x': approx(x), 'y': approx(y)}
    assert counts == {'x': {'calls': 3.0}, 'y': {'calls': 1.0}}


def test_extragradient_step_applies_the_look_ahead_gradients_from_the_start():
    params, _, _ = play(extragradient(sgd()))
    b = B[0]
    x_half = X0 - LR * grad_x(X0, Y0, b)
    y_half = Y0 - LR * grad_y(X0, Y0, b)
    assert params == {'x': approx(X0 - LR * grad_x(x_half, y_half, b)),
                      'y': approx(Y0 - LR * grad_y(x_half, y_half, b))}


def test_optimistic_step_extrapolates_from_the_previous_update():
    """u_t = -lr g_t; applied: u_0 at the first step, then (1 + a) u_t - a u_{t-1}."""
    alpha, b = 0.5, B[0]
    x, y, previous = X0, Y0, None
    for steps in (1, 2, 3):
        u = (-LR * grad_x(x, y, b), -LR * grad_y(x, y, b))
        applied = u if previous is None else tuple(
            (1 + alpha) * now - alpha * before for now, before in zip(u, previous))
        x, y, previous = x + applied[0], y + applied[1], u
        params, _, _ = play(optimistic(sgd(), alpha=alpha), steps=steps)
        assert params == {'x': approx(x), 'y': approx(y)}, steps


def adam():
    return optax.adam(0.05, b1=0.5, b2=0.9)


def test_extragradient_and_optimistic_with_adam_use_the_optimizer_s_own_proposals():
    """Extra-Adam: the look-ahead's Adam state is thrown away and the real step is
    taken from the original state. Optimistic Adam: 2 u_t - u_{t-1} of Adam's proposals."""
    opt, b = adam(), B[0]

    def proposals(x, y, states):
        (ux, sx), (uy, sy) = (opt.update(jnp.float32(grad_x(x, y, b)), states[0]),
                              opt.update(jnp.float32(grad_y(x, y, b)), states[1]))
        return (float(ux), float(uy)), (sx, sy)

    x, y = X0, Y0
    states = (opt.init(jnp.float32(x)), opt.init(jnp.float32(y)))
    for steps in (1, 2, 3):
        (hx, hy), _ = proposals(x, y, states)             # look-ahead, state not kept
        x_half, y_half = x + hx, y + hy
        (ux, uy), states = proposals(x_half, y_half, states)   # from the kept state
        x, y = x + ux, y + uy
        params, _, _ = play(extragradient({'x': adam(), 'y': adam()}), steps=steps)
        assert params == {'x': approx(x), 'y': approx(y)}, ('extragradient', steps)

    x, y, previous = X0, Y0, None
    states = (opt.init(jnp.float32(x)), opt.init(jnp.float32(y)))
    for steps in (1, 2, 3):
        u, states = proposals(x, y, states)
        applied = u if previous is None else tuple(2 * a - c for a, c in zip(u, previous))
        x, y, previous = x + applied[0], y + applied[1], u
        params, _, _ = play(optimistic({'x': adam(), 'y': adam()}), steps=steps)
        assert params == {'x': approx(x), 'y': approx(y)}, ('optimistic', steps)


# -- the unrolled GAN --------------------------------------------------------------

THETA = jnp.array([0.5, -0.3])          # the generator's one sample
PHI = jnp.array([0.2, 0.4])             # a linear discriminator D(x) = sigmoid(phi . x)
REAL = jnp.array([[1.0, 0.8], [0.6, 1.3]])   # one real point per batch
D_LR, G_LR, B1, B2, EPS, EPS_ROOT = 0.1, 0.3, 0.5, 0.9, 1e-8, 1e-8


def d_loss(theta, phi, real):
    return jax.nn.softplus(-phi @ real) + jax.nn.softplus(phi @ theta)


def g_loss(theta, phi):
    return jax.nn.softplus(-phi @ theta)


def tiny_gan():
    def forward(variables, batch, key, train=True):
        del key, train
        return ({'theta': variables['generator']['params'],
                 'phi': variables['discriminator']['params'], 'real': batch['real']},
                {'generator': {}, 'discriminator': {}})
    return (Objective(forward=forward, players=('generator', 'discriminator'))
            .with_term('d_loss', lambda o: (d_loss(o['theta'], o['phi'], o['real']), {}),
                       discriminator=1.0)
            .with_term('g_loss', lambda o: (g_loss(o['theta'], o['phi']), {}), generator=1.0))


def adam_step(phi, m, v, t, g):
    """One Adam step (Kingma & Ba, Algorithm 1, with eps_root inside the square root)."""
    m, v, t = B1 * m + (1 - B1) * g, B2 * v + (1 - B2) * g ** 2, t + 1
    m_hat, v_hat = m / (1 - B1 ** t), v / (1 - B2 ** t)
    return phi - D_LR * m_hat / (jnp.sqrt(v_hat + EPS_ROOT) + EPS), m, v, t


def d_step(theta, phi, m, v, t, real):
    return adam_step(phi, m, v, t, jax.grad(d_loss, argnums=1)(theta, phi, real))


def unrolled_generator_grad(theta, phi, m, v, t, real, k):
    """d/dtheta of L_G(theta, D_k(theta)), D_k being k Adam steps of D from (phi, m, v, t)."""
    def look_ahead(theta):
        p, m_, v_, t_ = phi, m, v, t
        for _ in range(k):
            p, m_, v_, t_ = d_step(theta, p, m_, v_, t_, real)
        return g_loss(theta, p)
    return jax.grad(look_ahead)(theta)


def run_unrolled(**kwargs):
    opts = {'generator': optax.sgd(G_LR),
            'discriminator': optax.adam(D_LR, b1=B1, b2=B2, eps=EPS, eps_root=EPS_ROOT)}
    rule = unrolled(opts, **kwargs)
    params = {'generator': THETA, 'discriminator': PHI}
    model_state = {'generator': {}, 'discriminator': {}}
    batches = {'real': REAL[:rule.num_batches]}
    params, _, _, _ = rule.update(tiny_gan(), params, model_state, rule.init(params), batches,
                                  jax.random.key(0))
    return params


@pytest.mark.parametrize('k', [1, 3])
def test_unrolled_generator_steps_through_k_hand_written_adam_steps_of_d(k):
    """The rule's default schedule: D takes its d_steps = 2 plain Adam steps (batches 0
    and 1), then G's gradient is taken through k more D steps from there, Adam's moments
    and count included, on the last batch."""
    zeros = jnp.zeros(2)
    phi, m, v, t = d_step(THETA, PHI, zeros, zeros, 0, REAL[0])
    phi, m, v, t = d_step(THETA, phi, m, v, t, REAL[1])
    grad = unrolled_generator_grad(THETA, phi, m, v, t, REAL[1], k)
    params = run_unrolled(unroll_steps=k, d_steps=2)
    np.testing.assert_allclose(params['discriminator'], phi, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(params['generator'], THETA - G_LR * grad, rtol=1e-5, atol=1e-7)
    # The unroll matters here: the plain gradient at the same D is another step.
    plain = jax.grad(g_loss)(THETA, phi)
    assert np.max(np.abs(np.asarray(grad - plain))) > 1e-3


def test_simultaneous_unrolled_step_unrolls_from_the_discriminator_before_its_step():
    zeros = jnp.zeros(2)
    phi, _, _, _ = d_step(THETA, PHI, zeros, zeros, 0, REAL[0])
    grad = unrolled_generator_grad(THETA, PHI, zeros, zeros, 0, REAL[0], 3)
    params = run_unrolled(unroll_steps=3, simultaneous=True)
    np.testing.assert_allclose(params['discriminator'], phi, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(params['generator'], THETA - G_LR * grad, rtol=1e-5, atol=1e-7)
