"""Progressive GAN (Karras et al., 2018; tkarras/progressive_growing_of_gans ``networks.py``).

The generator starts from 4x4 and gains two 3x3 convolutions per resolution (nearest
upsampling, leaky ReLU 0.2, pixel norm after every layer, normalised latents, a 1x1
``to_rgb`` per resolution, linear output); the discriminator mirrors it with a 1x1
``from_rgb``, 2x2 average pooling and, in its 4x4 block, the minibatch standard
deviation (group 4), a 3x3 convolution and two dense layers. Every layer has the
equalised learning rate (``layers/equalized.py``). Feature maps at resolution ``2^r``
are ``nf(r - 1)``, ``nf(s) = min(fmap_base / 2^s, fmap_max)``.

The networks are built for one resolution, ``model.resolution``; ``config.stages`` grows
it (``progressive/schedule.py``). Layers are named by resolution (``conv0_16``,
``to_rgb_16``), so the trainer's default carry keeps every layer of the stage before.
While ``fade_steps`` > 0 the new resolution fades in with ``alpha = clip((step -
fade_start) / fade_steps, 0, 1)`` from the batch's step: the generator's output is
``lerp(upscale(to_rgb_{R/2}(h_{R/2})), to_rgb_R(h_R), alpha)``, the discriminator's input
path ``lerp(from_rgb_{R/2}(downscale(x)), block_R(from_rgb_R(x)), alpha)``, and the real
images are blended the same way (``lerp(upscale(downscale(x)), x, alpha)``, the official
``process_reals``). At ``alpha = 0`` the grown networks are the previous ones exactly.

Real images are average-pooled from the data's side (a multiple of the final resolution)
to the stage's resolution; samples
(``generate``, always ``alpha = 1``) are upsampled (nearest) to the data's side, so
pictures and metrics see images of the data's shape at every stage.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.gan.base import GAN
from jaxgen.models.gan.dcgan import check_tanh_pixels
from jaxgen.models.gan.growing import fade
from jaxgen.models.layers import compiled
from jaxgen.models.layers.equalized import (SQRT2, EqualConv, EqualDense, downscale2d, lerp,
                                            lrelu, minibatch_stddev, pixel_norm, upscale2d)


def log2_resolution(resolution: Any, what: str = 'config.model.resolution') -> int:
    """``log2(resolution)`` of a power of two >= 4; else a one-line error."""
    if not isinstance(resolution, int) or resolution < 4 or resolution & (resolution - 1):
        raise JaxgenError(f'{what} must be a power of two >= 4 (4, 8, 16, 32, 64, ...), '
                          f'got {resolution!r}')
    return int(math.log2(resolution))


@dataclasses.dataclass(frozen=True)
class Features:
    """``nf(stage) = min(int(fmap_base / 2^stage), fmap_max)``, as the official code."""
    fmap_base: int = 8192
    fmap_max: int = 512

    def __call__(self, stage: int) -> int:
        return max(1, min(int(self.fmap_base / 2.0 ** stage), self.fmap_max))


class ProGenerator(nn.Module):
    """z ``[B, latent]`` -> images ``[B, R, R, C]``."""
    resolution: int
    channels: int
    features: Features = Features()
    fading: bool = False  # the lower resolution's to_rgb exists and is blended in
    alpha: Any = 1.0

    def layer(self, h: jax.Array, features: int, name: str) -> jax.Array:
        return pixel_norm(lrelu(EqualConv(features, 3, name=name)(h)))

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = False) -> jax.Array:
        del train
        nf, top = self.features, log2_resolution(self.resolution)
        h = EqualDense(nf(1) * 16, gain=SQRT2 / 4, name='dense_4')(pixel_norm(z))
        h = pixel_norm(lrelu(h.reshape(z.shape[0], 4, 4, nf(1))))
        h = self.layer(h, nf(1), 'conv_4')
        low = None
        for r in range(3, top + 1):
            if self.fading and r == top:
                low = EqualConv(self.channels, 1, gain=1.0, name=f'to_rgb_{2 ** (r - 1)}')(h)
            h = upscale2d(h)
            h = self.layer(h, nf(r - 1), f'conv0_{2 ** r}')
            h = self.layer(h, nf(r - 1), f'conv1_{2 ** r}')
        out = EqualConv(self.channels, 1, gain=1.0, name=f'to_rgb_{self.resolution}')(h)
        return out if low is None else lerp(upscale2d(low), out, self.alpha)


class ProDiscriminator(nn.Module):
    """images ``[B, R, R, C]`` -> logits ``[B]``."""
    resolution: int
    features: Features = Features()
    group_size: int = 4
    fading: bool = False
    alpha: Any = 1.0

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        del train
        nf, top = self.features, log2_resolution(self.resolution)

        def from_rgb(image, r):
            return lrelu(EqualConv(nf(r - 1), 1, name=f'from_rgb_{2 ** r}')(image))
        h = from_rgb(x, top)
        for r in range(top, 2, -1):
            h = lrelu(EqualConv(nf(r - 1), 3, name=f'conv0_{2 ** r}')(h))
            h = downscale2d(lrelu(EqualConv(nf(r - 2), 3, name=f'conv1_{2 ** r}')(h)))
            if self.fading and r == top:
                h = lerp(from_rgb(downscale2d(x), r - 1), h, self.alpha)
        h = minibatch_stddev(h, self.group_size)
        h = lrelu(EqualConv(nf(1), 3, name='conv_4')(h))
        h = lrelu(EqualDense(nf(0), name='dense0_4')(h.reshape(x.shape[0], -1)))
        return EqualDense(1, gain=1.0, name='dense1_4')(h)[:, 0]


@dataclasses.dataclass(frozen=True)
class ProGAN(GAN):
    """The GAN at one stage of the growth; ``resolution`` <= the data's side."""
    resolution: int = 4
    fade_start: int = 0
    fade_steps: int = 0

    @property
    def factor(self) -> int:
        """data side / stage resolution."""
        return self.data_shape[0] // self.resolution

    @property
    def fading(self) -> bool:
        return self.fade_steps > 0 and self.resolution > 4

    def alpha(self, step) -> Any:
        return fade(step, self.fade_start, self.fade_steps) if self.fading else 1.0

    def reals(self, image: jax.Array, alpha) -> jax.Array:
        """Data images at the stage's resolution, blended with the resolution below."""
        x = downscale2d(image, self.factor)
        if self.fading:
            x = lerp(upscale2d(downscale2d(x)), x, alpha)
        return x

    def at(self, alpha) -> 'ProGAN':
        return dataclasses.replace(self, generator=self.generator.clone(alpha=alpha),
                                   discriminator=self.discriminator.clone(alpha=alpha))

    @compiled()
    def init(self, key: jax.Array) -> dict:
        kg, kd = jax.random.split(key)
        z = jnp.zeros((4, self.latent_dim), jnp.float32)
        x = jnp.zeros((4, self.resolution, self.resolution, self.data_shape[2]), jnp.float32)
        return {'generator': self.generator.init(kg, z, train=False),
                'discriminator': self.discriminator.init(kd, x, train=False)}

    def forward(self, variables, batch, key, train: bool = True):
        alpha = self.alpha(batch.get('step'))
        batch = {**batch, 'image': self.reals(batch['image'], alpha)}
        outputs, state = GAN.forward(self.at(alpha), variables, batch, key, train)
        return {**outputs, 'alpha': jnp.asarray(alpha, jnp.float32)}, state

    @compiled(2)
    def sample(self, variables, key: jax.Array, num: int) -> jax.Array:
        return self.decode(variables, self.sample_latent(key, num))

    @compiled()
    def decode(self, variables, z: jax.Array) -> jax.Array:
        """Images of the data's size in [-1, 1]: the generator's output is linear, and
        the official code clips it to the data range when it makes images for pictures
        and metrics (``misc.convert_images_to_uint8``)."""
        images = self.generator.apply(dict(variables['generator']), z, train=False)
        return jnp.clip(upscale2d(images, self.factor), -1.0, 1.0)


def stage_settings(model_config, data_info, name: str) -> dict:
    """The checked settings of one stage: ``resolution``, ``features``, ``fade_steps``,
    ``fading``, ``fade_start``; one-line errors for what the data cannot give."""
    shape = tuple(data_info['shape'])
    if kinds.kind(data_info) != 'images':
        raise JaxgenError(f'{name} needs image data (H, W, C), not {kinds.kind(data_info)} '
                          f'of shape {shape}')
    check_tanh_pixels(name, data_info)
    c = model_config
    final = c.get('final_resolution', c.resolution)
    log2_resolution(final, 'config.model.final_resolution')
    resolution = c.resolution
    if log2_resolution(resolution) > math.log2(final):
        raise JaxgenError(f'config.model.resolution={resolution} is beyond the final '
                          f'resolution {final}')
    side = shape[0]
    if shape[0] != shape[1] or side % final:
        raise JaxgenError(f'the dataset gives {shape[0]}x{shape[1]} images, which do not '
                          f'pool down to {final}x{final}; set config.data.resize={final} '
                          f'(or use a 32x32 set: mnist32, fashion_mnist32, colour_mnist)')
    fade_steps = int(c.get('fade_steps', 0))
    return {'resolution': resolution, 'channels': shape[2], 'fade_steps': fade_steps,
            'features': Features(c.get('fmap_base', 8192), c.get('fmap_max', 512)),
            'fading': fade_steps > 0 and resolution > 4,
            'fade_start': int(c.get('fade_start', 0))}


def build(model_config, data_info) -> ProGAN:
    s = stage_settings(model_config, data_info, 'progan')
    return ProGAN(
        generator=ProGenerator(s['resolution'], s['channels'], s['features'], s['fading']),
        discriminator=ProDiscriminator(s['resolution'], s['features'],
                                       model_config.get('group_size', 4), s['fading']),
        latent_dim=model_config.latent_dim, data_info=data_info,
        resolution=s['resolution'], fade_start=s['fade_start'], fade_steps=s['fade_steps'])
