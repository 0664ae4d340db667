"""Autoencoder pictures: prior samples, reconstructions, and for a 2-D latent space
the decoded manifold and the encoded examples by label (VAE, AE, IWAE, AAE)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxgen.models.autoencoders import priors
from jaxgen.models.gan.base import real_data
from jaxgen.visualisation.grid import image_grid
from jaxgen.visualisation.latents import latent_scatter, manifold_codes
from jaxgen.visualisation.samples import render_samples


def vae_pictures(model, variables, key, examples=None,
                 manifold_extent: float = 2.0) -> dict[str, np.ndarray]:
    """Samples from the prior N(0, I); reconstructions next to their inputs; for a
    2-D latent space, the decoded manifold over ``[-manifold_extent,
    manifold_extent]^2`` and the encoded examples by label."""
    info = {**model.data_info, 'scale': model.data_info.get('scale', 'unit')}
    value_range = (0.0, 1.0) if info['scale'] == 'unit' else (-1.0, 1.0)
    out = {'samples': render_samples(np.asarray(model.sample(variables, key, 64)), info)}
    if examples is not None:
        x = jnp.asarray(real_data(examples))
        pairs = jnp.stack([x[:32], model.reconstruct(variables, x[:32])], axis=1)
        out['reconstructions'] = image_grid(np.asarray(pairs.reshape(-1, *x.shape[1:])),
                                            nrow=16, value_range=value_range)
    if model.latent_dim == 2:
        grid = model.mean_image(model.decode(
            variables, jnp.asarray(manifold_codes(extent=manifold_extent)))[0])
        out['manifold'] = image_grid(np.asarray(grid), nrow=15, padding=0,
                                     value_range=value_range)
        if examples is not None:
            out['latents'] = latent_scatter(
                np.asarray(model.encode_means(variables, x)),
                np.asarray(examples['label']) if 'label' in examples else None,
                title='encoded examples by label')
    return out


def aae_pictures(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """The autoencoder's pictures, with samples from the AAE's prior and the encoded
    examples drawn over it."""
    out = vae_pictures(model.autoencoder, variables, key, examples,
                       manifold_extent=priors.EXTENTS[model.prior])
    out['samples'] = render_samples(np.asarray(model.sample(variables, key, 64)),
                                    {**model.data_info, 'scale': 'unit'})
    if examples is not None and model.latent_dim == 2:
        x = jnp.asarray(real_data(examples))
        codes = model.autoencoder.encode_means(variables, x)
        out['latents'] = latent_scatter(
            np.asarray(codes), np.asarray(examples['label']) if 'label' in examples else None,
            prior=np.asarray(priors.sample(model.prior, key, 2000, 2)),
            title=f'encoded examples by label over the {model.prior} prior (grey)',
            lim=priors.frame(model.prior))
    return out
