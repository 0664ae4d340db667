"""Adversarial autoencoder (Makhzani et al., 2016).

Players: ``encoder``, ``decoder`` and a latent-space ``discriminator``. The
autoencoder reconstructs; the discriminator tells codes drawn from the prior
(``real_logits``) from codes of the data (``fake_logits``); the encoder, as the
generator, learns to make its codes look drawn from the prior. The prior only
has to be sampled (``models/priors.py``). The outputs carry the same names as
a GAN's, so the GAN losses apply unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.models.autoencoders import priors, vae
from jaxgen.models.bundle import check_inputs, unconditional
from jaxgen.models.layers import apply, compiled
from jaxgen.models.gan.mlp import MLPDiscriminator


@dataclasses.dataclass(frozen=True)
class AAE:
    autoencoder: vae.VAE  # deterministic (stochastic=False)
    discriminator: nn.Module
    prior: str
    data_info: Mapping[str, Any]

    @property
    def players(self) -> dict[str, nn.Module]:
        return {**self.autoencoder.players, 'discriminator': self.discriminator}

    @property
    def latent_dim(self) -> int:
        return self.autoencoder.latent_dim

    @compiled()
    def init(self, key: jax.Array) -> dict:
        ka, kd = jax.random.split(key)
        return {**self.autoencoder.init(ka),
                'discriminator': self.discriminator.init(kd, jnp.zeros((2, self.latent_dim)))}

    def forward(self, variables, batch, key, train: bool = True) -> tuple[dict, dict]:
        outputs, state = self.autoencoder.forward(variables, batch, key, train=train)
        codes = outputs['z'][0]
        prior_codes = priors.sample(self.prior, key, codes.shape[0], self.latent_dim)
        d_vars = variables['discriminator']
        real_logits, d_state = apply(self.discriminator, d_vars, prior_codes, train=train)
        fake_logits, d_state = apply(self.discriminator, {**d_vars, **d_state}, codes,
                                     train=train)
        outputs.update(real_logits=real_logits, fake_logits=fake_logits,
                       prior_codes=prior_codes)
        return outputs, {**state, 'discriminator': d_state}

    @compiled(2)
    def sample(self, variables, key, num: int) -> jax.Array:
        z = priors.sample(self.prior, key, num, self.latent_dim)
        return self.autoencoder.mean_image(self.autoencoder.decode(variables, z)[0])

    def generate(self, variables, inputs, key) -> jax.Array:
        """``{'num': n}``: decoded draws from the prior; ``{'z': z}``: decoded codes."""
        num = check_inputs(inputs, ('z',), 'aae')
        if unconditional(inputs):
            return self.sample(variables, key, num)
        return self.autoencoder.generate(variables, inputs, key)


def build(model_config, data_info) -> AAE:
    if model_config.prior not in priors.PRIORS:
        raise JaxgenError(f'unknown config.model.prior {model_config.prior!r}; choose one of '
                          f'{", ".join(priors.PRIORS)}')
    if model_config.prior != 'gaussian' and model_config.latent_dim != 2:
        raise JaxgenError(f'prior {model_config.prior!r} is 2-D; set config.model.latent_dim=2')
    ae_config = model_config.copy_and_resolve_references()
    with ae_config.unlocked():
        ae_config.stochastic, ae_config.num_samples = False, 1
    autoencoder = vae.build(ae_config, data_info)
    discriminator = MLPDiscriminator(hidden=tuple(model_config.d_hidden))
    return AAE(autoencoder=autoencoder, discriminator=discriminator,
               prior=model_config.prior, data_info=data_info)
