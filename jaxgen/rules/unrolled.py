"""Unrolled GAN (Metz et al., 2017) as an update rule.

The discriminator's own update is the plain one. The generator's loss is
taken at the discriminator ``k`` optax steps ahead: ``D_0 = D``,
``D_{i+1} = D_i + opt_D.update(grad L_D(G, D_i))``, and the generator
minimises ``L_G(G, D_k(G))``, differentiating through all ``k`` steps (the
discriminator's optimizer state included). The generator thus sees how the
discriminator would react to its move, which counters mode collapse.
With ``k = 0`` this is the alternating rule exactly.

``simultaneous=True`` is the schedule of the authors' code (poolio/unrolled_gan,
where one ``session.run`` applies both updates): both players' gradients are
taken at the same point, the generator's through the unroll from the
discriminator *before* its step, then both move; with ``k = 0`` this is the
simultaneous rule exactly.

Differentiating through Adam needs ``eps_root > 0`` in the discriminator's
optimizer (``optax.adam(..., eps_root=1e-8)``): the derivative of ``sqrt(v)`` is
infinite where the second moment ``v`` is 0, and the generator's gradient then
turns NaN.
"""

from __future__ import annotations

from typing import Mapping

import jax
import optax

from jaxgen.errors import JaxgenError
from jaxgen.rules.base import UpdateRule, player_grads, sequential


def unrolled_grads(optimizer: optax.GradientTransformation, unroll_steps: int,
                   discriminator: str = 'discriminator', loss: str | None = None):
    """A phase gradient function: the phase's losses at D unrolled ``unroll_steps``."""
    loss = loss or discriminator

    def grads_fn(objective, phase, params, model_state, opt_state, batch, key):
        def lookahead(point):
            d_params, d_state = point[discriminator], opt_state[discriminator]
            for i in range(unroll_steps):
                def d_loss(dp, i=i):
                    losses, _ = objective({**point, discriminator: dp}, model_state, batch,
                                          jax.random.fold_in(key, i + 1))
                    return losses[loss]
                updates, d_state = optimizer.update(jax.grad(d_loss)(d_params), d_state,
                                                    d_params)
                d_params = optax.apply_updates(d_params, updates)
            return {**point, discriminator: d_params}
        return player_grads(objective, phase, params, model_state, batch, key,
                            lookahead=lookahead if unroll_steps else None)
    return grads_fn


def simultaneous_grads(unrolled_fn, discriminator: str):
    """The discriminator's plain gradient and the others' unrolled ones, at one point."""
    def grads_fn(objective, phase, params, model_state, opt_state, batch, key):
        d_phase = {discriminator: phase[discriminator]}
        rest = {p: loss for p, loss in phase.items() if p != discriminator}
        d_grads, d_losses, d_aux = player_grads(objective, d_phase, params, model_state,
                                                batch, key)
        grads, losses, aux = unrolled_fn(objective, rest, params, model_state, opt_state,
                                         batch, key)
        model_state = {**aux.model_state, discriminator: d_aux.model_state[discriminator]}
        losses = {**losses, phase[discriminator]: d_losses[phase[discriminator]]}
        return {**grads, **d_grads}, losses, aux._replace(model_state=model_state)
    return grads_fn


def unrolled(optimizers: Mapping[str, optax.GradientTransformation], *,
             unroll_steps: int = 5, d_steps: int = 1,
             discriminator: str = 'discriminator', simultaneous: bool = False,
             ) -> UpdateRule:
    """The discriminator ``d_steps`` plain steps, then the others through the unroll;
    with ``simultaneous``, one step of every player from the same point."""
    if not isinstance(unroll_steps, int) or unroll_steps < 0:
        raise JaxgenError(f'config.rule.unroll_steps must be an integer >= 0, got '
                          f'{unroll_steps!r}')
    if discriminator not in optimizers:
        raise JaxgenError(f'the unrolled rule needs a {discriminator!r} player; the players '
                          f'are {sorted(optimizers)}')
    if not isinstance(simultaneous, bool):
        raise JaxgenError(f'config.rule.simultaneous must be true or false, got '
                          f'{simultaneous!r}')
    if simultaneous and d_steps != 1:
        raise JaxgenError(f'config.rule.d_steps must be 1 with rule.simultaneous (both '
                          f'players step once from the same point), got {d_steps!r}')
    rest = {p: p for p in optimizers if p != discriminator}
    lookahead = unrolled_grads(optimizers[discriminator], unroll_steps, discriminator)
    if simultaneous:  # with k = 0 one pass gives every gradient: the simultaneous rule
        grads_fn = simultaneous_grads(lookahead, discriminator) if unroll_steps else None
        return sequential(optimizers, [{discriminator: discriminator, **rest}], [1],
                          [grads_fn])
    return sequential(optimizers, [{discriminator: discriminator}, rest], [d_steps, 1],
                      [None, lookahead])


def build(rule_config, optimizers) -> UpdateRule:
    return unrolled(optimizers, unroll_steps=rule_config.get('unroll_steps', 5),
                    d_steps=rule_config.get('d_steps', 1),
                    simultaneous=rule_config.get('simultaneous', False))
