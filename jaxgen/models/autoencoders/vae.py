"""Autoencoder and variational autoencoder (Kingma & Welling, 2014; Burda et al., 2016).

Players: ``encoder`` and ``decoder``. The encoder maps an image to a Gaussian
q(z|x) (mean and log-variance) or, for the plain autoencoder, to one code z.
The decoder maps z to the parameters of p(x|z): Bernoulli logits (binarized
data) or a Gaussian mean and log-variance per pixel (continuous data).

Architectures: the MLP of Burda et al. (784-200-200-50, tanh, one stochastic
layer) and a small convolutional pair.

``forward`` draws ``num_samples`` codes per example with the
reparameterisation trick, so the same model serves the ELBO (k = 1) and the
IWAE bound (k > 1).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.losses import vae as vae_losses
from jaxgen.models.layers.conv import Conv
from jaxgen.models.layers.deconv import ConvTranspose
from jaxgen.models.gan.base import real_data
from jaxgen.models.bundle import check_inputs, unconditional
from jaxgen.models.layers import apply, compiled

LIKELIHOODS = ('bernoulli', 'gaussian')


class MLPEncoder(nn.Module):
    hidden: Sequence[int] = (200, 200)
    latent_dim: int = 50
    stochastic: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False):
        del train
        h = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            h = jnp.tanh(nn.Dense(width)(h))
        if not self.stochastic:
            return nn.Dense(self.latent_dim)(h)
        return nn.Dense(self.latent_dim)(h), nn.Dense(self.latent_dim)(h)


class MLPDecoder(nn.Module):
    """z ``[N, latent]`` -> ``[N, H, W, C * params]`` (logits, or mean and log-variance)."""
    output_shape: tuple[int, int, int] = (28, 28, 1)
    hidden: Sequence[int] = (200, 200)
    params_per_pixel: int = 1

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = False) -> jax.Array:
        del train
        x = z
        for width in self.hidden:
            x = jnp.tanh(nn.Dense(width)(x))
        height, width, c = self.output_shape
        out = nn.Dense(height * width * c * self.params_per_pixel)(x)
        return out.reshape(z.shape[0], height, width, c * self.params_per_pixel)


class ConvEncoder(nn.Module):
    latent_dim: int = 16
    features: int = 32
    stochastic: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False):
        del train
        h = nn.relu(Conv(self.features, (4, 4), strides=(2, 2), padding='SAME')(x))
        h = nn.relu(Conv(2 * self.features, (4, 4), strides=(2, 2), padding='SAME')(h))
        h = nn.relu(nn.Dense(256)(h.reshape(x.shape[0], -1)))
        if not self.stochastic:
            return nn.Dense(self.latent_dim)(h)
        return nn.Dense(self.latent_dim)(h), nn.Dense(self.latent_dim)(h)


class ConvDecoder(nn.Module):
    output_shape: tuple[int, int, int] = (28, 28, 1)
    features: int = 32
    params_per_pixel: int = 1

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = False) -> jax.Array:
        del train
        h, w, c = self.output_shape
        x = nn.relu(nn.Dense(256)(z))
        x = nn.relu(nn.Dense((h // 4) * (w // 4) * 2 * self.features)(x))
        x = x.reshape(z.shape[0], h // 4, w // 4, 2 * self.features)
        x = nn.relu(ConvTranspose(self.features, (4, 4), strides=(2, 2), padding='SAME')(x))
        return ConvTranspose(c * self.params_per_pixel, (4, 4), strides=(2, 2),
                                padding='SAME')(x)


@dataclasses.dataclass(frozen=True)
class VAE:
    """A Gaussian-encoder VAE, or with ``stochastic=False`` a plain autoencoder."""
    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int
    likelihood: str
    num_samples: int
    stochastic: bool
    data_info: Mapping[str, Any]
    eval_samples: int = 100

    @property
    def players(self) -> dict[str, nn.Module]:
        return {'encoder': self.encoder, 'decoder': self.decoder}

    @compiled()
    def init(self, key: jax.Array) -> dict:
        ke, kd = jax.random.split(key)
        x = jnp.zeros((2, *self.data_info['shape']), jnp.float32)
        return {'encoder': self.encoder.init(ke, x, train=False),
                'decoder': self.decoder.init(kd, jnp.zeros((2, self.latent_dim)), train=False)}

    def decode(self, variables, z: jax.Array, train: bool = False):
        """Decoder outputs for codes ``[..., latent]`` (any leading shape)."""
        lead = z.shape[:-1]
        out, state = apply(self.decoder, variables['decoder'], z.reshape(-1, self.latent_dim),
                           train=train)
        return out.reshape(*lead, *out.shape[1:]), state

    def forward(self, variables, batch, key, train: bool = True) -> tuple[dict, dict]:
        x = real_data(batch)
        encoded, e_state = apply(self.encoder, variables['encoder'], x, train=train)
        if self.stochastic:
            mean, log_var = encoded
            z = vae_losses.reparameterize(key, mean=mean, log_var=log_var,
                                          num_samples=self.num_samples)
        else:
            mean, log_var, z = encoded, None, encoded[None]
        decoded, d_state = self.decode(variables, z, train=train)
        outputs = {'x': x, 'z': z, 'mean': mean, 'log_var': log_var, 'decoded': decoded,
                   'log_px_z': self.log_likelihood(decoded, x),  # [k, B]
                   'step': batch.get('step')}
        return outputs, {'encoder': e_state, 'decoder': d_state}

    def log_likelihood(self, decoded: jax.Array, x: jax.Array) -> jax.Array:
        """log p(x|z) per sample; ``decoded`` ``[k, B, ...]`` against ``x`` ``[B, ...]``."""
        return log_likelihood(self.likelihood, decoded, x)

    def mean_image(self, decoded: jax.Array) -> jax.Array:
        """E[x|z]: the picture a decoder output stands for."""
        if self.likelihood == 'bernoulli':
            return jax.nn.sigmoid(decoded)
        return decoded[..., :decoded.shape[-1] // 2]

    @compiled(2)
    def sample(self, variables, key, num: int) -> jax.Array:
        """Decoded draws from the prior N(0, I), as mean images."""
        z = jax.random.normal(key, (num, self.latent_dim))
        return self.mean_image(self.decode(variables, z)[0])

    def generate(self, variables, inputs, key) -> jax.Array:
        """``{'num': n}``: decoded draws from the prior; ``{'z': z}``: decoded codes."""
        num = check_inputs(inputs, ('z',), 'vae')
        if unconditional(inputs):
            return self.sample(variables, key, num)
        return self.decode_means(variables, jnp.asarray(inputs['z'], jnp.float32))

    @compiled()
    def decode_means(self, variables, z: jax.Array) -> jax.Array:
        return self.mean_image(self.decode(variables, z)[0])

    def reconstruct(self, variables, x: jax.Array) -> jax.Array:
        return self.mean_image(self.decode(variables, self.encode_means(variables, x))[0])

    @functools.cached_property
    def _bounds_jit(self):
        return jax.jit(self._bounds, static_argnums=(3,))

    def _bounds(self, variables, x, key, num_samples: int):
        """Per-example ``(L_k, ELBO estimate)`` with k = ``num_samples`` codes."""
        mean, log_var = self.encoder.apply(dict(variables['encoder']), x, train=False)
        z = vae_losses.reparameterize(key, mean=mean, log_var=log_var, num_samples=num_samples)
        decoded, _ = self.decode(variables, z)
        log_w = log_weights(z=z, mean=mean, log_var=log_var,
                            log_px_z=self.log_likelihood(decoded, x))
        return vae_losses.iwae_bound(log_weights=log_w), jnp.mean(log_w, axis=0)

    def bounds(self, variables, x: jax.Array, key: jax.Array, num_samples: int):
        """Per-example ``(L_k, ELBO estimate)`` of ``x`` with k = ``num_samples`` codes."""
        return self._bounds_jit(variables, x, key, num_samples)

    def encode_means(self, variables, x: jax.Array) -> jax.Array:
        encoded = self.encoder.apply(dict(variables['encoder']), x, train=False)
        return encoded[0] if self.stochastic else encoded


def log_weights(*, z, mean, log_var, log_px_z) -> jax.Array:
    """Importance log-weights ``log p(x|z_i) + log p(z_i) - log q(z_i|x)``, ``[k, B]``."""
    k, b = z.shape[:2]
    flat = z.reshape(k * b, -1)
    rep = lambda a: jnp.broadcast_to(a, (k, *a.shape)).reshape(k * b, -1)
    log_q = vae_losses.gaussian_log_density(x=flat, mean=rep(mean), log_var=rep(log_var))
    log_p = vae_losses.standard_normal_log_density(x=flat)
    return log_px_z + (log_p - log_q).reshape(k, b)


def log_likelihood(kind: str, decoded: jax.Array, x: jax.Array) -> jax.Array:
    x = jnp.broadcast_to(x, decoded.shape[:-1] + x.shape[-1:])
    if kind == 'bernoulli':
        flat = lambda a: a.reshape(-1, *a.shape[-3:])
        ll = vae_losses.bernoulli_log_likelihood(logits=flat(decoded), targets=flat(x))
        return ll.reshape(decoded.shape[:-3])
    c = decoded.shape[-1] // 2
    mean, log_var = decoded[..., :c], decoded[..., c:]
    flat = lambda a: a.reshape(-1, *a.shape[-3:])
    ll = vae_losses.gaussian_log_density(x=flat(x), mean=flat(mean), log_var=flat(log_var))
    return ll.reshape(decoded.shape[:-3])


def build(model_config, data_info) -> VAE:
    shape = tuple(data_info['shape'])
    if kinds.kind(data_info) != 'images':
        raise JaxgenError(f'vae needs image data (H, W, C); the dataset holds '
                          f'{kinds.kind(data_info)} of shape {shape}')
    likelihood = model_config.likelihood
    if likelihood not in LIKELIHOODS:
        raise JaxgenError(f'unknown config.model.likelihood {likelihood!r}; choose one of '
                          f'{", ".join(LIKELIHOODS)}')
    if likelihood == 'bernoulli' and data_info.get('scale') != 'unit':
        raise JaxgenError("a Bernoulli decoder needs pixels in [0, 1]: set "
                          "config.data.scale='unit' (and config.data.binarize='dynamic')")
    stochastic, latent = bool(model_config.stochastic), int(model_config.latent_dim)
    per_pixel = 1 if likelihood == 'bernoulli' else 2
    if model_config.architecture == 'mlp':
        hidden = tuple(model_config.hidden)
        encoder = MLPEncoder(hidden=hidden, latent_dim=latent, stochastic=stochastic)
        decoder = MLPDecoder(output_shape=shape, hidden=hidden, params_per_pixel=per_pixel)
    elif model_config.architecture == 'conv':
        encoder = ConvEncoder(latent_dim=latent, stochastic=stochastic)
        decoder = ConvDecoder(output_shape=shape, params_per_pixel=per_pixel)
    else:
        raise JaxgenError(f'unknown config.model.architecture {model_config.architecture!r}; '
                          'choose mlp or conv')
    if model_config.num_samples < 1 or (not stochastic and model_config.num_samples != 1):
        raise JaxgenError('config.model.num_samples must be >= 1 (and 1 for an autoencoder)')
    return VAE(encoder=encoder, decoder=decoder, latent_dim=latent, likelihood=likelihood,
               num_samples=int(model_config.num_samples), stochastic=stochastic,
               data_info=data_info, eval_samples=int(model_config.eval_samples))
