"""LPIPS diversity: the mean perceptual distance between outputs that differ only
in their noise.

Sources: BicycleGAN (Zhu et al., 2017, §5 "Diversity": the average LPIPS distance
between pairs of outputs drawn for the same input, over the test inputs) and
MUNIT (Huang et al., 2018, §5.1: for each of 100 inputs, 19 output pairs with
random style codes, the mean LPIPS distance).

* :func:`lpips_diversity` (conditional): for each input ``i`` and pair ``p``, two
  outputs ``generate_fn(input_i, key_a)``, ``generate_fn(input_i, key_b)`` and
  their distance; the result is the mean over all ``N x num_pairs`` pairs, with
  the standard error of the per-input means. Outputs for *different* inputs are
  never compared: a generator that ignores its noise scores 0.
* :func:`unconditional_diversity`: pairs of independent samples.

``distance(images_a, images_b) -> [B]`` is any perceptual distance of NHWC images
in [-1, 1] that JAX can trace (``jaxgen.metrics.lpips``: real LPIPS where its
backbone weights are present, otherwise domain LPIPS, not comparable with
published numbers; tests use squared L2). ``generate_fn(inputs, keys)`` takes a
batch of inputs (any pytree of arrays with a leading batch axis) and one key per
row, and must be traceable by JAX.

Pair ``(i, p)``'s keys are ``fold_in(fold_in(fold_in(key, i), p), 0 | 1)`` (the
unconditional pair ``r``: ``fold_in(fold_in(key, r), 0 | 1)``) and rows are padded
to whole batches, so every batch size gives the same pairs.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

Distance = Callable[[jax.Array, jax.Array], jax.Array]


def pair_keys(key: jax.Array, rows: jax.Array, num_pairs: int | None = None):
    """The two keys of each pair row: ``(keys_a, keys_b)``. With ``num_pairs`` a row
    ``r`` is input ``r // num_pairs``'s pair ``r % num_pairs``; without, pair ``r``."""
    def one(r):
        k = (jax.random.fold_in(jax.random.fold_in(key, r // num_pairs), r % num_pairs)
             if num_pairs else jax.random.fold_in(key, r))
        return jax.random.fold_in(k, 0), jax.random.fold_in(k, 1)
    return jax.vmap(one)(rows)


def _stream(pair_fn, num_rows: int, batch_size: int) -> np.ndarray:
    """Every row's distance (float64, host), computed ``batch_size`` rows at a time."""
    if num_rows < 1 or batch_size < 1:
        raise JaxgenError(f'diversity needs at least one pair and batch_size >= 1, got '
                          f'{num_rows} pairs and batch_size {batch_size}')
    batch_size = min(batch_size, num_rows)
    run = jax.jit(pair_fn)
    out = [np.asarray(run(jnp.arange(start, start + batch_size)), np.float64)
           for start in range(0, num_rows, batch_size)]
    if out[0].shape != (batch_size,):
        raise JaxgenError(f'diversity: the distance must return one value per pair, got '
                          f'shape {out[0].shape} for {batch_size} pairs')
    values = np.concatenate(out)[:num_rows]
    if not np.all(np.isfinite(values)):
        raise JaxgenError(f'diversity: {int(np.sum(~np.isfinite(values)))} of {num_rows} '
                          f'distances are not finite; check the generator and the distance')
    return values


def _summary(per_group: np.ndarray) -> dict[str, float]:
    """Mean of ``[groups, pairs]`` distances, and the standard error over groups."""
    means = per_group.mean(axis=1)
    error = means.std(ddof=1) / np.sqrt(len(means)) if len(means) > 1 else float('nan')
    return {'diversity': float(per_group.mean()), 'diversity_error': float(error),
            'num_groups': float(per_group.shape[0]), 'num_pairs': float(per_group.size)}


def lpips_diversity(generate_fn: Callable[[Any, jax.Array], jax.Array], inputs: Any,
                    distance: Distance, key: jax.Array, num_pairs: int = 19,
                    batch_size: int = 64) -> dict[str, float]:
    """The mean distance between two outputs for the same input (BicycleGAN/MUNIT).

    ``inputs``: a pytree of arrays ``[N, ...]``; ``num_pairs`` pairs per input
    (MUNIT: 19). Returns ``diversity`` (mean over all pairs), ``diversity_error``
    (standard error of the per-input means), ``num_groups`` (N), ``num_pairs``."""
    sizes = {int(np.shape(x)[0]) for x in jax.tree_util.tree_leaves(inputs) if np.ndim(x)}
    if len(sizes) != 1:
        raise JaxgenError(f'diversity: inputs need one leading batch size, got {sorted(sizes)}')
    if num_pairs < 1:
        raise JaxgenError(f'diversity needs num_pairs >= 1, got {num_pairs}')
    num = sizes.pop()
    inputs = jax.tree_util.tree_map(jnp.asarray, inputs)

    def pair_fn(rows):
        keys_a, keys_b = pair_keys(key, rows, num_pairs)
        batch = jax.tree_util.tree_map(lambda x: x[jnp.minimum(rows // num_pairs, num - 1)],
                                       inputs)
        return distance(generate_fn(batch, keys_a), generate_fn(batch, keys_b))

    values = _stream(pair_fn, num * num_pairs, batch_size)
    return _summary(values.reshape(num, num_pairs))


def unconditional_diversity(sample_fn: Callable[[jax.Array], jax.Array], distance: Distance,
                            key: jax.Array, num_pairs: int = 1000, batch_size: int = 64,
                            num_groups: int = 10) -> dict[str, float]:
    """The mean distance between pairs of independent samples ``sample_fn(keys)``
    (one image per key); the standard error over ``num_groups`` consecutive groups."""
    if num_pairs < num_groups or num_pairs % num_groups:
        raise JaxgenError(f'diversity: num_pairs ({num_pairs}) must be a multiple of '
                          f'num_groups ({num_groups})')

    def pair_fn(rows):
        keys_a, keys_b = pair_keys(key, rows)
        return distance(sample_fn(keys_a), sample_fn(keys_b))

    values = _stream(pair_fn, num_pairs, batch_size)
    return _summary(values.reshape(num_groups, -1))


def squared_l2(images_a: jax.Array, images_b: jax.Array) -> jax.Array:
    """``sum (a - b)^2`` per pair: a stand-in distance for tests and checks."""
    return jnp.sum(jnp.square(images_a - images_b), axis=tuple(range(1, images_a.ndim)))
