"""pix2pix (Isola et al., 2017): a U-Net that translates an image ``x`` of domain A
into ``G(x)`` of domain B, learnt from aligned pairs, against a PatchGAN that
judges the pair ``(x, y)`` (junyanz/pytorch-CycleGAN-and-pix2pix
``models/pix2pix_model.py``: ``netD(torch.cat((real_A, fake_B), 1))``).

Data: pairs (``info['kind'] == 'paired'``: ``image_a`` the input, ``image_b`` the
target; ``config.data.folder.direction`` swaps them at load time), pixels in
[-1, 1]. The generator's noise is its dropout, drawn from the step's key.

Outputs for the objective (``objectives/pix2pix.py``): ``real_logits`` /
``fake_logits`` (patch maps ``[B, h, w]``), ``translation`` and ``target`` (for the
L1 term), and ``real`` / ``fake`` / ``critic`` / ``mix`` (the pairs, for a gradient
penalty). ``generate(variables, {'image': x}, key)`` translates ``x``; its
dropout is off unless ``config.model.sample_dropout`` (the official ``test.py``
without ``--eval`` keeps it on).

Options (``config.model``): ``features`` (64: ngf = ndf), ``receptive_field``
(70; 1, 16, 34, 70, 142, 286 or 'full'), ``norm`` ('batch', the official
default for pix2pix; 'instance'), ``dropout_blocks`` (3), ``sample_dropout``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.bundle import check_inputs
from jaxgen.models.gan.base import critic_outputs
from jaxgen.models.gan.dcgan import check_tanh_pixels
from jaxgen.models.layers import apply, compiled
from jaxgen.models.translation.discriminators import PatchDiscriminator
from jaxgen.models.translation.networks import UNetGenerator

Variables = Mapping[str, Any]


def check_image(images, shape, model: str) -> jax.Array:
    """``images`` as float32 ``[N, H, W, C]`` of the model's ``shape``, or one line."""
    images = jnp.asarray(images, jnp.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(shape):
        raise JaxgenError(f'{model} translates {shape[0]}x{shape[1]} images with {shape[2]} '
                          f'channel(s); got an array of shape {tuple(images.shape)} (resize '
                          'the images, or convert their channels, to match)')
    return images


@dataclasses.dataclass(frozen=True)
class GeneratorAndDiscriminator:
    """The fields and players of a translation bundle with one generator and one
    discriminator (pix2pix, StarGAN)."""
    generator: nn.Module
    discriminator: nn.Module
    data_info: Mapping[str, Any]

    @property
    def players(self) -> dict[str, nn.Module]:
        return {'generator': self.generator, 'discriminator': self.discriminator}

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data_info['shape'])


@dataclasses.dataclass(frozen=True)
class Pix2Pix(GeneratorAndDiscriminator):
    """A translating generator ``G(x)`` and a pair discriminator ``D(x, y)``."""

    @compiled()
    def init(self, key: jax.Array) -> dict[str, Variables]:
        kg, kd, kdrop = jax.random.split(key, 3)
        x = jnp.zeros((2, *self.shape), jnp.float32)
        return {'generator': self.generator.init({'params': kg, 'dropout': kdrop}, x,
                                                 train=False),
                'discriminator': self.discriminator.init(kd, jnp.concatenate([x, x], -1),
                                                         train=False)}

    def forward(self, variables: Mapping[str, Variables], batch: Mapping[str, jax.Array],
                key: jax.Array, train: bool = True) -> tuple[dict, dict]:
        source, target = batch['image_a'], batch['image_b']
        translation, g_state = apply(self.generator, variables['generator'], source,
                                     train=train, rngs={'dropout': key})
        real = jnp.concatenate([source, target], -1)
        fake = jnp.concatenate([source, translation], -1)
        d_vars = variables['discriminator']
        real_logits, d_state = apply(self.discriminator, d_vars, real, train=train)
        fake_logits, d_state = apply(self.discriminator, {**d_vars, **d_state}, fake,
                                     train=train)
        outputs = {'real_logits': real_logits, 'fake_logits': fake_logits,
                   'translation': translation, 'target': target, 'real': real, 'fake': fake,
                   **critic_outputs(lambda x: apply(self.discriminator, d_vars, x,
                                                    train=train)[0], real.shape[0], key)}
        return outputs, {'generator': g_state, 'discriminator': d_state}

    @compiled()
    def translate(self, variables: Mapping[str, Variables], images: jax.Array,
                  key: jax.Array) -> jax.Array:
        """``G(images)`` in eval mode (dropout drawn from ``key`` if it stays on)."""
        return self.generator.apply(dict(variables['generator']), images, train=False,
                                    rngs={'dropout': key})

    # What ``jaxgen.translate`` asks for: the targets, and the inputs for one.
    targets = ('output',)
    source_fields = {'output': 'image_a'}
    output_fields = truth_fields = {'output': 'image_b'}  # the domain made, its truth

    def inputs_for(self, images, target: str) -> dict:
        del target
        return {'image': images}

    def generate(self, variables: Mapping[str, Variables], inputs: Mapping[str, Any],
                 key: jax.Array) -> jax.Array:
        """``{'image': x}``: the translations of ``x`` (``[N, H, W, C]`` in [-1, 1])."""
        check_inputs(inputs, ('image',), 'pix2pix')
        if 'image' not in inputs:
            raise JaxgenError('pix2pix translates images: pass inputs={"image": x} '
                              '(python -m jaxgen.translate --input ...)')
        return self.translate(variables, check_image(inputs['image'], self.shape, 'pix2pix'),
                              key)


def check_paired(name: str, data_info) -> None:
    if kinds.kind(data_info) != 'paired':
        raise JaxgenError(f'{name} learns from aligned pairs (image_a -> image_b) but the '
                          f'dataset holds {kinds.kind(data_info)}; use edges2fashion, '
                          "edges2mnist, or folder:<path> in pix2pix's aligned layout")
    check_tanh_pixels(name, data_info)


def build(model_config, data_info) -> Pix2Pix:
    check_paired('pix2pix', data_info)
    c = model_config
    shape = tuple(data_info['shape'])
    return Pix2Pix(
        generator=UNetGenerator(features=c.get('features', 64), out_channels=shape[2],
                                norm=c.get('norm', 'batch'),
                                dropout_blocks=c.get('dropout_blocks', 3),
                                sample_dropout=bool(c.get('sample_dropout', False))),
        discriminator=PatchDiscriminator(features=c.get('features', 64),
                                         receptive_field=c.get('receptive_field', 70),
                                         norm=c.get('norm', 'batch')),
        data_info=data_info)
