"""Distances between two sets of features, on device: Fréchet distance and KID.

* Fréchet distance (FID when the features are Inception's; here by default a
  domain classifier's, TF-GAN's "Fréchet classifier distance"):
  ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``. Both square roots
  are of symmetric positive semi-definite matrices, so both come from a
  symmetric eigendecomposition (``eigh``), and the trace of the outer root is
  the nuclear norm of ``S1^1/2 S2^1/2`` (an SVD): no ``scipy.linalg.sqrtm`` on
  the host, no complex parts to discard, float32-safe for ill-conditioned
  feature covariances.
* Feature statistics stream: :class:`GaussianStats` merges per-batch means and
  centred scatter matrices (Chan et al.'s parallel update), so any batching and
  any order give the one-batch result up to rounding.
* KID (Bińkowski et al., 2018): the unbiased estimate of the squared MMD with the
  kernel ``k(x, y) = (x.y / d + 1)^3``, averaged over random subsets, with its
  standard error over them.
"""

from __future__ import annotations

import functools
from typing import Iterable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError


class GaussianStats(NamedTuple):
    """Count, mean and centred scatter ``sum (x - mean)(x - mean)^T`` of features."""
    count: jax.Array
    mean: jax.Array
    scatter: jax.Array

    @classmethod
    def empty(cls, dim: int) -> 'GaussianStats':
        return cls(jnp.zeros((), jnp.float32), jnp.zeros((dim,), jnp.float32),
                   jnp.zeros((dim, dim), jnp.float32))

    @property
    def covariance(self) -> jax.Array:
        """The unbiased sample covariance (``n - 1`` in the denominator)."""
        return self.scatter / (self.count - 1.0)


@jax.jit
def update_stats(stats: GaussianStats, features: jax.Array) -> GaussianStats:
    """``stats`` merged with a batch of features ``[B, d]``."""
    features = features.astype(jnp.float32)
    n_b = jnp.asarray(features.shape[0], jnp.float32)
    mean_b = jnp.mean(features, axis=0)
    centred = features - mean_b
    scatter_b = centred.T @ centred
    n = stats.count + n_b
    delta = mean_b - stats.mean
    mean = stats.mean + delta * (n_b / n)
    scatter = stats.scatter + scatter_b + jnp.outer(delta, delta) * (stats.count * n_b / n)
    return GaussianStats(n, mean, scatter)


def gaussian_stats(batches: Iterable[jax.Array]) -> GaussianStats:
    """Streaming statistics over an iterable of feature batches."""
    stats = None
    for batch in batches:
        batch = jnp.asarray(batch)
        stats = GaussianStats.empty(batch.shape[-1]) if stats is None else stats
        stats = update_stats(stats, batch)
    if stats is None or float(stats.count) < 2:
        raise JaxgenError('Fréchet distance needs at least 2 feature vectors per set')
    return stats


def _sqrt_psd(matrix: jax.Array) -> jax.Array:
    values, vectors = jnp.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * jnp.sqrt(jnp.clip(values, 0.0))) @ vectors.T


@jax.jit
def frechet_distance_from_moments(mean1, cov1, mean2, cov2) -> jax.Array:
    """The Fréchet distance between N(mean1, cov1) and N(mean2, cov2)."""
    # Tr (S1^1/2 S2 S1^1/2)^1/2 is the sum of the singular values of S1^1/2 S2^1/2
    # (the middle matrix is A A^T for A = S1^1/2 S2^1/2). Taking the eigenvalues of
    # A A^T and then their square roots squares the condition number first: in
    # float32 the many near-zero eigenvalues of real feature covariances come back
    # as +-eps * |S|, and their square roots wreck a small FD (a true 8.09 came out
    # as -14.0 in the test). Singular values of A carry only eps * |A| error.
    product = _sqrt_psd(cov1) @ _sqrt_psd(cov2)
    trace_root = jnp.sum(jnp.linalg.svd(product, compute_uv=False))
    diff = mean1 - mean2
    return diff @ diff + jnp.trace(cov1) + jnp.trace(cov2) - 2.0 * trace_root


def frechet_distance(stats1: GaussianStats, stats2: GaussianStats) -> float:
    """The Fréchet distance between two feature sets' Gaussian fits."""
    return float(frechet_distance_from_moments(stats1.mean, stats1.covariance,
                                               stats2.mean, stats2.covariance))


def frechet_distance_scipy(x, y) -> float:
    """The usual host computation in float64 (``scipy.linalg.sqrtm`` of S1 S2),
    from two sets of feature rows: the reference the on-device formula is
    checked against (tests, ``benchmarks/fd_precision.py``)."""
    import scipy.linalg  # host-only reference; the on-device path needs no SciPy
    x, y = np.float64(x), np.float64(y)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def _kernel(x: jax.Array, y: jax.Array) -> jax.Array:
    return (x @ y.T / x.shape[-1] + 1.0) ** 3


def _mmd2(kernel, x: jax.Array, y: jax.Array) -> jax.Array:
    m, n = x.shape[0], y.shape[0]
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    sum_xx = (jnp.sum(kxx) - jnp.trace(kxx)) / (m * (m - 1))
    sum_yy = (jnp.sum(kyy) - jnp.trace(kyy)) / (n * (n - 1))
    return sum_xx + sum_yy - 2.0 * jnp.mean(kxy)


@jax.jit
def mmd2_unbiased(x: jax.Array, y: jax.Array) -> jax.Array:
    """The unbiased estimate of MMD^2 with the cubic polynomial kernel."""
    return _mmd2(_kernel, x, y)


@functools.partial(jax.jit, static_argnames=('bandwidths',))
def gaussian_mmd2(x: jax.Array, y: jax.Array,
                  bandwidths: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)) -> jax.Array:
    """The unbiased estimate of MMD^2 with a sum of Gaussian kernels
    ``exp(-|a - b|^2 / (2 s^2))``, one per bandwidth ``s``: for low-dimensional
    points (2-D codes against prior draws), where the cubic kernel sees only
    the first three moments and a Gaussian kernel tells any two distributions apart."""
    def kernel(a, b):
        d2 = jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
        d2 = jnp.maximum(d2, 0.0)
        return sum(jnp.exp(-d2 / (2.0 * s * s)) for s in bandwidths)
    return _mmd2(kernel, x, y)


@functools.partial(jax.jit, static_argnames=('num_subsets', 'subset_size', 'disjoint'))
def _kid_subsets(x, y, key, num_subsets: int, subset_size: int, disjoint: bool) -> jax.Array:
    def one(k):
        if disjoint:  # one set: its two subsets must not share points
            order = jax.random.permutation(k, x.shape[0])
            return mmd2_unbiased(x[order[:subset_size]], y[order[subset_size:2 * subset_size]])
        kx, ky = jax.random.split(k)
        ix = jax.random.choice(kx, x.shape[0], (subset_size,), replace=False)
        iy = jax.random.choice(ky, y.shape[0], (subset_size,), replace=False)
        return mmd2_unbiased(x[ix], y[iy])
    return jax.lax.map(one, jax.random.split(key, num_subsets))


def kernel_inception_distance(x, y, key: jax.Array, num_subsets: int = 100,
                              subset_size: int = 1000) -> tuple[float, float]:
    """KID: the mean of the unbiased MMD^2 over random subsets, and its standard
    error (standard deviation over subsets / sqrt(number of subsets)).

    Given the same set twice (``x is y``), each pair of subsets is disjoint:
    subsets sharing points would bias the estimate below 0.
    """
    disjoint = x is y
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    size = min(subset_size, x.shape[0] // 2 if disjoint else min(x.shape[0], y.shape[0]))
    if size < 2:
        raise JaxgenError('KID needs at least 2 feature vectors per set (4 for a set '
                          'with itself)')
    values = np.asarray(_kid_subsets(x, y, key, num_subsets, size, disjoint), np.float64)
    error = values.std(ddof=1) / np.sqrt(num_subsets) if num_subsets > 1 else float('nan')
    return float(values.mean()), float(error)
