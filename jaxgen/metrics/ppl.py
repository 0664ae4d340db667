"""Perceptual path length (PPL), StyleGAN's smoothness metric.

Source: Karras et al., 2019, "A Style-Based Generator Architecture for GANs", §4.1,
and their code, NVlabs/stylegan ``metrics/perceptual_path_length.py``:

    PPL = E[ d(G(f(t)), G(f(t + eps))) / eps^2 ],  eps = 1e-4,

over pairs of latents ``z0, z1 ~ N(0, I)`` and ``t``. In Z (``space='z'``) the path
is the spherical interpolation ``slerp(z0, z1, t)`` of the normalised latents (the
official ``slerp``, whose result is a unit vector), fed to the whole generator
(or to ``mapping`` then ``synthesis``); in W (``space='w'``) it is the linear
interpolation of ``w0 = mapping(z0)``, ``w1 = mapping(z1)``, fed to ``synthesis``.
``sampling='full'`` draws ``t ~ U(0, 1)``; ``'end'`` uses the path's end, ``t = 0``,
as the official code does (the paper writes t in {0, 1}: the pair is exchangeable,
so t = 1 stepping back gives the same distribution). Values outside the
[1st ('lower'), 99th ('higher')] percentiles are dropped, and the rest averaged.

``distance(images_a, images_b) -> [N]`` is any perceptual distance of NHWC images
in [-1, 1] that JAX can trace (StyleGAN used LPIPS-VGG; here usually
``jaxgen.metrics.lpips``'s domain LPIPS: not comparable with published PPL).
The generator callables must be deterministic (fixed noise inputs, as the
official code sets ``randomize_noise=False``). The official crop to the face
region and resize to 256 px are left to the caller.

A jaxgen extension, off by default: ``keep_norm=True`` scales the unit slerp by
the interpolated length ``(1 - t)|z0| + t|z1|``, for generators trained on
``N(0, I)`` latents that do not normalise them (DCGAN-style), which would see
off-distribution unit-length latents otherwise.

Sample ``i``'s ``z0, z1, t`` come from ``fold_in(key, i)``; batches are
padded to one shape (one compilation), so any batch size gives the same paths.
In float32 the eps = 1e-4 difference magnifies rounding: single values carry
~0.4% error and move by ~0.2% with the batch size (other matmul blocking), the
filtered mean by ~1e-4 (measured in ``tests/test_ppl_diversity.py`` against
float64); under ``jax.enable_x64`` they agree to 1e-9.
"""

from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError

EPSILON = 1e-4
Distance = Callable[[jax.Array, jax.Array], jax.Array]


def normalize(v: jax.Array) -> jax.Array:
    """Each row divided by its Euclidean length."""
    return v / jnp.sqrt(jnp.sum(jnp.square(v), axis=-1, keepdims=True))


def slerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
    """The official spherical interpolation of the normalised ``a``, ``b`` (unit result)."""
    a, b = normalize(a), normalize(b)
    d = jnp.sum(a * b, axis=-1, keepdims=True)
    p = t * jnp.arccos(d)
    c = normalize(b - d * a)
    return normalize(a * jnp.cos(p) + c * jnp.sin(p))


def lerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
    """``a + (b - a) t``, ``t`` broadcast over the trailing axes of ``a``."""
    t = jnp.reshape(t, t.shape[:1] + (1,) * (a.ndim - 1))
    return a + (b - a) * t


def path_samples(key: jax.Array, indices: jax.Array, latent_dim: int, sampling: str,
                 latent_sampler=jax.random.normal):
    """``(z0, z1, t)`` of the samples with these global indices (``fold_in(key, i)``)."""
    def one(i):
        k0, k1, kt = jax.random.split(jax.random.fold_in(key, i), 3)
        t = jax.random.uniform(kt, ()) if sampling == 'full' else jnp.zeros(())
        return latent_sampler(k0, (latent_dim,)), latent_sampler(k1, (latent_dim,)), t
    return jax.vmap(one)(indices)


def _z_path(z0, z1, t, epsilon, keep_norm):
    ends = []
    for s in (t, t + epsilon):
        z = slerp(z0, z1, s[:, None])
        if keep_norm:
            z = z * lerp(jnp.linalg.norm(z0, axis=-1), jnp.linalg.norm(z1, axis=-1), s)[:, None]
        ends.append(z)
    return jnp.concatenate(ends)


def path_distances(distance: Distance, key: jax.Array, indices: jax.Array, *, latent_dim: int,
                   space: str = 'z', sampling: str = 'full', epsilon: float = EPSILON,
                   generator=None, mapping=None, synthesis=None,
                   latent_sampler=jax.random.normal, keep_norm: bool = False) -> jax.Array:
    """``d(G(f(t)), G(f(t + eps))) / eps^2`` of the samples with these indices."""
    z0, z1, t = path_samples(key, indices, latent_dim, sampling, latent_sampler)
    if space == 'w':
        w = mapping(jnp.concatenate([z0, z1]))
        w0, w1 = w[:len(t)], w[len(t):]
        images = synthesis(jnp.concatenate([lerp(w0, w1, t), lerp(w0, w1, t + epsilon)]))
    else:
        z = _z_path(z0, z1, t, epsilon, keep_norm)
        images = generator(z) if generator is not None else synthesis(mapping(z))
    return distance(images[:len(t)], images[len(t):]) / epsilon ** 2


def _check(space, sampling, generator, mapping, synthesis, num_samples, batch_size):
    if space not in ('z', 'w'):
        raise JaxgenError(f"PPL: space must be 'z' or 'w', got {space!r}")
    if sampling not in ('full', 'end'):
        raise JaxgenError(f"PPL: sampling must be 'full' or 'end', got {sampling!r}")
    if space == 'w' and (mapping is None or synthesis is None):
        raise JaxgenError("PPL in W needs mapping (z -> w) and synthesis (w -> image)")
    if space == 'z' and generator is None and (mapping is None or synthesis is None):
        raise JaxgenError('PPL in Z needs a generator (z -> image), or mapping and synthesis')
    if num_samples < 1 or batch_size < 1:
        raise JaxgenError(f'PPL needs num_samples and batch_size >= 1, got {num_samples} '
                          f'and {batch_size}')


def path_lengths(distance: Distance, key: jax.Array, num_samples: int, *, latent_dim: int,
                 space: str = 'z', sampling: str = 'full', epsilon: float = EPSILON,
                 generator: Optional[Callable] = None, mapping: Optional[Callable] = None,
                 synthesis: Optional[Callable] = None, batch_size: int = 64,
                 latent_sampler=jax.random.normal, keep_norm: bool = False) -> np.ndarray:
    """Every sample's ``d / eps^2`` (float64 on the host), streamed in batches."""
    _check(space, sampling, generator, mapping, synthesis, num_samples, batch_size)
    batch_size = min(batch_size, num_samples)
    settings = dict(latent_dim=latent_dim, space=space, sampling=sampling, epsilon=epsilon,
                    generator=generator, mapping=mapping, synthesis=synthesis,
                    latent_sampler=latent_sampler, keep_norm=keep_norm)
    run = jax.jit(lambda k, idx: path_distances(distance, k, idx, **settings))
    out = [np.asarray(run(key, jnp.arange(start, start + batch_size)), np.float64)
           for start in range(0, num_samples, batch_size)]
    if out[0].shape != (batch_size,):
        raise JaxgenError(f'PPL: the distance must return one value per pair, got shape '
                          f'{out[0].shape} for {batch_size} pairs')
    return np.concatenate(out)[:num_samples]


def filtered_mean(values: np.ndarray) -> dict[str, float]:
    """The official outlier rejection: keep [1st 'lower', 99th 'higher' percentile]."""
    lo = np.percentile(values, 1, method='lower')
    hi = np.percentile(values, 99, method='higher')
    kept = values[(lo <= values) & (values <= hi)]
    return {'ppl': float(np.mean(kept)), 'num_samples': float(len(values)),
            'num_kept': float(len(kept)), 'lo': float(lo), 'hi': float(hi)}


def perceptual_path_length(distance: Distance, key: jax.Array, num_samples: int = 100000,
                           **kwargs) -> dict[str, float]:
    """StyleGAN's PPL: the filtered mean of :func:`path_lengths` (same keywords), with
    the number of samples, the number kept and the two cut-offs."""
    values = path_lengths(distance, key, num_samples, **kwargs)
    if not np.all(np.isfinite(values)):
        raise JaxgenError(f'PPL: {int(np.sum(~np.isfinite(values)))} of {len(values)} path '
                          f'distances are not finite; check the generator and the distance')
    return filtered_mean(values)
