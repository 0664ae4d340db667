"""Non-finite values: found on device at every step, never written to a checkpoint.

The train state carries ``health``: for each player, the first step after which its
parameters (or their moving average) held a NaN or an infinity, and the same for
the step's metrics (the losses); 0 while all is finite. The step updates it on
device (one reduction over the parameters, which the step has just written), so
fused steps and asynchronous dispatch lose nothing, and the host reads a few
integers when it logs and before it saves. Before every save the whole state is
checked once more; restoring for sampling, evaluation or a resume checks it too.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError
from jaxgen.training import parallel

METRICS = 'metrics'


def all_finite(tree: Any) -> jax.Array:
    """True when every floating leaf of ``tree`` is finite (also for an empty tree)."""
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
              if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def initial(players) -> dict:
    return {'params': {p: jnp.zeros((), jnp.int32) for p in players},
            METRICS: jnp.zeros((), jnp.int32)}


def update(health: Mapping, step: jax.Array, params: Mapping, ema: Mapping,
           metrics: Mapping) -> dict:
    """``health`` after ``step``: each entry that was 0 becomes ``step`` if its part
    is no longer finite. A state built without health (by hand, in tests) stays so."""
    if not health:
        return {}

    def first(previous, finite):
        return jnp.where((previous == 0) & ~finite, step, previous)
    return {'params': {p: first(health['params'][p],
                                all_finite(params[p]) & all_finite(ema.get(p, {})))
                       for p in health['params']},
            METRICS: first(health[METRICS], all_finite(metrics))}


def diverged(health: Mapping) -> tuple[int, list[str]] | None:
    """``(first step, parts)`` of host ``health`` values, None when all is finite."""
    bad = {f'the {p}\'s parameters': int(s) for p, s in health['params'].items() if int(s)}
    if int(health[METRICS]):
        bad['the losses'] = int(health[METRICS])
    if not bad:
        return None
    step = min(bad.values())
    return step, sorted(name for name, s in bad.items() if s == step)


@jax.jit
def _finite_parts(parts: Mapping[str, Any]) -> dict:
    return {k: all_finite(v) for k, v in parts.items()}


def nonfinite_parts(state: Any) -> list[str]:
    """The paths (``params/generator``, ``rule_state``, ...) of a state's parts that hold
    a non-finite value; one compiled reduction."""
    parts = {}
    for field in ('params', 'ema'):
        for player, tree in (getattr(state, field, None) or {}).items():
            parts[f'{field}/{player}'] = tree
    for field in ('model_state', 'rule_state'):
        parts[field] = getattr(state, field, None) or {}
    finite = parallel.to_host(_finite_parts(parts))
    return sorted(k for k, v in finite.items() if not np.all(v))


def check_restored(state: Any, where: str, hint: str) -> None:
    """One-line JaxgenError when a restored state holds a non-finite value."""
    bad = nonfinite_parts(state)
    if bad:
        raise JaxgenError(f'checkpoint {where} holds non-finite values ({", ".join(bad)}); '
                          f'{hint}')
