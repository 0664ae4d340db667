"""StyleGAN (Karras et al., 2019; NVlabs/stylegan ``training/networks_stylegan.py``).

The generator player is the mapping network (8 dense layers, learning-rate multiplier
0.01, normalised z) and the synthesis network: a learned 4x4 constant (ones), then two
layers per resolution, each with per-pixel noise (learned per-feature strengths, init 0),
bias, leaky ReLU and AdaIN from its own copy of w (``layers/style.py``); a 1x1 ``to_rgb``.
``demodulate=True`` swaps conv + AdaIN for StyleGAN2's modulated, demodulated convolution.
There are ``2 log2(R) - 2`` style layers. While training, style mixing (probability 0.9,
one draw per batch as the official ``style_mixing_prob``): a second latent's w drives
the layers from a crossover drawn uniformly in ``[1, layers)``. The generator keeps the
running mean of w, ``w_avg`` (``lerp(batch mean, w_avg, 0.995)``), in its ``buffers``
collection (persistent model state); sampling truncates the first ``truncation_cutoff``
layers' w towards it, ``w_avg + psi (w - w_avg)``.

The discriminator is Progressive GAN's (``progan.py``; the official one adds a [1, 2, 1]
blur, not here), and the growth is Progressive GAN's too, as an option: names by
resolution, the new resolution and the reals faded in with alpha from the step.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.models.bundle import check_inputs, unconditional
from jaxgen.models.gan.base import critic_outputs
from jaxgen.models.layers import apply, compiled
from jaxgen.models.layers.equalized import EqualConv, lerp, upscale2d
from jaxgen.models.layers.style import Mapping, StyleLayer
from jaxgen.models.progressive.progan import (Features, ProDiscriminator, ProGAN,
                                              log2_resolution, stage_settings)

BUFFERS = 'buffers'


def check_psi(psi: Any) -> float:
    if not isinstance(psi, (int, float)) or not 0.0 <= psi <= 1.0:
        raise JaxgenError(f'the truncation psi must be a number in [0, 1] (1: none, 0: w_avg '
                          f'itself), got {psi!r}')
    return float(psi)


def mix(w: jax.Array, w2: jax.Array, cutoff, num_layers: int) -> jax.Array:
    """``[B, layers, w_dim]``: ``w`` for the layers before ``cutoff``, ``w2`` from it on."""
    first = jnp.arange(num_layers)[None, :, None] < cutoff
    return jnp.where(first, w[:, None], w2[:, None])


def truncate(ws: jax.Array, w_avg: jax.Array, psi, cutoff: int) -> jax.Array:
    """``w_avg + psi (w - w_avg)`` on the layers before ``cutoff``; the rest unchanged."""
    first = jnp.arange(ws.shape[1])[None, :, None] < cutoff
    return jnp.where(first, lerp(w_avg, ws, psi), ws)


class StyleGenerator(nn.Module):
    resolution: int
    channels: int
    features: Features = Features()
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr: float = 0.01
    style_mixing: float = 0.9
    w_avg_beta: float = 0.995
    demodulate: bool = False
    fading: bool = False
    alpha: Any = 1.0

    @property
    def num_layers(self) -> int:
        return 2 * log2_resolution(self.resolution) - 2

    def setup(self):
        self.mapping = Mapping(self.w_dim, self.mapping_layers, self.mapping_lr)
        self.const = self.param('const', nn.initializers.ones, (1, 4, 4, self.features(1)))
        self.w_avg = self.variable(BUFFERS, 'w_avg', jnp.zeros, (self.w_dim,))
        nf, top = self.features, log2_resolution(self.resolution)
        self.layers = [StyleLayer(nf(i // 2 + 1), upsample=i >= 2 and i % 2 == 0,
                                  conv=i > 0, demodulate=self.demodulate,
                                  name=f'layer{i % 2}_{2 ** (i // 2 + 2)}')
                       for i in range(self.num_layers)]
        self.to_rgb = {str(2 ** r): EqualConv(self.channels, 1, gain=1.0,
                                              name=f'to_rgb_{2 ** r}')
                       for r in range(2, top + 1) if r == top or (self.fading and r == top - 1)}

    def __call__(self, z: jax.Array, train: bool = False, key: jax.Array | None = None):
        """Training's pass: w (w_avg updated), style mixing, fresh noise from ``key``."""
        key = jax.random.key(0) if key is None else key
        w = self.mapping(z)
        if self.is_mutable_collection(BUFFERS) and not self.is_initializing():
            self.w_avg.value = lerp(jnp.mean(w, axis=0), self.w_avg.value, self.w_avg_beta)
        ws = mix(w, w, self.num_layers, self.num_layers)
        if train and self.style_mixing > 0:
            k_z, k_p, k_c = jax.random.split(jax.random.fold_in(key, 1), 3)
            w2 = self.mapping(jax.random.normal(k_z, z.shape, z.dtype))
            cutoff = jnp.where(jax.random.uniform(k_p) < self.style_mixing,
                               jax.random.randint(k_c, (), 1, self.num_layers),
                               self.num_layers)
            ws = mix(w, w2, cutoff, self.num_layers)
        self.sow('intermediates', 'ws', ws)  # kept only when asked for (tests, pictures)
        return self.synthesize(ws, jax.random.fold_in(key, 2))

    def map(self, z: jax.Array) -> jax.Array:
        return self.mapping(z)

    def average(self) -> jax.Array:
        return self.w_avg.value

    def synthesize(self, ws: jax.Array, key: jax.Array, noise_scale=1.0,
                   shared: bool = False) -> jax.Array:
        """Images from per-layer styles ``ws`` ``[B, layers, w_dim]``; noise from ``key``
        (times ``noise_scale``), one realisation for the whole batch when ``shared``."""
        h = jnp.broadcast_to(self.const, (ws.shape[0], *self.const.shape[1:]))
        low = None
        for i, layer in enumerate(self.layers):
            res = 2 ** (i // 2 + 2)
            if self.fading and i == self.num_layers - 2:
                low = self.to_rgb[str(res // 2)](h)
            noise = jax.random.normal(jax.random.fold_in(key, i),
                                      (1 if shared else ws.shape[0], res, res, 1))
            h = layer(h, ws[:, i], noise * noise_scale)
        out = self.to_rgb[str(self.resolution)](h)
        return out if low is None else lerp(upscale2d(low), out, self.alpha)


@dataclasses.dataclass(frozen=True)
class StyleGAN(ProGAN):
    truncation_psi: float = 1.0
    truncation_cutoff: int = 8

    def forward(self, variables, batch, key, train: bool = True):
        alpha = self.alpha(batch.get('step'))
        real = self.reals(batch['image'], alpha)
        m = self.at(alpha)
        z = self.sample_latent(key, real.shape[0])
        fake, g_state = apply(m.generator, variables['generator'], z, train=train,
                              key=jax.random.fold_in(key, 3))
        d_vars = variables['discriminator']
        real_logits, _ = apply(m.discriminator, d_vars, real, train=train)
        fake_logits, d_state = apply(m.discriminator, d_vars, fake, train=train)
        return {'real_logits': real_logits, 'fake_logits': fake_logits, 'fake': fake, 'z': z,
                'real': real, 'alpha': jnp.asarray(alpha, jnp.float32),
                **critic_outputs(lambda x: apply(m.discriminator, d_vars, x, train=train)[0],
                                 real.shape[0], key)}, {'generator': g_state,
                                                        'discriminator': d_state}

    def call(self, variables, method: str, *args, **kwargs):
        return self.generator.apply(dict(variables['generator']), *args,
                                    method=getattr(StyleGenerator, method), **kwargs)

    @compiled()
    def styles(self, variables, z: jax.Array, psi) -> jax.Array:
        """``[B, layers, w_dim]``: w of ``z`` on every layer, truncated by ``psi``."""
        w = self.call(variables, 'map', z)
        ws = mix(w, w, self.generator.num_layers, self.generator.num_layers)
        return truncate(ws, self.call(variables, 'average'), psi, self.truncation_cutoff)

    @compiled(4)
    def synthesize(self, variables, ws: jax.Array, key: jax.Array, noise_scale=1.0,
                   shared: bool = False):
        """Images (the data's size) from per-layer styles, noise from ``key`` (one
        realisation for every image when ``shared``)."""
        images = self.call(variables, 'synthesize', ws, key, noise_scale, shared)
        return jnp.clip(upscale2d(images, self.factor), -1.0, 1.0)  # as ProGAN.decode

    def truncated(self, variables, z: jax.Array, key: jax.Array, psi: float,
                  shared: bool = False) -> jax.Array:
        return self.synthesize(variables, self.styles(variables, z, check_psi(psi)), key,
                               shared=shared)

    def sample(self, variables, key: jax.Array, num: int) -> jax.Array:
        kz, kn = jax.random.split(key)
        return self.truncated(variables, self.sample_latent(kz, num), kn, self.truncation_psi)

    def generate(self, variables, inputs, key: jax.Array) -> jax.Array:
        """``{'num': n}``: fresh latents and noise from ``key``; ``{'z': z}``: a function of
        ``z`` alone, every image with the same fixed noise (as StyleGAN's PPL holds the
        noise, so a latent path changes nothing else). Truncated by ``model.truncation_psi``."""
        num = check_inputs(inputs, ('z',), type(self).__name__)
        if unconditional(inputs):
            return self.sample(variables, jax.random.key(0) if key is None else key, num)
        return self.decode(variables, jnp.asarray(inputs['z'], jnp.float32))

    def decode(self, variables, z: jax.Array) -> jax.Array:
        return self.truncated(variables, z, jax.random.key(0), self.truncation_psi,
                              shared=True)

    def w_path(self, variables):
        """``(mapping, synthesis)`` for PPL in W (StyleGAN §4.1, the official
        ``perceptual_path_length.py``): ``mapping`` z -> w ``[B, w_dim]``; ``synthesis``
        w -> images with w on every layer, untruncated, and ``decode``'s fixed noise."""
        layers = self.generator.num_layers

        def synthesis(w: jax.Array) -> jax.Array:
            ws = jnp.broadcast_to(w[:, None], (w.shape[0], layers, w.shape[-1]))
            return self.synthesize(variables, ws, jax.random.key(0), shared=True)
        return (lambda z: self.call(variables, 'map', z)), synthesis


def build(model_config, data_info) -> StyleGAN:
    c = model_config
    s = stage_settings(c, data_info, 'stylegan')
    mixing = c.get('style_mixing', 0.9)
    if not (isinstance(mixing, (int, float)) and 0.0 <= mixing <= 1.0):
        raise JaxgenError(f'config.model.style_mixing is a probability in [0, 1], got '
                          f'{mixing!r}')
    generator = StyleGenerator(
        s['resolution'], s['channels'], s['features'], w_dim=c.get('w_dim', 512),
        mapping_layers=c.get('mapping_layers', 8), mapping_lr=c.get('mapping_lr', 0.01),
        style_mixing=float(mixing), w_avg_beta=c.get('w_avg_beta', 0.995),
        demodulate=bool(c.get('demodulate', False)), fading=s['fading'])
    return StyleGAN(
        generator=generator,
        discriminator=ProDiscriminator(s['resolution'], s['features'], c.get('group_size', 4),
                                       s['fading']),
        latent_dim=c.latent_dim, data_info=data_info, resolution=s['resolution'],
        fade_start=s['fade_start'], fade_steps=s['fade_steps'],
        truncation_psi=check_psi(c.get('truncation_psi', 1.0)),
        truncation_cutoff=int(c.get('truncation_cutoff', 8)))
