"""The classifier score (Inception-score style, Salimans et al., 2016).

``exp(E_x KL(p(y|x) || p(y)))``: high when each sample is confidently one class
(sharp ``p(y|x)``) and the classes are used evenly (flat ``p(y)``); at most the
number of classes. Reported as mean and standard deviation over ``splits``
equal parts of the samples, as the original protocol does.

For a multi-label classifier (one sigmoid per binary attribute), :func:`attribute_score`
treats the attributes as independent yes/no questions: ``exp(E_x sum_a KL(Bern(p_a(x)) ||
Bern(mean_x p_a(x))))``, at most ``2 ** A``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError


@jax.jit
def _split_score(logits: jax.Array) -> jax.Array:
    log_p = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    log_marginal = jnp.log(jnp.mean(jnp.exp(log_p), axis=0))
    kl = jnp.sum(jnp.exp(log_p) * (log_p - log_marginal), axis=-1)
    return jnp.exp(jnp.mean(kl))


@jax.jit
def _split_attribute_score(logits: jax.Array) -> jax.Array:
    logits = logits.astype(jnp.float32)
    p, log_p = jax.nn.sigmoid(logits), jax.nn.log_sigmoid(logits)
    log_not_p = jax.nn.log_sigmoid(-logits)
    marginal = jnp.clip(jnp.mean(p, axis=0), 1e-7, 1 - 1e-7)
    kl = p * (log_p - jnp.log(marginal)) + (1 - p) * (log_not_p - jnp.log1p(-marginal))
    return jnp.exp(jnp.mean(jnp.sum(kl, axis=-1)))


def classifier_score(logits, splits: int = 10) -> tuple[float, float]:
    """``(mean, std)`` of the score over ``splits`` parts of ``logits [N, classes]``."""
    return _score(logits, splits, _split_score)


def attribute_score(logits, splits: int = 10) -> tuple[float, float]:
    """``(mean, std)`` of the multi-label score over ``splits`` parts of ``logits [N, A]``."""
    return _score(logits, splits, _split_attribute_score)


def _score(logits, splits: int, split_score) -> tuple[float, float]:
    logits = np.asarray(logits)
    if logits.shape[0] < splits:
        raise JaxgenError(f'the classifier score needs at least {splits} samples '
                          f'({splits} splits), got {logits.shape[0]}')
    parts = np.array_split(logits, splits)
    values = np.array([float(split_score(jnp.asarray(p))) for p in parts])
    return float(values.mean()), float(values.std())
