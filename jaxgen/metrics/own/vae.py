"""VAE / IWAE: the test negative log-likelihood (IWAE bound) and the negative ELBO."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data.pixels import binarize_static, scale_images


def evaluation(model):
    """The likelihood bounds of a stochastic encoder; nothing for a plain autoencoder."""

    def evaluate(variables, arrays, key, num_samples: int | None = None,
                 num_examples: int | None = None, chunk: int | None = None) -> dict[str, float]:
        """Test negative log-likelihood, estimated by the IWAE bound with k samples
        (an upper bound on the NLL that tightens as k grows), and the negative ELBO."""
        if not model.stochastic:
            return {}
        k = num_samples or model.eval_samples
        images = evaluation_images(arrays, model.data_info)[:num_examples]
        chunk = chunk or max(1, min(500, 200_000 // k))
        bounds, elbos = [], []
        for i, start in enumerate(range(0, len(images), chunk)):
            b, e = model.bounds(variables, jnp.asarray(images[start:start + chunk]),
                                jax.random.fold_in(key, i), k)
            bounds.append(np.asarray(b))
            elbos.append(np.asarray(e))
        return {f'nll_iwae_k{k}': float(-np.concatenate(bounds).mean()),
                'negative_elbo': float(-np.concatenate(elbos).mean())}
    return evaluate


def evaluation_images(arrays, data_info) -> np.ndarray:
    """The test images as the model saw its training data (binarized once, seed 0)."""
    images = np.asarray(arrays['image'])
    if data_info.get('binarize'):
        images = binarize_static(images, seed=0)
    return np.asarray(scale_images(images, data_info.get('scale', 'unit')))
