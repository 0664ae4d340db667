"""f-GAN: variational divergence minimisation (Nowozin et al., 2016).

For a convex ``f`` with ``f(1) = 0`` the f-divergence
``D_f(P || Q) = E_Q[f(p/q)]`` has the lower bound (their equation 6)

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],

with ``f*`` the Fenchel conjugate of ``f``, tight at ``T*(x) = f'(p(x)/q(x))``.
The critic outputs an unconstrained ``v``; the output activation ``g_f`` maps it
into the domain of ``f*``: ``T = g_f(v)`` (their Table 2).

Each divergence below is an ``FDivergence(f, conjugate, activation,
conjugate_of_activation)``; the last is ``f*(g_f(v))`` written in a stable form
(``softplus`` instead of ``log(1 - exp(.))``). The losses are per example:

* the critic (discriminator) maximises the bound: loss ``-g_f(v_real) + f*(g_f(v_fake))``;
* the generator minimises it (``saturating``, ``-f*(g_f(v_fake))``), or maximises
  ``g_f(v_fake)`` (``non_saturating``, the paper's section 3.2 alternative, the
  ``-log D`` trick of the GAN divergence).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

LOG2 = math.log(2.0)


class FDivergence(NamedTuple):
    f: Callable[[jax.Array], jax.Array]                 # the generator function, u > 0
    conjugate: Callable[[jax.Array], jax.Array]         # f*(t) on its domain
    activation: Callable[[jax.Array], jax.Array]        # g_f(v)
    conjugate_activation: Callable[[jax.Array], jax.Array]  # f*(g_f(v)), stable
    inverse_activation: Callable[[jax.Array], jax.Array]    # v with g_f(v) = t


def _xlogx(u):
    return jnp.where(u > 0, u * jnp.log(jnp.where(u > 0, u, 1.0)), 0.0)


DIVERGENCES: dict[str, FDivergence] = {
    'kl': FDivergence(
        f=_xlogx,
        conjugate=lambda t: jnp.exp(t - 1.0),
        activation=lambda v: v,
        conjugate_activation=lambda v: jnp.exp(v - 1.0),
        inverse_activation=lambda t: t),
    'reverse_kl': FDivergence(
        f=lambda u: -jnp.log(u),
        conjugate=lambda t: -1.0 - jnp.log(-t),
        activation=lambda v: -jnp.exp(-v),
        conjugate_activation=lambda v: v - 1.0,
        inverse_activation=lambda t: -jnp.log(-t)),
    'pearson': FDivergence(
        f=lambda u: (u - 1.0) ** 2,
        conjugate=lambda t: 0.25 * t ** 2 + t,
        activation=lambda v: v,
        conjugate_activation=lambda v: 0.25 * v ** 2 + v,
        inverse_activation=lambda t: t),
    'squared_hellinger': FDivergence(
        f=lambda u: (jnp.sqrt(u) - 1.0) ** 2,
        conjugate=lambda t: t / (1.0 - t),
        activation=lambda v: 1.0 - jnp.exp(-v),
        conjugate_activation=lambda v: jnp.expm1(v),
        inverse_activation=lambda t: -jnp.log1p(-t)),
    'jensen_shannon': FDivergence(
        f=lambda u: -(u + 1.0) * jnp.log((1.0 + u) / 2.0) + _xlogx(u),
        conjugate=lambda t: -jnp.log(2.0 - jnp.exp(t)),
        activation=lambda v: LOG2 - jax.nn.softplus(-v),
        conjugate_activation=lambda v: jax.nn.softplus(v) - LOG2,
        inverse_activation=lambda t: -jnp.log(2.0 * jnp.exp(-t) - 1.0)),
    'gan': FDivergence(
        f=lambda u: _xlogx(u) - (u + 1.0) * jnp.log(u + 1.0),
        conjugate=lambda t: -jnp.log1p(-jnp.exp(t)),
        activation=lambda v: -jax.nn.softplus(-v),
        conjugate_activation=jax.nn.softplus,
        inverse_activation=lambda t: -jnp.log(jnp.expm1(-t))),
    'total_variation': FDivergence(
        f=lambda u: 0.5 * jnp.abs(u - 1.0),
        conjugate=lambda t: t,
        activation=lambda v: 0.5 * jnp.tanh(v),
        conjugate_activation=lambda v: 0.5 * jnp.tanh(v),
        inverse_activation=lambda t: jnp.arctanh(2.0 * t)),
}


def get(name: str) -> FDivergence:
    if name not in DIVERGENCES:
        raise ValueError(f'unknown f-divergence {name!r}; choose one of: '
                         f'{", ".join(sorted(DIVERGENCES))}')
    return DIVERGENCES[name]


def critic_loss(*, real_logits: jax.Array, fake_logits: jax.Array, divergence: str) -> jax.Array:
    """Per-example ``-g_f(v_real) + f*(g_f(v_fake))``: minus the variational bound."""
    d = get(divergence)
    return -d.activation(real_logits) + d.conjugate_activation(fake_logits)


def generator_loss(*, fake_logits: jax.Array, divergence: str,
                   kind: str = 'non_saturating') -> jax.Array:
    """Per-example generator loss: ``-f*(g_f(v))`` (saturating) or ``-g_f(v)``."""
    d = get(divergence)
    if kind == 'saturating':
        return -d.conjugate_activation(fake_logits)
    if kind == 'non_saturating':
        return -d.activation(fake_logits)
    raise ValueError(f"unknown generator loss kind {kind!r}; choose 'saturating' or "
                     "'non_saturating'")
