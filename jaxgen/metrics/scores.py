"""The classifier score (Inception-score style, Salimans et al., 2016).

``exp(E_x KL(p(y|x) || p(y)))``: high when each sample is confidently one class
(sharp ``p(y|x)``) and the classes are used evenly (flat ``p(y)``); at most the
number of classes. Reported as mean and standard deviation over ``splits``
equal parts of the samples, as the original protocol does.
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


def classifier_score(logits, splits: int = 10) -> tuple[float, float]:
    """``(mean, std)`` of the score over ``splits`` parts of ``logits [N, classes]``."""
    logits = np.asarray(logits)
    if logits.shape[0] < splits:
        raise JaxgenError(f'the classifier score needs at least {splits} samples '
                          f'({splits} splits), got {logits.shape[0]}')
    parts = np.array_split(logits, splits)
    values = np.array([float(_split_score(jnp.asarray(p))) for p in parts])
    return float(values.mean()), float(values.std())
