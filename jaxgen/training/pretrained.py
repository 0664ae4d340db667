"""Players whose parameters start from another run: ``config.init_from``.

``config.init_from`` maps a player to the workdir of a finished run that has a player
of the same name, e.g. ``{'text_encoder': 'runs/t2i/text_encoder'}``: a text-to-image
GAN whose frozen text encoder was trained first by ``configs/text_encoder.py``, or a
generator fine-tuned from an earlier run. At step 0 the player's variables (its
parameters and model state, the weight average where the source kept one) replace the
fresh initialisation; everything else starts as usual. A resumed run restores them from
its own checkpoint like any parameters, so the source may be gone by then.

A bundle lists the players that make no sense untrained in ``pretrained`` (a frozen
text encoder); a run that does not say where they come from is refused in one line.
Everything here is checked before the workdir is touched.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError
from jaxgen.models.layers import split_variables
from jaxgen.training import health


def sources(config, model) -> dict[str, str]:
    """``{player: source workdir}`` from ``config.init_from``; one-line errors for a
    player the model does not have and for a required (``model.pretrained``) one
    that is missing."""
    init_from = {k: v for k, v in dict(config.get('init_from') or {}).items() if v}
    unknown = sorted(set(init_from) - set(model.players))
    if unknown:
        raise JaxgenError(f'config.init_from names {unknown}, which are not players of model '
                          f'{config.model.name!r} ({sorted(model.players)})')
    for player, workdir in init_from.items():
        if not isinstance(workdir, str):
            raise JaxgenError(f'config.init_from.{player} must be the workdir of a run, got '
                              f'{workdir!r}')
    missing = [p for p in getattr(model, 'pretrained', ()) if p not in init_from]
    if missing:
        raise JaxgenError(f'model {config.model.name!r} needs its {", ".join(missing)} trained '
                          f'first: set config.init_from.{missing[0]} to the workdir of a run '
                          f'that trained it{_hint(model, missing[0])}')
    return init_from


def _hint(model, player: str) -> str:
    hint = getattr(model, 'pretrained_by', {}).get(player)
    return f' ({hint})' if hint else ''


def load(init_from: Mapping[str, str], template) -> dict[str, dict]:
    """Each player's ``{'params', 'model_state', 'ema'}`` from its source run, as host
    arrays, checked against this run's state ``template`` (shapes and dtypes)."""
    from jaxgen.training import restore  # pylint: disable=import-outside-toplevel
    loaded = {}
    for player, workdir in init_from.items():
        try:
            exp, state, step = restore.load(workdir)
        except JaxgenError as e:
            raise JaxgenError(f'config.init_from.{player}: {e}') from e
        if player not in state.params:
            raise JaxgenError(f'config.init_from.{player}: the run in {workdir} has no player '
                              f'{player!r} (it has {sorted(state.params)})')
        variables = exp.variables(state)[player]  # its weight average, where it kept one
        params, model_state = split_variables(variables)
        entry = {'params': params, 'model_state': model_state}
        for part in ('params', 'model_state'):
            _check_fits(player, part, workdir, step, entry[part],
                        getattr(template, part)[player])
        loaded[player] = jax.device_get(entry)
    return loaded


def _check_fits(player, part, workdir, step, source, target) -> None:
    src = jax.tree_util.tree_flatten_with_path(source)[0]
    dst = jax.tree_util.tree_flatten_with_path(target)[0]
    src_paths = {jax.tree_util.keystr(p): np.shape(x) for p, x in src}
    for path, x in dst:
        name = jax.tree_util.keystr(path)
        shape = tuple(x.shape)
        if name not in src_paths:
            raise JaxgenError(f'config.init_from.{player}: {workdir} (step {step}) has no '
                              f'{part}{name}; its {player} is another architecture: give '
                              f'this run the same config.model settings as that one')
        if tuple(src_paths[name]) not in (shape, shape[1:]):  # [N, ...]: N seeds at once
            raise JaxgenError(f'config.init_from.{player}: {part}{name} has shape '
                              f'{tuple(src_paths[name])} in {workdir} (step {step}) but '
                              f'{shape} here: give this run the same config.model settings')
    if len(src_paths) != len(dst):
        extra = sorted(set(src_paths) - {jax.tree_util.keystr(p) for p, _ in dst})
        raise JaxgenError(f'config.init_from.{player}: {workdir} has {part} {extra[:3]} that '
                          f'this run\'s {player} lacks: give it the same config.model settings')


def apply(state, loaded: Mapping[str, dict], rule) -> Any:
    """``state`` (a fresh one) with the loaded players' variables in place, broadcast
    over the seeds of a many-seed run; the rule's state rebuilt for the new values."""
    if not loaded:
        return state

    def put(target, source):
        return jax.tree.map(lambda t, s: jnp.broadcast_to(jnp.asarray(s, t.dtype), t.shape),
                            target, source)
    params, model_state, ema = dict(state.params), dict(state.model_state), dict(state.ema)
    for player, entry in loaded.items():
        params[player] = put(params[player], entry['params'])
        model_state[player] = put(model_state[player], entry['model_state'])
        if player in ema:
            ema[player] = put(ema[player], entry['params'])
    many = state.step.ndim > 0  # N seeds in one program
    rule_state = jax.vmap(rule.init)(params) if many else rule.init(params)
    return state.replace(params=params, model_state=model_state, rule_state=rule_state,
                         ema=ema, health=jax.vmap(health.initial)(params) if many
                         else health.initial(params))
