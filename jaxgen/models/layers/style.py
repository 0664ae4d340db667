"""StyleGAN's layers (Karras et al., 2019; NVlabs/stylegan ``networks_stylegan.py``) and
StyleGAN2's modulated convolution (Karras et al., 2020; NVlabs/stylegan2
``networks_stylegan2.py``), on the equalised layers of ``layers/equalized.py``.

* ``Mapping``: normalised z through ``layers`` dense layers (leaky ReLU 0.2) with a
  learning-rate multiplier (0.01) to the intermediate latent w.
* ``AdaIN``: instance norm, then ``x * (1 + y_s) + y_b`` with ``(y_s, y_b)`` a dense map
  of w (``style_mod``; gain 1): each channel's mean over the pixels becomes ``y_b`` and
  its standard deviation ``|1 + y_s|``.
* ``Noise``: one channel of per-pixel noise scaled per feature by learned strengths
  (initialised to 0, as the official code), added to the features.
* ``ModulatedConv``: the 3x3 convolution whose input channels are scaled by the style
  ``s = A(w) + 1`` and whose output channels are demodulated by
  ``1 / sqrt(sum (W s)^2 + 1e-8)`` (``fused_modconv=False``'s form: scale the input,
  convolve with the shared weights, scale the output).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.models.layers.equalized import EqualConv, EqualDense, he_scale, lrelu, pixel_norm


class Mapping(nn.Module):
    """z ``[B, latent]`` -> w ``[B, w_dim]``."""
    w_dim: int
    layers: int = 8
    lr_multiplier: float = 0.01

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        h = pixel_norm(z)
        for i in range(self.layers):
            h = lrelu(EqualDense(self.w_dim, lr_multiplier=self.lr_multiplier,
                                 name=f'dense_{i}')(h))
        return h


def instance_norm(x: jax.Array, epsilon: float = 1e-8) -> jax.Array:
    """Each example's channels normalised over the pixels (``[B, H, W, C]``)."""
    x = x - jnp.mean(x, axis=(1, 2), keepdims=True)
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=(1, 2), keepdims=True) + epsilon)


class AdaIN(nn.Module):
    """``instance_norm(x) * (1 + y_s) + y_b``, ``(y_s, y_b) = A(w)``."""

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        style = EqualDense(2 * x.shape[-1], gain=1.0, name='style')(w)
        scale, bias = jnp.split(style[:, None, None, :], 2, axis=-1)
        return instance_norm(x) * (scale + 1.0) + bias


class Noise(nn.Module):
    """``x + strength * noise``, noise ``[B, H, W, 1]``, strengths per feature (init 0)."""

    @nn.compact
    def __call__(self, x: jax.Array, noise: jax.Array) -> jax.Array:
        strength = self.param('strength', nn.initializers.zeros, (x.shape[-1],))
        return x + noise * strength


class ModulatedConv(nn.Module):
    """StyleGAN2's 3x3 convolution modulated by w, demodulated when ``demodulate``."""
    features: int
    demodulate: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        s = EqualDense(x.shape[-1], gain=1.0, name='style')(w) + 1.0  # [B, C_in]
        kernel = self.param('kernel', nn.initializers.normal(1.0),
                            (3, 3, x.shape[-1], self.features))
        kernel = kernel * he_scale(9 * x.shape[-1])
        y = jax.lax.conv_general_dilated(x * s[:, None, None, :], kernel, (1, 1), 'SAME',
                                         dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
        if self.demodulate:  # the norm of each output channel's modulated weights
            norm = jnp.einsum('bi,io->bo', jnp.square(s), jnp.sum(jnp.square(kernel), (0, 1)))
            y = y * jax.lax.rsqrt(norm + 1e-8)[:, None, None, :]
        return y


class StyleLayer(nn.Module):
    """One synthesis layer: (upsample,) convolution, noise, bias, leaky ReLU, AdaIN
    (StyleGAN); or (upsample,) modulated convolution, noise, bias, leaky ReLU
    (``demodulate``: StyleGAN2). ``conv=False``: the 4x4 constant's first layer
    (StyleGAN has no convolution there)."""
    features: int
    upsample: bool = False
    conv: bool = True
    demodulate: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array, noise: jax.Array) -> jax.Array:
        if self.upsample:
            x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
        if self.demodulate:
            x = ModulatedConv(self.features, name='conv')(x, w)
        elif self.conv:
            x = EqualConv(self.features, 3, use_bias=False, name='conv')(x)
        x = Noise(name='noise')(x, noise)
        x = lrelu(x + self.param('bias', nn.initializers.zeros, (self.features,)))
        return x if self.demodulate else AdaIN(name='adain')(x, w)
