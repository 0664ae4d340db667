"""Log-likelihoods of latent codes under the recognition network Q (InfoGAN).

Per-example and keyword-only, like the GAN losses. The information term of
InfoGAN is ``L_I = H(c) + E[log Q(c | G(z, c))]``, a lower bound on the mutual
information I(c; G(z, c)); these functions give the ``log Q`` part.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def categorical_log_likelihood(*, logits: jax.Array, labels: jax.Array) -> jax.Array:
    """``log Q(c = label | x)`` per example; ``logits [B, k]``, ``labels [B]`` ints."""
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return jnp.take_along_axis(log_probs, labels[:, None].astype(jnp.int32), axis=-1)[:, 0]


def gaussian_log_likelihood(*, mean: jax.Array, log_std: jax.Array,
                            targets: jax.Array) -> jax.Array:
    """``sum_d log N(targets_d; mean_d, exp(log_std_d)^2)`` per example; ``[B, D]`` inputs."""
    z = (targets - mean) * jnp.exp(-log_std)
    per_dim = -0.5 * z ** 2 - log_std - 0.5 * math.log(2.0 * math.pi)
    return jnp.sum(per_dim, axis=-1)
