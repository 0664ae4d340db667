"""Objectives: pure functions from parameters, model state, batch and key to a
loss per player plus metrics, built as weighted sums of terms.

A *term* reads the model's named outputs and returns a scalar and metrics::

    def term(outputs) -> (value, metrics)

The value is logged under the term's name, its metrics under
``<term name>/<metric>``.

A *scheduled* term carries a schedule, ``step -> scale`` (a KL warm-up, a ramp of
InfoGAN's λ). The objective gives it the batch's ``step`` explicitly and scales the
term's value (not its metrics) by it, logging ``<term name>/scale``; a batch with
no ``step`` is then an error, never a silent full weight. Unscheduled terms never
see the step.

An ``Objective`` runs the model's ``forward`` once and adds every term, times
its per-player weight, to those players' losses. Composition is adding terms:
InfoGAN is ``gan_objective(...).with_term('info', info_term, generator=λ,
q=λ)``, with no other code. Calling an objective::

    losses, aux = objective(params, model_state, batch, key)
    # losses: {player: scalar}; aux.metrics: {name: scalar};
    # aux.model_state: every player's updated state (BatchNorm averages)

Update rules differentiate ``losses[p]`` with respect to ``params[p]`` alone,
so a term reaches exactly the players it is weighted for.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, NamedTuple

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.models.layers import compute_dtype, join_variables

Term = Callable[[Mapping[str, jax.Array]], tuple[jax.Array, Mapping[str, jax.Array]]]
Schedule = Callable[[jax.Array], jax.Array]  # step -> scale of a term's value
Forward = Callable[..., tuple[dict, dict]]


class Aux(NamedTuple):
    metrics: dict[str, jax.Array]
    model_state: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class WeightedTerm:
    name: str
    fn: Term
    weights: tuple[tuple[str, float], ...]  # (loss name, weight) pairs
    schedule: Schedule | None = None


@dataclasses.dataclass(frozen=True)
class Objective:
    """``forward`` (the model's) plus weighted terms, giving named losses.

    By default there is one loss per player, named after it. An objective may
    name its losses otherwise (``loss_names``) when a player minimises
    different losses in different phases, like the adversarial autoencoder's
    encoder (``reconstruction``, then ``generator``); the update rule says which
    player minimises which loss.
    """
    forward: Forward
    players: tuple[str, ...]
    terms: tuple[WeightedTerm, ...] = ()
    loss_names: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the losses this objective returns."""
        return self.loss_names or self.players

    def with_term(self, name: str, fn: Term, schedule: Schedule | None = None,
                  **weights: float) -> 'Objective':
        """A new objective with ``sum_l weights[l] * fn(outputs)`` added to loss ``l``,
        times ``schedule(batch['step'])`` when there is a schedule.

        With no weights the term is a metric: logged, added to no loss.
        """
        unknown = sorted(set(weights) - set(self.names))
        if unknown:
            raise ValueError(f'term {name!r} weights unknown players {unknown}; '
                             f'the losses are {list(self.names)}')
        if any(t.name == name for t in self.terms):
            raise ValueError(f'the objective already has a term named {name!r}')
        term = WeightedTerm(name, fn, tuple(sorted(weights.items())), schedule)
        return dataclasses.replace(self, terms=self.terms + (term,))

    def only(self, names) -> 'Objective':
        """The objective with just the terms named (in their order): what an update
        rule's phase evaluates, so that terms no moving player minimises (a gradient
        penalty while the generator moves) cost nothing there."""
        names = set(names)
        return dataclasses.replace(self, terms=tuple(t for t in self.terms if t.name in names))

    def __call__(self, params: Mapping[str, Any], model_state: Mapping[str, Any],
                 batch: Mapping[str, jax.Array], key: jax.Array,
                 ) -> tuple[dict[str, jax.Array], Aux]:
        step = batch.get('step')
        scheduled = [t.name for t in self.terms if t.schedule is not None]
        if scheduled and step is None:
            raise JaxgenError(f'the terms {scheduled} are scheduled by the training step, but '
                              f"the batch has no 'step': pass batch['step'] (the trainer does)")
        variables = {p: join_variables(params[p], model_state[p]) for p in self.players}
        outputs, new_state = self.forward(variables, batch, key, train=True)
        losses = {name: jnp.zeros((), jnp.float32) for name in self.names}
        metrics = {}
        for term in self.terms:
            value, term_metrics = term.fn(outputs)
            if term.schedule is not None:
                scale = jnp.asarray(term.schedule(jnp.asarray(step)), jnp.float32)
                value, term_metrics = scale * value, {**term_metrics, 'scale': scale}
            metrics[term.name] = value
            metrics.update({f'{term.name}/{k}': v for k, v in term_metrics.items()})
            for player, weight in term.weights:
                if weight != 0.0:
                    losses[player] = losses[player] + weight * value
        return losses, Aux(metrics, new_state)


# Options at these values ask for nothing, so an objective that does not read them
# may carry them (a config derived from another model's).
NEUTRAL_OPTIONS = {'beta': 1.0, 'warmup_steps': 0, 'label_smoothing': 0.0,
                   'gradient_penalty': 0.0, 'r1': 0.0}


def reject_ignored(objective_config, reads: tuple[str, ...]) -> None:
    """An option in ``objective_config`` that the objective does not read (``reads``)
    is an error, unless it is at its neutral value: an ignored option is never silent."""
    for key, value in objective_config.items():
        if key == 'name' or key in reads:
            continue
        if key in NEUTRAL_OPTIONS and value == NEUTRAL_OPTIONS[key]:
            continue
        raise JaxgenError(f'config.objective.{key}={value!r} has no effect with objective '
                          f'{objective_config.get("name")!r}: remove it (that objective reads '
                          f'{", ".join(reads) or "no options"})')


def empty(model, losses: tuple[str, ...] = ()) -> Objective:
    """The objective with no terms over ``model``'s players (and loss names)."""
    return Objective(forward=model.forward, players=tuple(model.players),
                     loss_names=tuple(losses))


def in_precision(objective: Objective, dtype) -> Objective:
    """``objective`` with its model computing in ``dtype`` (mixed precision).

    Parameters, optimizer state and losses stay float32: only the players'
    modules compute in ``dtype`` (see ``models.layers.compute_dtype``).
    """
    if jnp.dtype(dtype) == jnp.float32:
        return objective
    forward = objective.forward

    def low_precision_forward(variables, batch, key, train=True):
        with compute_dtype(dtype):
            return forward(variables, batch, key, train=train)

    return dataclasses.replace(objective, forward=low_precision_forward)
