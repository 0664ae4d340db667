"""MLP generator and discriminator for low-dimensional data (the 2-D mixtures).

Two hidden layers of 128 units in each network and a linear output, as in
Metz et al. (2017); ``model.g_activation`` / ``model.d_activation`` pick ReLU
(default) or tanh (the authors' ring demo). ``model.d_input_scale`` multiplies
the discriminator's input (the authors' ring code scales it by 1/4) and
``model.orthogonal_gain`` > 0 initialises every kernel orthogonally with that
gain (their ``tf.orthogonal_initializer(gain=0.8)``); 0 keeps Flax's default.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError, is_number
from jaxgen.models.gan.base import GAN
from jaxgen.models.layers import history


ACTIVATIONS = {'relu': nn.relu, 'tanh': nn.tanh}


class MLPGenerator(nn.Module):
    """z ``[B, latent]`` -> x ``[B, output_dim]``, linear output."""
    output_dim: int = 2
    hidden: Sequence[int] = (128, 128)
    activation: str = 'relu'
    orthogonal_gain: float = 0.0

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = False) -> jax.Array:
        del train  # no BatchNorm or dropout
        h = z
        for width in self.hidden:
            h = ACTIVATIONS[self.activation](_dense(width, self.orthogonal_gain)(h))
        return _dense(self.output_dim, self.orthogonal_gain)(h)


class MLPDiscriminator(nn.Module):
    """x ``[B, D]`` -> logit ``[B]``; with ``spectral_norm`` every layer's weight
    is divided by its largest singular value (Miyato et al., 2018; one power
    iteration per training step, the estimate kept in ``batch_stats``)."""
    hidden: Sequence[int] = (128, 128)
    spectral_norm: bool = False
    activation: str = 'relu'
    input_scale: float = 1.0
    orthogonal_gain: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        def dense(width):
            layer = _dense(width, self.orthogonal_gain)
            if not self.spectral_norm:
                return layer
            return lambda h: nn.SpectralNorm(layer)(h, update_stats=train)
        h = x.reshape(x.shape[0], -1)
        if self.input_scale != 1.0:
            h = h * self.input_scale
        for width in self.hidden:
            h = ACTIVATIONS[self.activation](dense(width)(h))
        return dense(1)(h)[:, 0]


def _dense(width: int, orthogonal_gain: float) -> nn.Dense:
    if orthogonal_gain > 0:
        return nn.Dense(width, kernel_init=nn.initializers.orthogonal(orthogonal_gain))
    return nn.Dense(width)


def _scalar(model_config, field: str, default: float, positive: bool) -> float:
    value = model_config.get(field, default)
    if not is_number(value) or not value >= 0 or (positive and value == 0):
        kind = 'a positive number' if positive else 'a number >= 0'
        raise JaxgenError(f'config.model.{field} must be {kind}, got {value!r}')
    return float(value)


def _widths(model_config, field: str) -> tuple[int, ...]:
    widths = tuple(model_config[field])
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise JaxgenError(f'config.model.{field} must be a tuple of positive integers, '
                          f'got {widths!r}; e.g. --config.model.{field}="(128, 128)"')
    return widths


def _activation(model_config, player: str) -> str:
    name = model_config.get(f'{player}_activation', 'relu')
    if name not in ACTIVATIONS:
        raise JaxgenError(f'unknown model.{player}_activation {name!r}; choose one of '
                          f'{", ".join(sorted(ACTIVATIONS))}')
    return name


def build(model_config, data_info) -> GAN:
    """A GAN of MLPs for the data described by ``data_info['shape']``."""
    shape = tuple(data_info['shape'])
    if kinds.kind(data_info) != 'points':
        raise JaxgenError(f'model mlp needs points but the dataset holds '
                          f'{kinds.kind(data_info)} of shape {shape}; use model.name=dcgan '
                          'for images')
    (dim,) = shape
    gain = _scalar(model_config, 'orthogonal_gain', 0.0, positive=False)
    return GAN(
        generator=MLPGenerator(output_dim=dim,
                               hidden=_widths(model_config, 'g_hidden'),
                               activation=_activation(model_config, 'g'),
                               orthogonal_gain=gain),
        discriminator=MLPDiscriminator(hidden=_widths(model_config, 'd_hidden'),
                                       spectral_norm=model_config.get('spectral_norm',
                                                                      False),
                                       activation=_activation(model_config, 'd'),
                                       input_scale=_scalar(model_config, 'd_input_scale',
                                                           1.0, positive=True),
                                       orthogonal_gain=gain),
        latent_dim=model_config.latent_dim,
        data_info=data_info,
        history_size=history.size_from(model_config),
    )
