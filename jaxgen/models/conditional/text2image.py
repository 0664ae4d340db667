"""The text-to-image GAN (Reed et al., 2016, arXiv 1605.05396): GAN, GAN-CLS, GAN-INT
and GAN-INT-CLS, after the official ``main_cls_int.lua`` (github.com/reedscot/icml2016).

* The text encoder φ (``text_encoder``, a character-level CNN-RNN, or with
  ``model.text_level='word'`` the same network over word ids, ``text_encoder.py``) is
  pretrained and fixed: its embeddings are constants of this model's objective
  (``stop_gradient``, as the official code reads precomputed features), its weights come
  from ``config.init_from`` and ``config.frozen`` keeps them (``pretrained`` below).
* G(z, φ(t)): φ(t) → Dense(128) + LeakyReLU(0.2), concatenated with z (100), then the
  DCGAN generator (``gan/dcgan.py``) up to 28 or 32 px; ``model.residual_stages`` (0 by
  default; the official G has 2, at its coarsest two: 4×4 and 8×8 of 64 px, here 7×7 and
  14×14 of 28 px) adds its bottleneck residual blocks.
* D(x, φ(t)): DCGAN convolutions (stride 2, LeakyReLU 0.2, BatchNorm after the first)
  down to 4×4; φ(t) → Dense(128) + LeakyReLU(0.2) tiled to 4×4 and concatenated; a 1×1
  convolution (BatchNorm, LeakyReLU), then a 4×4 valid one → one logit.
* ``cls`` (GAN-CLS, matching-aware D): outputs also D's logits on a real image with
  mismatched text, ``wrong_logits``. The official loader draws a real image of another
  class for the matching text; here the mismatched text is that of another example of
  the batch, the nearest one after it (cyclically) of another class, falling back to
  one with another caption, and to the next example when the whole batch shares one.
* ``interpolate`` (GAN-INT): G also draws from β·e1 + (1 − β)·e2 with β = 0.5, e1 the
  first half of the batch's embeddings and e2 the second (``interp_type = 1``); those
  fakes go to G's loss only (``interp_logits``; ``fDx`` never sees them). As in
  ``fGx``, G and D run once on the B + B/2 fakes, so D's BatchNorm statistics in that
  pass span both; ``fake_logits`` are the first B. ``d_pass``: ``'separate'`` (default)
  runs D once more on the B matching fakes alone, as ``fDx`` does, and D's loss reads
  that pass (``d_fake_logits``, the game's ``history_logits`` name), G's loss the joint
  one; ``'joint'`` (the only behaviour before 2026-12-04) gives D's loss the joint pass's
  logits, so the interpolated fakes enter D's statistics in its own update too. With
  ``'joint'`` D won and G collapsed in all three GAN-INT-CLS runs to 12,000 steps
  (docs/results/text2image.md). The forward pass is the same in both phases, so each
  phase also runs the other's D pass (forward only, for BatchNorm's running averages),
  and G always draws the B + B/2 fakes in one batch, where ``fDx`` draws the B alone.
* ``inverse`` (optional, the paper's Figure 6): S(x) → z, trained on stop-gradient fakes
  with ``||z − S(G(z, φ(t)))||²`` (output ``inverse_z``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import text as text_lib
from jaxgen.errors import JaxgenError
from jaxgen.models.bundle import check_inputs
from jaxgen.models.gan.dcgan import INIT, DCGANGenerator, check_tanh_pixels
from jaxgen.models.layers import BatchNorm, apply, compiled
from jaxgen.models.layers.conv import Conv

BETA = 0.5  # main_cls_int.lua, interp_type = 1: (a + b) / 2


def compress(embedding: jax.Array, features: int) -> jax.Array:
    """The text embedding compressed: Dense + LeakyReLU(0.2) (fcG, fcD)."""
    return nn.leaky_relu(nn.Dense(features, kernel_init=INIT)(embedding), 0.2)


class TextGenerator(nn.Module):
    """``(z [B, nz], embedding [B, E])`` -> images ``[B, H, W, C]`` in [-1, 1]."""
    output_shape: tuple[int, int, int] = (28, 28, 1)
    features: int = 64
    text_features: int = 128
    residual_stages: int = 0   # the official G's residual blocks (dcgan.Bottleneck): 2

    @nn.compact
    def __call__(self, z, embedding, train: bool = False):
        h = jnp.concatenate([z, compress(embedding, self.text_features)], axis=-1)
        return DCGANGenerator(self.output_shape, self.features,
                              self.residual_stages)(h, train=train)


def _trunk(x, features: int, train: bool, side: int = 4):
    """Stride-2 convolutions until the side is at most ``side`` (28 → 4, 32 → 4)."""
    h, i = x, 0
    while h.shape[1] > side:
        h = Conv(features * 2 ** i, (4, 4), strides=(2, 2), padding='SAME', kernel_init=INIT)(h)
        if i > 0:
            h = BatchNorm(use_running_average=not train)(h)
        h, i = nn.leaky_relu(h, 0.2), i + 1
    return h, i


class TextDiscriminator(nn.Module):
    """``(images [B, H, W, C], embedding [B, E])`` -> logits ``[B]``."""
    features: int = 64
    text_features: int = 128

    @nn.compact
    def __call__(self, x, embedding, train: bool = False):
        h, n = _trunk(x, self.features, train)
        code = compress(embedding, self.text_features)
        tiled = jnp.broadcast_to(code[:, None, None, :], (*h.shape[:3], code.shape[-1]))
        h = jnp.concatenate([h, tiled], axis=-1)
        h = Conv(self.features * 2 ** (n - 1), (1, 1), kernel_init=INIT)(h)
        h = nn.leaky_relu(BatchNorm(use_running_average=not train)(h), 0.2)
        h = Conv(1, h.shape[1:3], padding='VALID', kernel_init=INIT)(h)
        return h.reshape(x.shape[0])


class Inverse(nn.Module):
    """S: images -> z ``[B, latent_dim]`` (the style encoder of the paper's Figure 6)."""
    latent_dim: int = 100
    features: int = 64

    @nn.compact
    def __call__(self, x, train: bool = False):
        h, _ = _trunk(x, self.features, train)
        return nn.Dense(self.latent_dim, kernel_init=INIT)(h.reshape(x.shape[0], -1))


def mismatched(batch: Mapping[str, jax.Array], field: str = 'chars') -> jax.Array:
    """For each example, the index of another in the batch whose text (``batch[field]``)
    is wrong for it: the nearest after it (cyclically) of another class and caption, else
    of another class, else of another caption, else the next one."""
    chars = jnp.asarray(batch[field])
    b = chars.shape[0]
    partner = (jnp.arange(b)[:, None] + jnp.arange(1, b)[None, :]) % b  # [B, B-1]
    differs = jnp.any(chars[partner] != chars[:, None], axis=-1)
    if 'label' in batch:
        label = jnp.asarray(batch['label'])
        score = 2 * (label[partner] != label[:, None]) + differs
    else:
        score = differs.astype(jnp.int32)
    return partner[jnp.arange(b), jnp.argmax(score, axis=1)]


def interpolated(embedding: jax.Array, beta: float = BETA) -> jax.Array:
    """``beta·e1 + (1 − beta)·e2`` of the first and second halves of the batch, ``[B//2, E]``."""
    half = embedding.shape[0] // 2
    return beta * embedding[:half] + (1.0 - beta) * embedding[half:2 * half]


@dataclasses.dataclass(frozen=True)
class Text2Image:
    generator: nn.Module
    discriminator: nn.Module
    text_encoder: nn.Module
    data_info: Mapping[str, Any]
    text: text_lib.TextSpec              # the captions' field, vocabulary and length
    latent_dim: int = 100
    cls: bool = True
    interpolate: bool = True
    inverse: nn.Module | None = None
    d_pass: str = 'separate'         # D's loss on a pass over the B matching fakes alone
    pretrained = ('text_encoder',)   # players whose weights must come from init_from
    pretrained_by = {'text_encoder': 'python train.py --config configs/text_encoder.py'}

    @property
    def players(self) -> dict[str, nn.Module]:
        players = {'generator': self.generator, 'discriminator': self.discriminator,
                   'text_encoder': self.text_encoder}
        return {**players, 'inverse': self.inverse} if self.inverse is not None else players

    @property
    def conditions(self) -> tuple[str, ...]:
        """What python -m jaxgen.generate hands generate(): the text's ids."""
        return (self.text.field,)

    @property
    def data_shape(self):
        return tuple(self.data_info['shape'])

    def sample_latent(self, key, num: int):
        return jax.random.normal(key, (num, self.latent_dim), jnp.float32)

    @compiled()
    def init(self, key):
        kg, kd, kt, ks = jax.random.split(key, 4)
        chars = jnp.ones((2, self.text.length), jnp.int32)
        text = self.text_encoder.init(kt, chars)
        e = jnp.zeros(jax.eval_shape(self.text_encoder.apply, text, chars).shape, jnp.float32)
        x = jnp.zeros((2, *self.data_shape), jnp.float32)
        variables = {'generator': self.generator.init(kg, self.sample_latent(kg, 2), e),
                     'discriminator': self.discriminator.init(kd, x, e), 'text_encoder': text}
        if self.inverse is not None:
            variables['inverse'] = self.inverse.init(ks, x)
        return variables

    @compiled()
    def embed(self, variables, chars):
        """φ(chars), a constant of the objective (the encoder is pretrained and fixed)."""
        return jax.lax.stop_gradient(
            self.text_encoder.apply(dict(variables['text_encoder']), jnp.asarray(chars)))

    def forward(self, variables, batch, key, train: bool = True):
        real, e = batch['image'], self.embed(variables, batch[self.text.field])
        b = real.shape[0]
        text = {k: v for k, v in variables['text_encoder'].items() if k != 'params'}
        if b < 2 and (self.interpolate or self.cls):
            raise JaxgenError('text2image with model.cls or model.interpolate needs a batch '
                              'of at least 2 (mismatched texts, interpolated halves)')
        g_in = e
        if self.interpolate:
            g_in = jnp.concatenate([e, interpolated(e)], axis=0)
        z = self.sample_latent(key, g_in.shape[0])
        fakes, g_state = apply(self.generator, variables['generator'], z, g_in, train=train)
        d_vars = variables['discriminator']
        real_logits, d_state = apply(self.discriminator, d_vars, real, e, train=train)
        outputs = {'real_logits': real_logits, 'embedding': e, 'z': z[:b], 'fake': fakes[:b],
                   'real': real}
        if self.cls:
            wrong = mismatched(batch, self.text.field)
            outputs['wrong_logits'], d_state = apply(
                self.discriminator, {**d_vars, **d_state}, real, e[wrong], train=train)
            outputs['wrong_index'] = wrong
        fake_logits, d_state = apply(self.discriminator, {**d_vars, **d_state}, fakes, g_in,
                                     train=train)
        outputs['fake_logits'] = fake_logits[:b]
        if self.interpolate:
            outputs.update(interp_logits=fake_logits[b:], interp_embedding=g_in[b:],
                           interp_fake=fakes[b:])
            if self.d_pass == 'separate':  # fDx: D's batch holds the B matching fakes only
                outputs['d_fake_logits'], d_state = apply(
                    self.discriminator, {**d_vars, **d_state}, fakes[:b], e, train=train)
        state = {'generator': g_state, 'discriminator': d_state, 'text_encoder': text}
        if self.inverse is not None:
            outputs['inverse_z'], state['inverse'] = apply(
                self.inverse, variables['inverse'], jax.lax.stop_gradient(fakes[:b]),
                train=train)
        return outputs, state

    @compiled()
    def decode(self, variables, z, embedding):
        """G at latents ``z`` and text embeddings ``embedding`` (eval mode)."""
        return self.generator.apply(dict(variables['generator']), z, embedding, train=False)

    @compiled()
    def invert(self, variables, images):
        """S(images): the latents the inverse network reads off images (eval mode)."""
        if self.inverse is None:
            raise JaxgenError('this text2image model has no inverse network; train it with '
                              'model.inverse=True')
        return self.inverse.apply(dict(variables['inverse']), images, train=False)

    def generate(self, variables, inputs, key):
        """``{'chars': int32 [B, L]}`` (``'tokens'`` at the word level; or
        ``{'embedding': [B, E]}``, a given text embedding), optionally ``'z'``
        ``[B, latent_dim]``: one image per caption."""
        field = self.text.field
        num = check_inputs(inputs, (field, 'embedding', 'z'), 'text2image')
        if field in inputs and 'embedding' in inputs:
            raise JaxgenError(f"text2image generates from {field!r} or from 'embedding', "
                              "not both")
        if field not in inputs and 'embedding' not in inputs:
            raise JaxgenError(f"text2image generates from text: pass {{{field!r}: int32 "
                              "[B, L]} (python -m jaxgen.generate --text ...) or "
                              "{'embedding': ...}")
        e = (jnp.asarray(inputs['embedding'], jnp.float32) if 'embedding' in inputs
             else self.embed(variables, jnp.asarray(inputs[field], jnp.int32)))
        z = inputs['z'] if 'z' in inputs else self.sample_latent(key, num)
        return self.decode(variables, jnp.asarray(z, jnp.float32), e)


def build(model_config, data_info) -> Text2Image:
    from jaxgen.models.conditional.text_encoder import (  # pylint: disable=import-outside-toplevel
        CharCNNRNN)
    shape = tuple(data_info['shape'])
    c = model_config
    text = text_lib.spec(data_info, c.get('text_level', 'char'), 'text2image')
    check_tanh_pixels('text2image', data_info)
    features, latent = c.get('features', 64), c.get('latent_dim', 100)
    interpolate = bool(c.get('interpolate', True))
    if not interpolate and c.get('d_pass') is not None:
        raise JaxgenError(f'model.d_pass={c.get("d_pass")} has no effect without '
                          'model.interpolate (GAN-INT): D already sees the B matching fakes alone')
    d_pass = c.get('d_pass') or 'separate'
    if d_pass not in ('joint', 'separate'):
        raise JaxgenError(f"model.d_pass must be 'joint' or 'separate', got {d_pass!r}")
    text_features = c.get('text_features', 128)
    return Text2Image(
        generator=TextGenerator(shape, features, text_features,
                                int(c.get('residual_stages', 0))),
        discriminator=TextDiscriminator(c.get('d_features', features), text_features),
        text_encoder=CharCNNRNN(vocab_size=len(text.vocabulary),
                                embed_dim=c.get('embed_dim', 256),
                                features=c.get('encoder_features', 128),
                                convs=c.get('encoder_convs', 2)),
        data_info=data_info, text=text, latent_dim=latent, cls=bool(c.get('cls', True)),
        interpolate=interpolate, d_pass=d_pass,
        inverse=Inverse(latent, features) if c.get('inverse', False) else None)
