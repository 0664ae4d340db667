"""Helpers shared by tests."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import rules
from jaxgen.models.layers import split_variables


def player_grads(objective, phase, *args, **kwargs):
    """``rules.player_grads`` as one compiled program (op by op, a test would spend
    most of its time compiling every operation of the step on its own)."""
    return jax.jit(lambda *a: rules.player_grads(objective, phase, *a, **kwargs))(*args)


def init_players(model, seed: int = 0):
    """``(params, state)`` per player of ``model.init(key(seed))``."""
    params, state = {}, {}
    for player, variables in model.init(jax.random.key(seed)).items():
        params[player], state[player] = split_variables(variables)
    return params, state


def apply_phase(objective, optimizers, phase, *args, **kwargs):
    """``rules.apply_phase`` as one compiled program."""
    return jax.jit(lambda *a: rules.apply_phase(objective, optimizers, phase, *a, **kwargs))(
        *args)


def assert_layer_matches_flax(flax_layer, ours, x, exact: bool = True):
    """``ours`` has ``flax_layer``'s parameter shapes, its forward pass exactly (or
    with ``exact=False``, to float rounding: the same sums in another order), and
    its gradients (parameters and input) to float rounding."""
    variables = flax_layer.init(jax.random.key(1), x)
    assert (jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x))
            == jax.tree.map(jnp.shape, variables))  # checkpoints load either way
    y = flax_layer.apply(variables, x)
    assert_values_match(ours.apply(variables, x), y, exact)

    cotangent = jax.random.normal(jax.random.key(2), y.shape)

    def grads(layer):
        return jax.grad(lambda v, x: jnp.sum(layer.apply(v, x) * cotangent), (0, 1))(
            variables, x)
    expected, got = grads(flax_layer), grads(ours)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))


def assert_values_match(got, expected, exact: bool):
    """Equal, or (``exact=False``) equal to float rounding relative to the largest."""
    if exact:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5,
                                   atol=1e-6 * float(jnp.abs(expected).max()))


def assert_derivatives_match(ours, reference, x, custom: bool, exact: bool = True):
    """Every kind of derivative of ``sum(c * sin(layer(v, x)))`` through ``ours.apply``
    equals, to float rounding, the same through ``reference(v, x)`` (the layer written
    with plain ``lax``): forward mode (``jvp``, ``linearize``, a ``vmap`` of ``jvp``
    over tangents), reverse mode, a Hessian-vector product (``jvp`` of ``grad``), the
    gradient of a squared gradient norm (``grad`` of ``grad``, as in gradient
    penalties) and ``vmap``-ed per-example gradients; the values exactly. ``custom``:
    whether ``ours`` must run a ``custom_jvp`` here (else autodiff's own rules);
    ``exact=False``: the values too only to float rounding."""
    variables = ours.init(jax.random.key(1), x)
    y = jax.eval_shape(ours.apply, variables, x)
    keys = iter(jax.random.split(jax.random.key(2), 4 + len(jax.tree.leaves(variables))))
    c = jax.random.normal(next(keys), y.shape)
    tangent = (jax.tree.map(lambda a: jax.random.normal(next(keys), a.shape), variables),
               jax.random.normal(next(keys), x.shape))
    x_tangents = jax.random.normal(next(keys), (2, *x.shape))
    assert ('custom_jvp_call' in str(jax.make_jaxpr(ours.apply)(variables, x))) == custom

    def derivatives(apply, v, x):
        def loss(v, x):
            return jnp.sum(jnp.sin(apply(v, x)) * c)

        def one_example(v, xi, ci):
            return jnp.sum(jnp.sin(apply(v, xi[None])[0]) * ci)

        def squared_grad_norm(v, x):
            grads = jax.tree.leaves(jax.grad(loss, (0, 1))(v, x))
            return sum(jnp.sum(jnp.square(g)) for g in grads)

        _, linear = jax.linearize(loss, v, x)
        return {'value': apply(v, x),
                'jvp': jax.jvp(loss, (v, x), tangent)[1],
                'linearize': linear(*tangent),
                'vmap_jvp': jax.vmap(lambda t: jax.jvp(loss, (v, x), (tangent[0], t))[1])(
                    x_tangents),
                'grad': jax.grad(loss, (0, 1))(v, x),
                'hvp': jax.jvp(jax.grad(loss, (0, 1)), (v, x), tangent)[1],
                'grad_of_grad': jax.grad(squared_grad_norm, (0, 1))(v, x),
                'vmap_grad': jax.vmap(jax.grad(one_example), (None, 0, 0))(v, x, c)}

    got = jax.jit(lambda v, x: derivatives(ours.apply, v, x))(variables, x)
    expected = jax.jit(lambda v, x: derivatives(reference, v, x))(variables, x)
    assert_values_match(got.pop('value'), expected.pop('value'), exact)
    for name in got:
        for a, b in zip(jax.tree.leaves(got[name]), jax.tree.leaves(expected[name])):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * float(jnp.abs(b).max()),
                                       err_msg=name)


def data_config(name: str, **fields):
    """``base_config().data`` for dataset ``name`` with ``fields`` set; a field of
    sub-dict (``tfds``, ``folder``, ``mixture``, ``edges``) is given by its own name."""
    from jaxgen.config import base_config  # pylint: disable=import-outside-toplevel
    config = base_config().data
    config.name = name
    for key, value in fields.items():
        sub = next((s for s in ('tfds', 'folder', 'mixture', 'edges') if key in config[s]), None)
        (config[sub] if sub else config)[key] = value
    return config


def one_line(error) -> str:
    """The message of an error caught by ``pytest.raises``, checked to be one line."""
    message = str(error.value)
    assert message and '\n' not in message
    return message


def term_reach(objective, params, state, batch, key) -> dict[str, set[str]]:
    """For each term of ``objective``, the players whose parameters its (unweighted)
    value depends on: those with a non-zero derivative along a random direction in that
    player's parameters (zero almost surely only when the gradient is zero), each finite.
    Forward mode, one ``jvp`` per player in one program: half the compile of a ``jacrev``
    over the terms, for the same answer."""

    names, players = [t.name for t in objective.terms], sorted(params)

    def values(p):  # every term's value
        metrics = objective(p, state, batch, key)[1].metrics
        return jnp.stack([metrics[n] for n in names])
    rng = np.random.default_rng(0)
    tangents = {  # [players, ...]: a random direction in one player's parameters each
        owner: jax.tree.map(lambda x, owner=owner: np.stack([
            rng.normal(size=x.shape) if player == owner else np.zeros(x.shape)
            for player in players]).astype(x.dtype), params[owner])
        for owner in players}
    derivatives = np.asarray(jax.jit(lambda p, t: jax.vmap(
        lambda direction: jax.jvp(values, (p,), (direction,))[1])(t))(params, tangents))
    reach = {}
    for i, name in enumerate(names):
        assert np.all(np.isfinite(derivatives[:, i])), name
        reach[name] = {player for j, player in enumerate(players) if derivatives[j, i] != 0}
    return reach


def traced_once_and_resumed(exp, draw, batch_size: int, checkpoint_dir, steps: int = 4,
                            saved_at: int = 2):
    """Runs ``exp``'s train step (traced at most once) ``steps`` times, saves the state
    after step ``saved_at``, restores it, runs on to ``steps`` and asserts the result is
    bit-identical to the uninterrupted run's. Returns the states after each step."""
    import chex  # pylint: disable=import-outside-toplevel
    from jaxgen.training import Checkpoints  # pylint: disable=import-outside-toplevel
    chex.clear_trace_counter()
    step = jax.jit(chex.assert_max_traces(exp.train_step_fn(draw, batch_size), n=1))
    state, straight = exp.init_state(), []
    for _ in range(steps):
        state, metrics = step(state, {})
        straight.append((jax.device_get(state), jax.device_get(metrics)))
    checkpoints = Checkpoints(checkpoint_dir)
    checkpoints.save(saved_at, straight[saved_at - 1][0], force=True)
    checkpoints.wait()
    resumed = checkpoints.restore(saved_at, exp.abstract_state())
    checkpoints.close()
    for _ in range(steps - saved_at):
        resumed, _ = step(resumed, {})
    chex.assert_trees_all_equal(jax.device_get(resumed), straight[-1][0])
    return straight


def kill_at(at: int):
    """A training hook that sends this process SIGTERM after step ``at`` (a preemption)."""
    import os  # pylint: disable=import-outside-toplevel
    import signal  # pylint: disable=import-outside-toplevel

    def hook(step, state):
        del state
        if step == at:
            os.kill(os.getpid(), signal.SIGTERM)
    return hook


def count_step_builds(monkeypatch) -> list[dict]:
    """The keyword arguments of every build of a train step from now on. The step is
    built while its program traces (its seed is the program's argument), so one build
    is one trace."""
    from jaxgen.training import experiment  # pylint: disable=import-outside-toplevel
    original = experiment.Experiment.train_step_fn
    builds = []

    def counted(self, *args, **kwargs):
        builds.append(kwargs)
        return original(self, *args, **kwargs)
    monkeypatch.setattr(experiment.Experiment, 'train_step_fn', counted)
    return builds
