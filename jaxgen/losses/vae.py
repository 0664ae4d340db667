"""Probabilistic core of the VAE and IWAE objectives.

Per-example and keyword-only, like the GAN losses: every log-density and KL is
summed over the event dimensions and never reduced over the batch. By default
the leading axis is the batch and *all* other axes are event axes (so images
``[B, H, W, C]`` give ``[B]``); pass ``event_ndims`` to sum over only the
trailing ``event_ndims`` axes, e.g. ``event_ndims=1`` for samples ``[k, B, D]``
to get ``[k, B]``. Gaussians are diagonal and parameterised by ``log_var``.

With an encoder ``q(z|x)``, a prior ``p(z)`` and a decoder ``p(x|z)``:

* ELBO: ``L_1 = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x)``, with equality
    iff ``q(z|x) = p(z|x)``; the gap is ``KL(q(z|x) || p(z|x))``.
* IWAE (Burda et al., 2016): with ``z_i ~ q`` and ``log w_i = log p(x, z_i) -
    log q(z_i|x)``, ``L_k = E[log (1/k) sum_i w_i]`` satisfies
    ``L_1 <= L_k <= L_{k+1} <= log p(x)`` and ``L_k -> log p(x)`` as ``k -> inf``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

_LOG_2PI = math.log(2.0 * math.pi)


def _sum_event(values: jax.Array, event_ndims: int | None) -> jax.Array:
    """Sums the event axes: all but the first (``None``) or the last ``event_ndims``."""
    if event_ndims is None:
        axes = tuple(range(1, values.ndim))
    else:
        if not 0 <= event_ndims <= values.ndim:
            raise ValueError(f'event_ndims must be in [0, {values.ndim}], got {event_ndims}')
        axes = tuple(range(values.ndim - event_ndims, values.ndim))
    return jnp.sum(values, axis=axes)


def gaussian_kl_standard_normal(*, mean: jax.Array, log_var: jax.Array,
                                event_ndims: int | None = None) -> jax.Array:
    """``KL(N(mean, diag exp(log_var)) || N(0, I))`` per example, analytically.

    ``KL = 0.5 * sum(exp(log_var) + mean^2 - 1 - log_var)``; ``exp(v) - 1`` is
    formed with ``expm1`` so that a near-standard ``q`` loses no precision.
    """
    per_dim = 0.5 * (jnp.expm1(log_var) - log_var + jnp.square(mean))
    return _sum_event(per_dim, event_ndims)


def gaussian_kl(*, mean: jax.Array, log_var: jax.Array, prior_mean: jax.Array,
                prior_log_var: jax.Array, event_ndims: int | None = None) -> jax.Array:
    """``KL(N(mean, diag exp(log_var)) || N(prior_mean, diag exp(prior_log_var)))``.

    ``KL = 0.5 * sum(prior_log_var - log_var - 1
                     + (exp(log_var) + (mean - prior_mean)^2) / exp(prior_log_var))``.
    The variance ratio is formed as ``exp(log_var - prior_log_var)``.
    """
    diff = log_var - prior_log_var
    per_dim = 0.5 * (jnp.expm1(diff) - diff
                     + jnp.square(mean - prior_mean) * jnp.exp(-prior_log_var))
    return _sum_event(per_dim, event_ndims)


def gaussian_log_density(*, x: jax.Array, mean: jax.Array, log_var: jax.Array,
                         event_ndims: int | None = None) -> jax.Array:
    """``sum_d log N(x_d; mean_d, exp(log_var_d))`` per example.

    ``log N(x; m, v) = -0.5 * (log(2 pi) + log v + (x - m)^2 / v)``. Arguments
    broadcast, e.g. ``x [k, B, D]`` against ``mean [B, D]`` (with ``event_ndims=1``).
    """
    per_dim = -0.5 * (_LOG_2PI + log_var + jnp.square(x - mean) * jnp.exp(-log_var))
    return _sum_event(per_dim, event_ndims)


def standard_normal_log_density(*, x: jax.Array, event_ndims: int | None = None) -> jax.Array:
    """``sum_d log N(x_d; 0, 1) = -0.5 * sum_d (log(2 pi) + x_d^2)`` per example."""
    return _sum_event(-0.5 * (_LOG_2PI + jnp.square(x)), event_ndims)


def bernoulli_log_likelihood(*, logits: jax.Array, targets: jax.Array,
                             event_ndims: int | None = None) -> jax.Array:
    """``sum_d [t_d log sigmoid(l_d) + (1 - t_d) log(1 - sigmoid(l_d))]`` per example.

    Computed from logits as ``t log_sigmoid(l) + (1 - t) log_sigmoid(-l)``, which is
    finite for any logit. Targets may be anywhere in ``[0, 1]`` (e.g. grey-level
    pixels), not only ``{0, 1}``; the value is then the negated binary
    cross-entropy, which is not a normalised density of ``t``.
    """
    targets = targets.astype(logits.dtype)
    per_dim = (targets * jax.nn.log_sigmoid(logits)
               + (1.0 - targets) * jax.nn.log_sigmoid(-logits))
    return _sum_event(per_dim, event_ndims)


def reparameterize(key: jax.Array, *, mean: jax.Array, log_var: jax.Array,
                   num_samples: int | None = None) -> jax.Array:
    """Samples ``z = mean + exp(0.5 * log_var) * eps`` with ``eps ~ N(0, I)``.

    The sample is a deterministic, differentiable function of ``(mean, log_var)``,
    so gradients of ``E_q[f(z)]`` flow to the encoder (the reparameterisation
    trick, Kingma & Welling, 2014).

    Returns:
        ``mean``'s shape ``[B, D]`` when ``num_samples`` is None, otherwise
        ``[num_samples, B, D]`` (independent samples along the new leading axis).
    """
    shape = jnp.broadcast_shapes(mean.shape, log_var.shape)
    if num_samples is not None:
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        shape = (num_samples, *shape)
    dtype = jnp.result_type(mean, log_var)
    eps = jax.random.normal(key, shape, dtype=dtype)
    return mean + jnp.exp(0.5 * log_var) * eps


def elbo(*, log_likelihood: jax.Array, kl: jax.Array) -> jax.Array:
    """Per-example evidence lower bound ``log_likelihood - kl``.

    ``ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)) = log p(x) - KL(q(z|x) || p(z|x))``,
    so ``ELBO <= log p(x)``. ``log_likelihood`` is usually a one-sample estimate of
    ``E_q[log p(x|z)]`` at a reparameterised ``z``; ``kl`` the analytic KL.
    """
    return log_likelihood - kl


def log_importance_weights(*, log_px_given_z: jax.Array, log_pz: jax.Array,
                           log_qz: jax.Array) -> jax.Array:
    """``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)``, shape ``[k, B]``."""
    return log_px_given_z + log_pz - log_qz


def iwae_bound(*, log_weights: jax.Array, axis: int = 0) -> jax.Array:
    """Importance-weighted bound ``log (1/k) sum_i w_i`` from ``log_weights [k, B]``.

    ``= logsumexp_i(log w_i) - log k`` over the sample ``axis`` (0 by default),
    giving ``[B]``. For ``k = 1`` it is the one-sample ELBO estimate; its
    expectation ``L_k`` is non-decreasing in ``k`` and tends to ``log p(x)``.
    """
    k = log_weights.shape[axis]
    return jax.scipy.special.logsumexp(log_weights, axis=axis) - math.log(k)
