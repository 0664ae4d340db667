"""CycleGAN (Zhu et al., 2017): translation between two domains learnt without pairs.

Two ResNet generators, ``generator_ab`` (G: A -> B) and ``generator_ba`` (F: B -> A),
and two 70x70 PatchGANs with InstanceNorm, ``discriminator_a`` and
``discriminator_b``, each judging images of its own domain and each keeping a pool
of the last 50 fakes it was shown (``layers/history.py``) in its persistent state
(junyanz/pytorch-CycleGAN-and-pix2pix ``models/cycle_gan_model.py``; the official
``netD_A`` judges domain B, named here by the domain it judges).

Data: two unpaired domains (``info['kind'] == 'unpaired'``, ``image_a`` and
``image_b`` drawn independently), pixels in [-1, 1]. Outputs for
``objectives/cyclegan.py``, for x in a, b: ``real_x``, ``fake_x`` (a translation
into x), ``cycle_x`` (x -> other -> x), ``identity_x`` (x through the generator into
x), ``real_logits_x``, ``fake_logits_x``, ``history_logits_x``, ``critic_x``; and
``mix``. ``generate(variables, {'image_a': x})`` translates A -> B,
``{'image_b': y}`` B -> A.

Options (``config.model``): ``features`` (64: ngf = ndf), ``blocks`` (6, the
official ``resnet_6blocks`` for 128 px and below), ``receptive_field`` (70),
``norm`` ('instance'), ``history_size`` (50, ``--pool_size``; 0: none).
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
from jaxgen.models.gan.base import pooled_logits
from jaxgen.models.gan.dcgan import check_tanh_pixels
from jaxgen.models.layers import apply, compiled
from jaxgen.models.layers import history as history_lib
from jaxgen.models.translation.discriminators import PatchDiscriminator
from jaxgen.models.translation.networks import ResNetGenerator
from jaxgen.models.translation.pix2pix import check_image

Variables = Mapping[str, Any]
OTHER = {'a': 'b', 'b': 'a'}


@dataclasses.dataclass(frozen=True)
class CycleGAN:
    """Generators A -> B and B -> A, a discriminator per domain."""
    generator: nn.Module      # one architecture, two players (two parameter sets)
    discriminator: nn.Module
    data_info: Mapping[str, Any]
    history_size: int = 50

    @property
    def players(self) -> dict[str, nn.Module]:
        return {'generator_ab': self.generator, 'generator_ba': self.generator,
                'discriminator_a': self.discriminator, 'discriminator_b': self.discriminator}

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data_info['shape'])

    @compiled()
    def init(self, key: jax.Array) -> dict[str, Variables]:
        x = jnp.zeros((2, *self.shape), jnp.float32)
        keys = dict(zip(self.players, jax.random.split(key, 4)))
        out = {}
        for name, module in self.players.items():
            out[name] = module.init(keys[name], x, train=False)
            if name.startswith('discriminator') and self.history_size:
                out[name] = {**out[name], history_lib.COLLECTION: history_lib.empty(
                    self.history_size, self.shape)}
        return out

    def forward(self, variables: Mapping[str, Variables], batch: Mapping[str, jax.Array],
                key: jax.Array, train: bool = True) -> tuple[dict, dict]:
        real = {'a': batch['image_a'], 'b': batch['image_b']}
        state = {p: {k: v for k, v in variables[p].items() if k != 'params'}
                 for p in self.players}

        def translate(x, into):  # the generator whose output lies in domain ``into``
            player = f'generator_{OTHER[into]}{into}'
            y, state[player] = apply(self.generator, {**variables[player], **state[player]},
                                     x, train=train)
            return y
        # Interpolation weights for a gradient penalty, as critic_outputs draws them.
        outputs = {'mix': jax.random.uniform(jax.random.fold_in(key, 1), (real['a'].shape[0],))}
        for x in 'ab':
            y = OTHER[x]
            fake = translate(real[y], into=x)          # y -> x
            outputs.update({f'real_{x}': real[x], f'fake_{x}': fake,
                            f'cycle_{y}': translate(fake, into=y),   # y -> x -> y
                            f'identity_{x}': translate(real[x], into=x)})
        for i, x in enumerate('ab'):
            player = f'discriminator_{x}'
            d_vars = {**variables[player]}

            def judge(images, d_vars=d_vars, player=player):
                logits, state[player] = apply(self.discriminator,
                                              {**d_vars, **state[player]}, images, train=train)
                return logits
            outputs[f'real_logits_{x}'] = judge(real[x])
            outputs[f'fake_logits_{x}'] = judge(outputs[f'fake_{x}'])
            outputs[f'critic_{x}'] = lambda images, d_vars=d_vars: apply(
                self.discriminator, d_vars, images, train=train)[0]
            if self.history_size:
                outputs[f'history_logits_{x}'], state[player] = pooled_logits(
                    self.discriminator, {**d_vars, **state[player]}, outputs[f'fake_{x}'],
                    jax.random.fold_in(key, 10 + i), train)
        return outputs, state

    @compiled(2)
    def translate(self, variables: Mapping[str, Variables], images: jax.Array,
                  direction: str) -> jax.Array:
        """``images`` of domain A translated to B (``direction='ab'``), or B to A."""
        return self.generator.apply(dict(variables[f'generator_{direction}']), images,
                                    train=False)

    # What ``jaxgen.translate`` asks for: the targets, and the inputs for one.
    targets = ('AtoB', 'BtoA')
    source_fields = {'AtoB': 'image_a', 'BtoA': 'image_b'}
    output_fields = {'AtoB': 'image_b', 'BtoA': 'image_a'}

    def cycle_error(self, variables: Mapping[str, Variables], images: jax.Array,
                    target: str) -> jax.Array:
        """The mean L1 error of ``images`` translated by ``target`` and back."""
        there = 'ab' if target == 'AtoB' else 'ba'
        back = self.translate(variables, self.translate(variables, images, there),
                              there[::-1])
        return jnp.mean(jnp.abs(back - images))

    def inputs_for(self, images, target: str) -> dict:
        return {self.source_fields[target]: images}

    def generate(self, variables: Mapping[str, Variables], inputs: Mapping[str, Any],
                 key: jax.Array) -> jax.Array:
        """``{'image_a': x}``: ``x`` translated into B; ``{'image_b': y}``: into A."""
        del key  # deterministic: the generators have no noise
        check_inputs(inputs, ('image_a', 'image_b'), 'cyclegan')
        given = [k for k in ('image_a', 'image_b') if k in inputs]
        if len(given) != 1:
            raise JaxgenError('cyclegan translates one domain at a time: pass inputs='
                              '{"image_a": x} (A -> B) or {"image_b": y} (B -> A)')
        domain = given[0][-1]
        images = check_image(inputs[given[0]], self.shape, 'cyclegan')
        return self.translate(variables, images, f'{domain}{OTHER[domain]}')


def build(model_config, data_info) -> CycleGAN:
    if kinds.kind(data_info) != 'unpaired':
        raise JaxgenError(f'cyclegan learns from two unpaired domains (image_a, image_b) but '
                          f'the dataset holds {kinds.kind(data_info)}; use thin_thick, '
                          'mnist2digits, tfds:cycle_gan/<name> or folder:<path> with '
                          'trainA/trainB')
    check_tanh_pixels('cyclegan', data_info)
    c = model_config
    shape = tuple(data_info['shape'])
    return CycleGAN(
        generator=ResNetGenerator(features=c.get('features', 64), out_channels=shape[2],
                                  blocks=c.get('blocks', 6), norm=c.get('norm', 'instance')),
        discriminator=PatchDiscriminator(features=c.get('features', 64),
                                         receptive_field=c.get('receptive_field', 70),
                                         norm=c.get('norm', 'instance')),
        data_info=data_info, history_size=history_lib.size_from(c))
