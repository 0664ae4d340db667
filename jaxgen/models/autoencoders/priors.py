"""Priors an adversarial autoencoder can match: anything that can be sampled.

The AAE never evaluates the prior's density, only draws from it, so a prior
with a density that is not differentiable (or not even known) is fine.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError

PRIORS = ('gaussian', 'mixture10', 'swiss_roll')

# Half-width e of the square [-e, e]^2 that holds at least 90% of each 2-D prior's
# draws: where the decoded-manifold picture looks (2 for N(0, I), as for a VAE).
EXTENTS = {'gaussian': 2.0, 'mixture10': 5.5, 'swiss_roll': 3.6}


def frame(name: str) -> float:
    """Half-width of the frame for pictures of codes against prior ``name``: 1.5 times
    its extent, so the prior's tails show and far-off codes are counted, not drawn."""
    return 1.5 * EXTENTS[name]


MIXTURE10_STD = 0.5


def mixture10_centers() -> jax.Array:
    """The 10 equally weighted modes ``[10, 2]`` of the 'mixture10' prior: a circle
    of radius 4 (Makhzani et al.), each mode with standard deviation 0.5."""
    angle = 2 * math.pi * jnp.arange(10) / 10
    return 4.0 * jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=1)


def sample(name: str, key: jax.Array, num: int, dim: int) -> jax.Array:
    """``num`` draws ``[num, dim]`` from prior ``name``."""
    if name == 'gaussian':
        return jax.random.normal(key, (num, dim))
    if dim != 2:
        raise JaxgenError(f'prior {name!r} is 2-D; set config.model.latent_dim=2')
    k1, k2 = jax.random.split(key)
    if name == 'mixture10':
        mode = jax.random.randint(k1, (num,), 0, 10)
        return mixture10_centers()[mode] + MIXTURE10_STD * jax.random.normal(k2, (num, 2))
    if name == 'swiss_roll':  # a noisy spiral, scaled to roughly [-3, 3]^2
        t = 1.5 * math.pi * (1 + 2 * jax.random.uniform(k1, (num,)))
        points = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=1) / 4.0
        return points + 0.05 * jax.random.normal(k2, (num, 2))
    raise JaxgenError(f'unknown prior {name!r}; choose one of {", ".join(PRIORS)}')
