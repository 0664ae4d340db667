"""The perceptual metrics of an image model's samples, one protocol for every model.

* ``swd_<level>`` and their mean ``swd_avg``: Progressive GAN's sliced Wasserstein distance x 1e3
  of the samples against the test images (``metrics/swd.py``);
* ``diversity``: the mean domain-LPIPS distance between pairs of independent
  samples (for a conditional model, pairs of outputs for the same test condition) (``metrics/diversity.py``; domain LPIPS is NOT comparable with published
  LPIPS, ``metrics/lpips/domain.py``), with its standard error;
* ``ppl``: StyleGAN's perceptual path length in Z ('full', ε 1e-4, slerp; the same
  distance) where ``generate({'z': z})`` is deterministic, with ``keep_norm``
  since jaxgen's models read unnormalised N(0, I) latents; ``ppl_w``: in W (lerp of
  w = mapping(z)) for a model with ``w_path`` (StyleGAN), the paper's Table 4 space.

Used by ``python -m jaxgen.evaluate`` and ``benchmarks/perceptual_table.py``.
"""

from __future__ import annotations

import time
from typing import Callable

import jax
import jax.numpy as jnp

from jaxgen.data.pixels import as_tanh
from jaxgen.metrics import conditions, diversity, ppl, swd

PAIRS_PER_INPUT = 19  # MUNIT (Huang et al., 2018, §5.1): 19 pairs for each of 100 inputs


def model_sampler(model, variables) -> Callable:
    """``sample(keys)``: one model sample per key, in [-1, 1]."""
    scale = model.data_info.get('scale')

    def sample(keys):
        images = jax.vmap(lambda k: model.generate(variables, {'num': 1}, k)[0])(keys)
        return as_tanh(images, scale)
    return sample


def latent_generator(model, variables):
    """``z -> images`` in [-1, 1] through ``generate({'z': z})``, or None when the model has
    no ``latent_dim`` or its images at fixed ``z`` still depend on the key (InfoGAN draws
    its other codes from it): PPL needs a deterministic path."""
    dim = getattr(model, 'latent_dim', None)
    if not dim or conditions.conditions(model):  # z alone does not make an image
        return None
    scale = model.data_info.get('scale')

    def generator(z, key=jax.random.key(0)):
        return as_tanh(model.generate(variables, {'z': z}, key), scale)
    z = jax.random.normal(jax.random.key(1), (4, dim))
    if not jnp.array_equal(generator(z), generator(z, jax.random.key(2))):
        return None
    return generator


def model_ppl(model, variables, distance, key, num: int) -> dict:
    """PPL in Z, and in W (``ppl_w``) for a model whose ``w_path(variables)`` gives
    ``(mapping, synthesis)`` (StyleGAN); nothing without a deterministic latent path."""
    generator = latent_generator(model, variables)
    if generator is None or num <= 0:
        return {}
    start = time.time()
    out = ppl.perceptual_path_length(distance, key, num, latent_dim=model.latent_dim,
                                     generator=generator, keep_norm=True)
    result = {'ppl': out['ppl'], 'ppl_kept': out['num_kept'],
              'ppl_seconds': round(time.time() - start, 1)}
    if hasattr(model, 'w_path'):
        mapping, synthesis = model.w_path(variables)
        scale = model.data_info.get('scale')
        start = time.time()
        out = ppl.perceptual_path_length(
            distance, key, num, latent_dim=model.latent_dim, space='w', mapping=mapping,
            synthesis=lambda w: as_tanh(synthesis(w), scale))
        result.update({'ppl_w': out['ppl'], 'ppl_w_kept': out['num_kept'],
                       'ppl_w_seconds': round(time.time() - start, 1)})
    return result


def sample_metrics(real, fake, sample: Callable, distance, key, pairs: int) -> dict:
    """SWD of ``fake`` against ``real`` (both [-1, 1]) and the diversity of ``sample``."""
    swd_key, div_key = jax.random.split(key)
    start = time.time()
    out = swd.swd(real, fake, swd_key)
    out['swd_seconds'] = round(time.time() - start, 1)
    start = time.time()
    out.update(diversity.unconditional_diversity(sample, distance, div_key, num_pairs=pairs))
    out['diversity_seconds'] = round(time.time() - start, 1)
    return out


def model_metrics(model, variables, real, fake, distance, key, pairs: int = 1000,
                  ppl_samples: int = 2000, test_arrays=None) -> dict:
    """Every perceptual metric of ``model``, whose samples ``fake`` are compared with
    ``real`` (both [-1, 1], the same shape). A conditional model (``conditions``) is
    measured on the conditions of ``test_arrays``: its diversity is the distance
    between two outputs for the same condition, and it has no latent path for PPL."""
    sample_key, ppl_key = jax.random.split(key)
    if conditions.conditions(model):
        return conditional_metrics(model, variables, real, fake, distance, sample_key,
                                   pairs, test_arrays)
    return {**sample_metrics(real, fake, model_sampler(model, variables), distance,
                             sample_key, pairs),
            **model_ppl(model, variables, distance, ppl_key, ppl_samples)}


def conditional_metrics(model, variables, real, fake, distance, key, pairs: int,
                        test_arrays) -> dict:
    """SWD, and LPIPS diversity as BicycleGAN and MUNIT report it: ``PAIRS_PER_INPUT``
    pairs of outputs for each of the first ``ceil(pairs / PAIRS_PER_INPUT)`` test
    conditions."""
    swd_key, div_key = jax.random.split(key)
    start = time.time()
    out = swd.swd(real, fake, swd_key)
    out['swd_seconds'] = round(time.time() - start, 1)
    start = time.time()
    groups = min(-(-pairs // PAIRS_PER_INPUT), conditions.num_examples(test_arrays))
    inputs = conditions.inputs_from(model, test_arrays, slice(0, groups))
    scale = model.data_info.get('scale')

    def generate(batch, keys):  # one output per row, each with its own key
        one = lambda row, k: model.generate(  # noqa: E731
            variables, jax.tree.map(lambda x: x[None], row), k)[0]
        return as_tanh(jax.vmap(one)(batch, keys), scale)
    out.update(diversity.lpips_diversity(generate, inputs, distance, div_key,
                                         num_pairs=PAIRS_PER_INPUT))
    out['diversity_seconds'] = round(time.time() - start, 1)
    return out
