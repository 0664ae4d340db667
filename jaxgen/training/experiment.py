"""From a config to the pieces of a run: model, objective, rule, state, step.

The config names every piece; this module looks each one up and wires them
together. Nothing here knows what a generator or an encoder is.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import flax
import jax
import jax.numpy as jnp
import optax

from jaxgen import models, objectives, rules
from jaxgen.errors import JaxgenError
from jaxgen.models.layers.conv import cpu_speedups
from jaxgen.models.layers import join_variables, split_variables
from jaxgen.training import health, parallel, seeded

PRECISIONS = {'float32': jnp.float32, 'bfloat16': jnp.bfloat16}


@flax.struct.dataclass
class TrainState:
    step: jax.Array
    params: dict
    model_state: dict
    rule_state: dict
    ema: dict = dataclasses.field(default_factory=dict)  # player -> averaged params
    # The first step at which each player's parameters, or the metrics, were not
    # finite; 0 while they are (training/health.py).
    health: dict = dataclasses.field(default_factory=dict)


def build_schedule(player: str, lr_config) -> optax.Schedule:
    """``optax.<name>(**rest)`` from ``{name: 'exponential_decay', init_value: ...}``."""
    kwargs = dict(lr_config)
    name = kwargs.pop('name', None)
    factory = getattr(optax.schedules, str(name), None)
    if not (callable(factory) and str(name).endswith(('schedule', 'decay'))):
        raise JaxgenError(f'config.optimizers.{player}.learning_rate.name={name!r} is not an '
                          'optax schedule; use e.g. exponential_decay, cosine_decay_schedule, '
                          'piecewise_constant_schedule, warmup_cosine_decay_schedule')
    if 'boundaries_and_scales' in kwargs:  # config keys are strings; optax wants step ints
        kwargs['boundaries_and_scales'] = {int(k): float(v) for k, v in
                                           dict(kwargs['boundaries_and_scales']).items()}
    try:
        return factory(**kwargs)
    except (TypeError, ValueError) as e:
        raise JaxgenError(f'config.optimizers.{player}.learning_rate: optax.{name} rejects '
                          f'{sorted(kwargs)} ({e})') from e


def build_optimizer(player: str, opt_config) -> optax.GradientTransformation:
    """``optax.<name>(**rest)`` from ``{name: ..., learning_rate: ..., ...}``; the
    learning rate is a number or a schedule ``{name: <optax schedule>, ...}``, which
    counts this player's own updates."""
    kwargs = dict(opt_config)
    name = kwargs.pop('name', None)
    if hasattr(kwargs.get('learning_rate'), 'keys'):
        kwargs['learning_rate'] = build_schedule(player, kwargs['learning_rate'])
    factory = getattr(optax, str(name), None)
    if not callable(factory):
        raise JaxgenError(f'config.optimizers.{player}.name={name!r} is not an optax '
                          'optimizer; use e.g. adam, adamw, sgd, rmsprop')
    try:
        return factory(**kwargs)
    except TypeError as e:
        raise JaxgenError(f'config.optimizers.{player}: optax.{name} rejects '
                          f'{sorted(kwargs)} ({e})') from e


def build_optimizers(optimizers_config, players, frozen=()
                     ) -> dict[str, optax.GradientTransformation]:
    """One optimizer per player, except the ``frozen`` ones (``config.frozen``), which
    have none: no rule moves them, while their parameters stay in the state."""
    frozen = tuple(frozen)
    unknown = sorted(set(frozen) - set(players))
    if unknown:
        raise JaxgenError(f'config.frozen names {unknown}, which are not players of the '
                          f'model ({sorted(players)})')
    both = sorted(set(frozen) & set(optimizers_config))
    if both:
        raise JaxgenError(f'config.frozen lists {both}, which config.optimizers also gives '
                          'an optimizer; a frozen player has none: remove one of the two')
    players = tuple(p for p in players if p not in frozen)
    missing = sorted(set(players) - set(optimizers_config))
    if missing:
        raise JaxgenError(f'config.optimizers has no entry for player(s) {missing}; '
                          f'the model\'s players are {sorted(players)} (list a player that '
                          'never trains in config.frozen)')
    extra = sorted(set(optimizers_config) - set(players))
    if extra:
        raise JaxgenError(f'config.optimizers names {extra}, which are not players of '
                          f'model {players!r}')
    optimizers = {}
    for player in players:
        opt_config = dict(optimizers_config[player])
        # per_loss: {loss: optimizer}: the player's own optimizer, with its own state,
        # in the phases where it minimises that loss (rules/base.py), as 'player:loss'
        per_loss = opt_config.pop('per_loss', None) or {}
        optimizers[player] = build_optimizer(player, opt_config)
        for loss, loss_config in dict(per_loss).items():
            optimizers[f'{player}:{loss}'] = build_optimizer(
                f'{player}.per_loss.{loss}', loss_config)
    return optimizers


def root_keys(seed: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(init_key, data_key, step_key)``: every random draw of a run derives
    from these, the per-step ones through ``fold_in(step)``."""
    init_key, data_key, step_key = jax.random.split(jax.random.key(seed), 3)
    return init_key, data_key, step_key


@dataclasses.dataclass(frozen=True)
class Experiment:
    config: Any
    data_info: Mapping[str, Any]
    model: Any
    objective: objectives.Objective
    rule: rules.UpdateRule

    @property
    def seed(self) -> int:
        return int(self.config.seed)

    @property
    def ema(self) -> tuple[float, tuple[str, ...]]:
        """``(decay, players)`` of the weight average; no players when off."""
        return ema_settings(self.config)

    def init_state(self) -> TrainState:
        """The state at step 0 (one compiled program: op by op, initialisation
        compiles every layer's every operation separately, slow on CPU)."""
        return jax.jit(self._init_state)()

    def _init_state(self, seed=None) -> TrainState:  # seed: traced by training/seeds.py
        init_key, _, _ = root_keys(self.seed if seed is None else seed)
        variables = self.model.init(init_key)
        params, model_state = {}, {}
        for player, v in variables.items():
            params[player], model_state[player] = split_variables(v)
        _, averaged = self.ema
        return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                          model_state=model_state, rule_state=self.rule.init(params),
                          # copies: the step donates the state, so no buffer may appear twice
                          ema={p: jax.tree.map(jnp.copy, params[p]) for p in averaged},
                          health=health.initial(params))

    def abstract_state(self, sharding=None) -> TrainState:
        """The state's shapes and dtypes (with ``sharding``, for restoring onto a mesh)."""
        shapes = jax.eval_shape(self.init_state)
        if sharding is None:
            return shapes
        return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding),
                            shapes)

    def variables(self, state: TrainState, ema: bool = True) -> dict:
        """Each player's Linen variables, for sampling and evaluation; a player's
        averaged weights when it has them (and ``ema``). BatchNorm averages stay
        those collected with the raw weights."""
        params = {**state.params, **(state.ema if ema else {})}
        return {p: join_variables(params[p], state.model_state[p]) for p in params}

    def make_train_step(self, draw: Callable | None, batch_size: int, mesh=None,
                        steps: int = 1, unroll: int = 1,
                        transform: Callable | None = None, schedule=None) -> Callable:
        """The jitted ``(state, data) -> (state, metrics)`` running ``steps``
        train steps in one call; the state is donated. The seed is an argument of the
        program, bound here (:class:`jaxgen.training.seeded.Bound`), so every seed's run
        compiles the same program.

        ``data`` is the device-resident ``arrays`` that ``draw`` draws from (the
        on-device path), or, with ``transform`` (the streaming path), the raw rows
        ``[num_batches, batch, ...]`` the host gathered for this step (``[steps,
        num_batches, batch, ...]`` when fused), which ``transform`` turns into the
        batches ``draw`` would have drawn.

        With a ``mesh`` the state and arrays are replicated over it and each batch
        is sharded along its ``'data'`` axis. ``steps > 1`` fuses the steps in a
        ``lax.scan``, returning the last step's metrics: the host is needed once per
        call, not once per step. ``unroll`` steps make one iteration of the scan's
        loop: fewer loop trips, each of which XLA:GPU ends by reading the loop's
        predicate back on the host unless its command buffers (CUDA graphs) take it.
        ``schedule`` (single steps only): the phases this program runs, chosen by the
        host (:func:`jaxgen.rules.base.lazy_schedule`); None: ``lax.cond`` chooses.
        """
        streamed = transform is not None
        if schedule is not None and steps != 1:
            raise ValueError('a host-chosen schedule is for single steps; fused steps '
                             'choose lazy phases with lax.cond')

        def fn(state, data, seed):  # the seed is the program's argument (training/seeded.py)
            step_fn = self.train_step_fn(draw, batch_size, mesh, transform, seed=seed,
                                         schedule=schedule)
            return (step_fn if steps == 1 else fuse(step_fn, steps, unroll, streamed))(state, data)
        if mesh is None:
            return seeded.Bound(jax.jit(fn, donate_argnums=0), self.seed)
        everywhere = parallel.replicated(mesh)
        data_sharding = (parallel.batch_sharding(mesh, leading=1 if steps == 1 else 2)
                         if streamed else everywhere)
        return seeded.Bound(jax.jit(fn, donate_argnums=0,
                                    in_shardings=(everywhere, data_sharding, everywhere),
                                    out_shardings=(everywhere, everywhere)), self.seed)

    def train_step_fn(self, draw: Callable | None, batch_size: int, mesh=None,
                      transform: Callable | None = None, seed=None,
                      schedule=None) -> Callable:
        """The pure step ``(state, data) -> (state, metrics)``, not yet jitted.

        Batches are drawn inside the step from the device-resident arrays, or made
        by ``transform`` from the host's raw rows (:meth:`make_train_step`); either
        way they are sharded over ``mesh`` when given, and each carries the step.
        ``schedule``: the rule's phases this step runs (None: all, the lazy ones
        chosen inside the step).
        """
        objective, rule = self.objective, self.rule
        seed = self.seed if seed is None else seed  # traced by training/seeds.py
        decay, _ = self.ema
        speedups = bool(self.config.get('cpu_speedups', False))

        def train_step(state: TrainState, data):
            _, data_key, step_key = root_keys(seed)
            key = jax.random.fold_in(step_key, state.step)
            # The data key is fixed and the draw index advances with the step, so
            # epochs are permutations of the data, identical on resume.
            first = state.step * rule.num_batches
            if transform is None:
                batches = [draw(data, data_key, first + i, batch_size)
                           for i in range(rule.num_batches)]
            else:
                batches = [transform(jax.tree.map(lambda x, i=i: x[i], data), data_key,
                                     first + i) for i in range(rule.num_batches)]
            batches = jax.tree.map(lambda *xs: jnp.stack(xs), *batches)
            if mesh is not None:  # each device draws only its own rows
                batches = jax.lax.with_sharding_constraint(
                    batches, parallel.batch_sharding(mesh, leading=1))
            # The step travels with the batch, for schedules inside terms (KL warm-up).
            batches['step'] = jnp.full((rule.num_batches,), state.step)
            with cpu_speedups(speedups):  # read while the step traces
                params, model_state, rule_state, metrics = rule.update(
                    objective, state.params, state.model_state, state.rule_state,
                    batches, key, schedule=schedule)
            # Exponential moving average of the averaged players' weights.
            ema = {p: optax.incremental_update(params[p], e, step_size=1.0 - decay)
                   for p, e in state.ema.items()}
            new_state = TrainState(step=state.step + 1, params=params, model_state=model_state,
                                   rule_state=rule_state, ema=ema,
                                   health=health.update(state.health, state.step + 1, params,
                                                        ema, metrics))
            return new_state, metrics

        return train_step


def fuse(step_fn: Callable, steps: int, unroll: int = 1, streamed: bool = False) -> Callable:
    """``steps`` applications of ``step_fn`` as one ``lax.scan`` (``unroll`` steps
    per loop iteration); last metrics. ``streamed``: the data are per-step rows
    stacked on a leading axis, scanned over; else the same arrays every step."""
    def fused(state, data):
        if streamed:
            state, metrics = jax.lax.scan(step_fn, state, data, unroll=min(unroll, steps))
        else:
            state, metrics = jax.lax.scan(lambda s, _: step_fn(s, data), state,
                                          length=steps, unroll=min(unroll, steps))
        return state, jax.tree.map(lambda m: m[-1], metrics)
    return fused


def ema_settings(config) -> tuple[float, tuple[str, ...]]:
    """``(decay, players)`` from ``config.ema``; no players when the decay is 0."""
    ema = config.get('ema') or {}
    decay = float(ema.get('decay', 0.0))
    if not 0.0 <= decay < 1.0:
        raise JaxgenError(f'config.ema.decay must be in [0, 1) (0: off), got {decay}')
    return decay, (tuple(ema.get('players', ())) if decay > 0.0 else ())


def build(config, data_info: Mapping[str, Any]) -> Experiment:
    """Builds every piece the config names, for data described by ``data_info``."""
    model = models.build(config.model, data_info)
    precision = config.get('precision', 'float32')
    if precision not in PRECISIONS:
        raise JaxgenError(f'config.precision={precision!r}; use one of {sorted(PRECISIONS)}')
    objective = objectives.in_precision(objectives.build(config.objective, model),
                                        PRECISIONS[precision])
    optimizers = build_optimizers(config.optimizers, tuple(model.players),
                                  config.get('frozen', ()))
    rule = rules.build(config.rule, optimizers)
    _, averaged = ema_settings(config)
    unknown = sorted(set(averaged) - set(model.players))
    if unknown:
        raise JaxgenError(f'config.ema.players names {unknown}, which are not players of '
                          f'the model ({sorted(model.players)})')
    exp = Experiment(config=config, data_info=data_info, model=model,
                     objective=objective, rule=rule)
    if config.get('num_seeds', 1) != 1:  # N seeds in one program (training/seeds.py)
        from jaxgen.training import seeds  # pylint: disable=import-outside-toplevel
        return seeds.many(exp)
    return exp
