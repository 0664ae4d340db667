"""Update rules: optax-style ``init``/``update`` pairs over named players.

A rule owns one optax ``GradientTransformation`` per player and decides the
order in which players move. It knows nothing of models or data: it calls an
``Objective`` and differentiates each player's loss with respect to that
player's parameters alone. Every rule here is a sequence of *phases*:

* a phase is a mapping ``{player: loss name}``; all its players' gradients
  are taken at the same point, then all of them step;
* later phases see the parameters (and model state) that earlier phases
  produced;
* a phase may repeat (``k`` discriminator steps), each repeat on its own batch;
* a phase may run only every ``k`` train steps (``every``: lazy regularisation),
  on the last step of each block of ``k`` (``(step + 1) % k == 0``), chosen inside the
  compiled step by ``lax.cond`` (one trace for every step; it reads ``batches['step']``),
  or by the host: ``update(..., schedule=...)`` traces a program that runs the phases
  ``schedule`` marks and skips the others (:func:`lazy_schedule` gives a step's;
  the trainer's ``config.lazy_phases`` picks the way).

Players with no optimizer (``config.frozen``) are in no phase: no gradient is
taken for them, their parameters and model state never change, and they have
no optimizer state, while the forward pass still reads them.

Alternating and simultaneous play are two schedules of this one mechanism.

``update(objective, params, model_state, state, batches, key, schedule=None)`` returns
``(params, model_state, state, metrics)``. ``batches`` has a leading axis of
``rule.num_batches``; ``key`` is the step's key. ``rule.every`` holds each phase's
period (1: every step).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax

from jaxgen.errors import JaxgenError

Params = Mapping[str, Any]
Phase = Mapping[str, str]  # player -> name of the loss it minimises


class UpdateRule(NamedTuple):
    init: Callable[[Params], dict]
    update: Callable[..., tuple[dict, dict, dict, dict]]
    num_batches: int
    every: tuple[int, ...] = ()  # each phase's period in steps (1: every step)


Schedule = tuple[bool, ...]  # which phases run on a step, one flag per phase


def lazy_schedule(every: Sequence[int], step: int) -> Schedule:
    """The phases that run on (0-based) ``step``: those with period 1, and those whose
    block of ``k`` steps ends there, ``(step + 1) % k == 0`` (:func:`every_k`)."""
    return tuple(k == 1 or (step + 1) % k == 0 for k in every)


def schedules(every: Sequence[int]) -> list[Schedule]:
    """Every schedule a run meets, one cycle of all periods long, the one that runs
    every phase first."""
    cycle = math.lcm(*every) if every else 1
    return sorted({lazy_schedule(every, s) for s in range(cycle)}, reverse=True)


def player_grads(objective, phase: Phase, params: Params, model_state, batch,
                 key, lookahead: Callable[[dict], dict] | None = None,
                 ) -> tuple[dict, dict, Any]:
    """Each phase player's gradient of its own loss, at one point.

    One forward pass; one backward pass per player, pulling back a cotangent
    that selects that player's loss, so a loss reaches only its own player.
    ``lookahead`` (optional) maps the parameters to those the losses are taken
    at, differentiably (the unrolled GAN's k discriminator steps).
    """
    def f(trainable):
        point = {**params, **trainable}
        if lookahead is not None:
            point = lookahead(point)
        return objective(point, model_state, batch, key)

    trainable = {p: params[p] for p in phase}
    losses, vjp_fn, aux = jax.vjp(f, trainable, has_aux=True)
    grads = {}
    for player, loss_name in phase.items():
        cotangent = {k: jnp.zeros_like(v) for k, v in losses.items()}
        cotangent[loss_name] = jnp.ones_like(losses[loss_name])
        grads[player] = vjp_fn(cotangent)[0][player]
    return grads, losses, aux


def default_grads(objective, phase, params, model_state, opt_state, batch, key):
    del opt_state
    return player_grads(objective, phase, params, model_state, batch, key)


def optimizer_key(optimizers: Mapping[str, Any], player: str, loss_name: str) -> str:
    """The optimizer (and optimizer state) a player steps with when it minimises
    ``loss_name``: its own ``player:loss`` entry if there is one, else ``player``'s."""
    pair = f'{player}:{loss_name}'
    return pair if pair in optimizers else player


def apply_phase(objective, optimizers: Mapping[str, optax.GradientTransformation],
                phase: Phase, params, model_state, opt_state, batch, key,
                grads_fn: Callable = default_grads):
    """One step of a phase: gradients at one point, then every player moves.

    ``grads_fn(objective, phase, params, model_state, opt_state, batch, key)``
    returns ``(grads, losses, aux)``; by default ``player_grads``.
    """
    grads, losses, aux = grads_fn(objective, phase, params, model_state, opt_state,
                                  batch, key)
    params, model_state, opt_state = dict(params), dict(model_state), dict(opt_state)
    for player, loss_name in phase.items():
        name = optimizer_key(optimizers, player, loss_name)
        updates, opt_state[name] = optimizers[name].update(
            grads[player], opt_state[name], params[player])
        params[player] = optax.apply_updates(params[player], updates)
        model_state[player] = aux.model_state[player]
    metrics = {**aux.metrics, **{f'loss/{name}': value for name, value in losses.items()}}
    return params, model_state, opt_state, metrics


def every_k(run: Callable, k: int, runs: bool | None = None) -> Callable:
    """``run(params, model_state, opt_state, batch, key)`` on the last step of each
    block of ``k`` steps, ``(batch['step'] + 1) % k == 0`` (StarGAN's ``(i + 1) %
    n_critic == 0``): a run logging every multiple of ``k`` steps logs a step on
    which the phase ran. On other steps nothing moves and the phase's metrics read
    0. ``runs=None``: chosen by ``lax.cond``, both branches compiled once, so no step
    retraces; ``True``/``False``: the host has chosen, and only that branch is traced."""
    if k == 1:
        return run

    def lazy(params, model_state, opt_state, batch, key):
        operands = (params, model_state, opt_state, batch, key)
        if runs:
            return run(*operands)
        if runs is None and 'step' not in batch:
            raise JaxgenError(f"a phase runs every {k} steps, but the batch has no 'step': "
                              "pass batch['step'] (the trainer does)")
        shapes = jax.eval_shape(run, *operands)[3]

        def skip(params, model_state, opt_state, batch, key):
            del batch, key
            return (dict(params), dict(model_state), dict(opt_state),
                    jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes))
        if runs is False:
            return skip(*operands)
        return jax.lax.cond((batch['step'] + 1) % k == 0, run, skip, *operands)
    return lazy


def phase_terms(objective, phases: Sequence[Phase], i: int,
                owner: Callable[[str, int], bool]):
    """``objective`` restricted to what phase ``i`` needs: the terms weighted for a loss
    it minimises, and those whose metrics it reports (``owner``). The others add
    nothing to its losses, so its gradients are the same; left out, they cost nothing
    (StyleGAN's R1 and a GAN's gradient penalty are not evaluated while G moves).
    Objectives without named terms are used whole."""
    if not hasattr(objective, 'only'):
        return objective
    minimised = set(phases[i].values())
    return objective.only(
        t.name for t in objective.terms
        if owner(t.name, i) or any(w != 0.0 and loss in minimised for loss, w in t.weights))


def metric_owners(objective, phases: Sequence[Phase]) -> Callable[[str, int], bool]:
    """Which phase reports a metric: the one that moves its players.

    ``loss/<name>`` comes from the phase that minimises that loss; a term's value
    and its metrics (``<term>`` and ``<term>/...``) from the first phase that
    minimises a loss the term is weighted for, i.e. as that player saw it.
    Other metrics come from the last phase.
    """
    term_phase = {}
    for term in getattr(objective, 'terms', ()):
        losses = [name for name, w in term.weights if w != 0.0]
        for i, phase in enumerate(phases):
            if any(name in phase.values() for name in losses):
                term_phase[term.name] = i
                break

    def owns(name: str, i: int) -> bool:
        if name.startswith('loss/'):
            return name[len('loss/'):] in phases[i].values()
        root = name.split('/')[0]
        return term_phase.get(root, len(phases) - 1) == i
    return owns


def sequential(optimizers: Mapping[str, optax.GradientTransformation],
               phases: Sequence[Phase], repeats: Sequence[int] | None = None,
               grads_fns: Sequence[Callable | None] | None = None,
               every: Sequence[int] | None = None) -> UpdateRule:
    """Phases in order, phase ``i`` repeated ``repeats[i]`` times, on the steps
    ending each block of ``every[i]`` (default 1: every step; see :func:`every_k`).

    The repeats of the first phase use batches ``0..k-1``; every other phase
    uses the last batch, so ``num_batches = max(repeats)``. ``grads_fns[i]``
    (optional) replaces ``player_grads`` for phase ``i``.
    """
    grads_fns = tuple(g or default_grads for g in (grads_fns or [None] * len(phases)))
    repeats = tuple(repeats or [1] * len(phases))
    every = tuple(every or [1] * len(phases))
    phases = tuple(dict(p) for p in phases)
    if len(repeats) != len(phases) or min(repeats) < 1:
        raise ValueError(f'need one repeat count >= 1 per phase, got {repeats}')
    if len(every) != len(phases) or not all(isinstance(k, int) and k >= 1 for k in every):
        raise JaxgenError(f'config.rule.every needs one integer >= 1 per phase (1: every '
                          f'step), got {every!r} for {len(phases)} phases')
    # A player may move in several phases (the AAE's encoder: reconstruction,
    # then generator). By default its one optimizer state takes a step in each; an
    # optimizer named 'player:loss' (config.optimizers.<player>.per_loss.<loss>)
    # gives those phases their own optimizer and state, so that, e.g., Adam's scale
    # for one loss is not set by another loss's gradients.
    players = sorted({p for phase in phases for p in phase})
    missing = sorted(set(players) - set(optimizers))
    if missing:
        raise JaxgenError(f'the rule moves {missing}, which have no optimizer (frozen '
                          f'players, config.frozen, are in no phase); players with '
                          f'optimizers: {sorted(k for k in optimizers if ":" not in k)}')
    moving = sorted({optimizer_key(optimizers, p, loss) for phase in phases
                     for p, loss in phase.items()})
    unused = sorted(k for k in optimizers if ':' in k and k not in moving)
    if unused:
        raise JaxgenError(f'optimizers for {unused} (config.optimizers.<player>.per_loss.'
                          '<loss>), but no phase of the rule moves a player for that loss; '
                          'its phases move ' + ', '.join(
                              f'{p}:{loss}' for phase in phases for p, loss in phase.items()))
    num_batches = max(repeats)

    def init(params: Params) -> dict:
        return {k: optimizers[k].init(params[k.partition(':')[0]]) for k in moving}

    def update(objective, params, model_state, state, batches, key,
               schedule: Schedule | None = None):
        if schedule is not None and (len(schedule) != len(phases) or not all(
                runs for runs, k in zip(schedule, every) if k == 1)):
            raise JaxgenError(f'a schedule needs one flag per phase ({len(phases)}), True '
                              f'for those run every step (every={every}), got {schedule!r}')
        owner = metric_owners(objective, phases)
        metrics = {}
        for i, (phase, k, grads_fn, n) in enumerate(zip(phases, repeats, grads_fns, every)):
            # A phase with the default gradients evaluates only the terms it needs;
            # others (the unrolled GAN's lookahead) may read any loss.
            phase_objective = (phase_terms(objective, phases, i, owner)
                               if grads_fn is default_grads else objective)
            run = every_k(functools.partial(apply_phase, phase_objective, optimizers, phase,
                                            grads_fn=grads_fn), n,
                          None if schedule is None else bool(schedule[i]))
            for j in range(k):
                index = j if k > 1 else num_batches - 1
                batch = jax.tree.map(lambda x, index=index: x[index], batches)
                phase_key = jax.random.fold_in(jax.random.fold_in(key, i), j)
                params, model_state, state, phase_metrics = run(
                    params, model_state, state, batch, phase_key)
            for name, value in phase_metrics.items():
                if owner(name, i):
                    metrics[name] = value
        return params, model_state, state, metrics

    return UpdateRule(init, update, num_batches, every)
