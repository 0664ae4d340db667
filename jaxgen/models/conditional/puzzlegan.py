"""Puzzle-GAN (Lee et al., 2017, arXiv 1703.10730): a whole image from a few key patches.

Follows the official code, hellbell/KeyPatchGan (``models/model.py``, ``models/networks.py``
``*U`` classes, ``utils/my_utils.py``, ``main.py``):

* **parts as crops** (``my_utils.get_part_image``, lines 58-66: each box cropped and resized,
  bicubic, to the image side): the encoder never sees where a part was. ``model.parts =
  'canvas'`` (not the official) puts each part at its box on a blank (0) canvas instead;
* ``part_encoder`` (``PartEncoderU``): shared by the P patches, 5x5 stride-2 convolutions
  (BatchNorm but on the first, leaky ReLU 0.2) and a last 4x4 one to a 128-d code; every
  level of the P encodings is **summed** (``model.py`` lines 143-148);
* ``mask_net`` (``MaskGeneratorU``): from the summed code, transposed convolutions back up,
  each level concatenated with the summed encoder level of its size (a U-Net), sigmoid
  mask; its target is the **union of the patch boxes** (``my_utils.set_mask``);
* ``generator`` (``ImageGeneratorU``): ``[code, z]`` (z ~ U[-1, 1], ``my_utils`` line 26) up
  the same way, each level concatenated with the mask network's; ``discriminator``
  (``DiscriminatorU``): the DCGAN-style mirror, one logit;
* D's extra negatives (``model.py`` lines 161-189), by ``model.extra_negatives``:
  ``shuffled_parts`` = another image inside this example's boxes on its real background
  (``shfpart_realbg``), ``shuffled_background`` = the real parts on another image
  (``realpart_shfbg``); the official other image comes from outside the batch (``main.py``
  lines 79-84), here from the batch rolled by a random shift in [1, B-1].

The networks run at side 32 (the official structure at ``output_size`` 32); 28 px images
are edge-padded to 32 for D, the 32 px fakes and masks cropped to the centre 28.
Outputs: ``real_logits``, ``fake_logits``, ``fake``, ``real``, ``mask`` (predicted,
``[B, H, W, 1]``), ``target_mask``, ``z``; with extra negatives ``shuffled``,
``shuffled_parts``, ``shuffled_background`` and their ``*_logits``.
``generate(variables, {'patches', 'boxes'[, 'z']}, key)`` completes the images.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.bundle import check_inputs
from jaxgen.models.gan.dcgan import INIT, check_tanh_pixels
from jaxgen.models.layers import BatchNorm, apply, compiled
from jaxgen.models.layers.conv import Conv
from jaxgen.models.layers.deconv import ConvTranspose

SIDE, LEVELS, SIDES = 32, 3, (28, 32)  # the networks' side, its stride-2 levels; data sides


def widths(features: int) -> list[int]:
    """Channels of the levels at 16, 8, 4 px (``conv_dim * 2**min(3, i)``)."""
    return [features * 2 ** min(3, i) for i in range(LEVELS)]


class PartEncoder(nn.Module):
    """parts ``[N, 32, 32, C]`` -> the levels ``[16px, 8px, 4px, 1x1 code]``."""
    features: int = 64
    code_dim: int = 128

    @nn.compact
    def __call__(self, x, train: bool = False):
        levels, h = [], x
        for i, width in enumerate(widths(self.features)):
            h = Conv(width, (5, 5), strides=(2, 2), padding='SAME', kernel_init=INIT)(h)
            if i > 0:
                h = BatchNorm(use_running_average=not train)(h)
            h = nn.leaky_relu(h, 0.2)
            levels.append(h)
        h = Conv(self.code_dim, (4, 4), padding='VALID', kernel_init=INIT)(h)
        return levels + [nn.leaky_relu(h, 0.2)]


class UpNet(nn.Module):
    """``[B, 1, 1, d]`` up to ``[B, 32, 32, out]``, concatenating ``skips[i]`` after
    level ``i`` (4, 8, 16 px); returns ``(output, the concatenated levels)``."""
    features: int = 64
    out: int = 1
    final: str = 'sigmoid'

    @nn.compact
    def __call__(self, h, skips, train: bool = False):
        levels = []
        for i, width in enumerate(reversed(widths(self.features))):
            h = ConvTranspose(width, (4, 4) if i == 0 else (5, 5),
                              strides=(1, 1) if i == 0 else (2, 2),
                              padding='VALID' if i == 0 else 'SAME', kernel_init=INIT)(h)
            h = nn.relu(BatchNorm(use_running_average=not train)(h))
            h = jnp.concatenate([h, skips[i]], -1)
            levels.append(h)
        h = ConvTranspose(self.out, (5, 5), strides=(2, 2), padding='SAME',
                          kernel_init=INIT)(h)
        return (jax.nn.sigmoid(h) if self.final == 'sigmoid' else jnp.tanh(h)), levels


class MaskNet(nn.Module):
    """The summed encoder levels -> (mask ``[B, 32, 32, 1]`` in (0, 1), its levels)."""
    features: int = 64

    @nn.compact
    def __call__(self, codes, train: bool = False):
        return UpNet(self.features, 1, 'sigmoid')(codes[-1], codes[-2::-1], train=train)


class Generator(nn.Module):
    """``(code [B, 1, 1, d], z [B, z], mask levels)`` -> image ``[B, 32, 32, C]``."""
    features: int = 64
    channels: int = 1

    @nn.compact
    def __call__(self, code, z, mask_levels, train: bool = False):
        h = jnp.concatenate([code, z[:, None, None, :].astype(code.dtype)], -1)
        return UpNet(self.features, self.channels, 'tanh')(h, mask_levels, train=train)[0]


class Discriminator(nn.Module):
    """images ``[B, 32, 32, C]`` -> logits ``[B]``."""
    features: int = 64

    @nn.compact
    def __call__(self, x, train: bool = False):
        h = x
        for i, width in enumerate(widths(self.features)):
            h = Conv(width, (5, 5), strides=(2, 2), padding='SAME', kernel_init=INIT)(h)
            if i > 0:
                h = BatchNorm(use_running_average=not train)(h)
            h = nn.leaky_relu(h, 0.2)
        return Conv(1, (4, 4), padding='VALID', kernel_init=INIT)(h).reshape(x.shape[0])


def box_masks(boxes, side: int) -> jax.Array:
    """float32 ``[B, side, side, 1]``: 1 inside any of the boxes (top, left, h, w)."""
    boxes = jnp.asarray(boxes, jnp.int32)
    pos = jnp.arange(side)
    top, left, h, w = (boxes[..., i, None] for i in range(4))
    rows = (pos >= top) & (pos < top + h)       # [B, P, side]
    cols = (pos >= left) & (pos < left + w)
    inside = rows[..., :, None] & cols[..., None, :]  # [B, P, side, side]
    return jnp.any(inside, axis=1)[..., None].astype(jnp.float32)


def pad_to(x, side: int = SIDE):  # edge padding to the networks' side
    m = (side - x.shape[1]) // 2
    return jnp.pad(x, ((0, 0), (m, m), (m, m), (0, 0)), mode='edge') if m else x


def crop_to(x, side: int):  # the centre
    m = (x.shape[1] - side) // 2
    return x[:, m:m + side, m:m + side] if m else x


@dataclasses.dataclass(frozen=True)
class PuzzleGAN:
    part_encoder: nn.Module
    mask_net: nn.Module
    generator: nn.Module
    discriminator: nn.Module
    data_info: Mapping[str, Any]
    latent_dim: int = 128
    extra_negatives: bool = True
    parts: str = 'crops'  # or 'canvas' (not the official): each part on a blank canvas at its box

    conditions = ('patches',)

    @property
    def players(self) -> dict[str, nn.Module]:
        return {'part_encoder': self.part_encoder, 'mask_net': self.mask_net,
                'generator': self.generator, 'discriminator': self.discriminator}

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.data_info['shape'])

    @compiled()
    def init(self, key):
        ke, km, kg, kd = jax.random.split(key, 4)
        x = jnp.zeros((2, SIDE, SIDE, self.shape[2]), jnp.float32)
        codes = self.part_encoder.apply(e_vars := self.part_encoder.init(ke, x), x)
        _, levels = self.mask_net.apply(m_vars := self.mask_net.init(km, codes), codes)
        return {'part_encoder': e_vars, 'mask_net': m_vars, 'generator': self.generator.init(
                    kg, codes[-1], jnp.zeros((2, self.latent_dim), jnp.float32), levels),
                'discriminator': self.discriminator.init(kd, x)}

    def sample_latent(self, key, num: int):  # uniform in [-1, 1], as the official z
        return jax.random.uniform(key, (num, self.latent_dim), jnp.float32, -1.0, 1.0)

    def complete(self, variables, patches, z, boxes, train: bool = False):
        """``(fake, mask)`` at the data's side from patches ``[B, P, s, s, C]``, their boxes
        and ``z``, and each player's new state."""
        b, p, s, _, c = patches.shape
        flat, m = patches.reshape(b * p, s, s, c), (SIDE - self.shape[0]) // 2
        if self.parts == 'canvas':
            at = jnp.asarray(boxes, jnp.int32).reshape(b * p, 4)[:, :2] + m
            parts = jax.vmap(lambda x, t, l: jax.lax.dynamic_update_slice(
                jnp.zeros((SIDE, SIDE, c), x.dtype), x, (t, l, 0)))(flat, at[:, 0], at[:, 1])
        else:
            parts = jax.image.resize(flat, (b * p, SIDE, SIDE, c), 'cubic')
        levels, e_state = apply(self.part_encoder, variables['part_encoder'], parts,
                                train=train)
        codes = [lv.reshape(b, p, *lv.shape[1:]).sum(1) for lv in levels]
        (mask, mask_levels), m_state = apply(self.mask_net, variables['mask_net'], codes,
                                             train=train)
        fake, g_state = apply(self.generator, variables['generator'], codes[-1], z,
                              mask_levels, train=train)
        side = self.shape[0]
        return ((crop_to(fake, side), crop_to(mask, side)),
                {'part_encoder': e_state, 'mask_net': m_state, 'generator': g_state})

    def forward(self, variables, batch, key, train: bool = True):
        real, boxes = batch['image'], batch['boxes']
        kz, ks = jax.random.split(key)
        z = self.sample_latent(kz, real.shape[0])
        (fake, mask), state = self.complete(variables, batch['patches'], z, boxes, train=train)
        target, d_vars = box_masks(boxes, self.shape[0]), variables['discriminator']
        images = {'real': real, 'fake': fake}
        outputs = {'fake': fake, 'real': real, 'mask': mask, 'target_mask': target, 'z': z}
        if self.extra_negatives:
            if real.shape[0] < 2:
                raise JaxgenError('puzzlegan with model.extra_negatives shuffles images '
                                  'within the batch: use a batch of at least 2')
            shift = jax.random.randint(ks, (), 1, real.shape[0])
            shuffled = jnp.roll(real, shift, axis=0)
            outputs['shuffled'] = shuffled
            images['shuffled_parts'] = shuffled * target + real * (1 - target)
            images['shuffled_background'] = real * target + shuffled * (1 - target)
            outputs.update(shuffled_parts=images['shuffled_parts'],
                           shuffled_background=images['shuffled_background'])
        d_state = {}
        for name, x in images.items():
            outputs[f'{name}_logits'], d_state = apply(
                self.discriminator, {**d_vars, **d_state}, pad_to(x), train=train)
        return outputs, {**state, 'discriminator': d_state}

    @compiled()
    def _generate(self, variables, patches, z, boxes):
        return self.complete(variables, patches, z, boxes)[0]

    def check_patches(self, patches, boxes):
        """float32 patches and int32 boxes, or one line (the boxes' values are checked
        when they are concrete, not inside a trace: the evaluation vmaps generate)."""
        traced = isinstance(boxes, jax.core.Tracer) or isinstance(patches, jax.core.Tracer)
        xp = jnp if traced else np
        (side, _, channels), patches, boxes = self.shape, xp.asarray(patches, np.float32), \
            xp.asarray(boxes)
        if patches.ndim != 5 or patches.shape[2] != patches.shape[3] or \
                patches.shape[4] != channels:
            raise JaxgenError(f'puzzlegan takes patches [B, P, s, s, {channels}]; got shape '
                              f'{patches.shape}')
        if patches.shape[2] > side:
            raise JaxgenError(f'patches of {patches.shape[2]} px are larger than the '
                              f'{side}x{side} image; crop them smaller')
        if boxes.shape != (*patches.shape[:2], 4):
            raise JaxgenError(f'boxes must be [B, P, 4] (top, left, height, width) for '
                              f'patches {patches.shape[:2]}; got shape {boxes.shape}')
        if not np.issubdtype(boxes.dtype, np.integer):
            raise JaxgenError(f'boxes must be integers (top, left, height, width): {boxes.dtype}')
        if traced:
            return jnp.asarray(patches), jnp.asarray(boxes, jnp.int32)
        top, left, h, w = np.moveaxis(boxes.reshape(-1, 4), -1, 0)
        bad = (h < 1) | (w < 1) | (top < 0) | (left < 0) | (top + h > side) | (left + w > side)
        if bad.any():
            box = tuple(int(v) for v in boxes.reshape(-1, 4)[bad][0])
            raise JaxgenError(f'box {box} (top, left, height, width) lies outside the '
                              f'{side}x{side} image')
        return jnp.asarray(patches), jnp.asarray(boxes, jnp.int32)

    def generate_with_mask(self, variables, inputs, key):
        """``(images, predicted masks)``, from the same inputs as ``generate``."""
        num = check_inputs(inputs, ('patches', 'boxes', 'z'), 'puzzlegan')
        if 'patches' not in inputs or 'boxes' not in inputs:
            raise JaxgenError('puzzlegan completes images from key patches: pass '
                              'inputs={"patches": [B, P, s, s, C], "boxes": [B, P, 4]}')
        patches, boxes = self.check_patches(inputs['patches'], inputs['boxes'])
        z = (jnp.asarray(inputs['z'], jnp.float32) if 'z' in inputs
             else self.sample_latent(key, num))
        return self._generate(variables, patches, z, boxes)

    def generate(self, variables, inputs, key):
        """``{'patches': [B, P, s, s, C] in [-1, 1], 'boxes': [B, P, 4]}`` (and optionally
        ``'z'`` [B, 128]): the completed images ``[B, H, W, C]``."""
        return self.generate_with_mask(variables, inputs, key)[0]


def build(model_config, data_info) -> PuzzleGAN:
    shape = tuple(data_info['shape'])
    if kinds.kind(data_info) != 'images' or 'patches' not in data_info:
        raise JaxgenError('puzzlegan needs images with key patches and their boxes; set '
                          'config.data.patches (e.g. 3) and config.data.patch_size')
    if shape[0] != shape[1] or shape[0] not in SIDES or shape[2] not in (1, 3):
        raise JaxgenError(f'puzzlegan takes 28x28 or 32x32 images with 1 or 3 channels; '
                          f'got {shape}: set config.data.resize=32')
    check_tanh_pixels('puzzlegan', data_info)
    c = model_config
    features, parts = int(c.get('features', 64)), c.get('parts', 'crops')
    if parts not in ('crops', 'canvas'):
        raise JaxgenError(f"model.parts must be 'crops' (official) or 'canvas', got {parts!r}")
    return PuzzleGAN(
        part_encoder=PartEncoder(features, int(c.get('code_dim', 128))),
        mask_net=MaskNet(features), generator=Generator(features, shape[2]),
        discriminator=Discriminator(features), data_info=data_info,
        latent_dim=int(c.get('latent_dim', 128)),
        extra_negatives=bool(c.get('extra_negatives', True)), parts=parts)
