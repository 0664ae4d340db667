"""StarGAN (Choi et al., 2018): one generator ``G(x, c)`` translating among many
domains, told which one to produce; one discriminator with a real/fake head and a
domain-classification head (yunjey/stargan ``model.py``, ``solver.py``).

Data: images with a ``domain`` field (integers) and ``info['domain_names']``:
Morpho-MNIST's perturbations (none, thin, thick, swell, fracture), glyph fonts,
or any set whose labels are domains (``tfds:`` with ``label_key`` naming them).
Target domains are the batch's own domains in a random order (``solver.py``:
``label_trg = label_org[randperm]``). Outputs for ``objectives/stargan.py``:
``real_logits``/``fake_logits`` (patch maps), ``real_class_logits`` with ``labels``,
``fake_class_logits`` with ``target_labels``, ``reconstruction = G(G(x, c'), c)``,
``real``, ``fake``, ``critic``, ``mix``.

``generate(variables, {'image': x, 'domain': d})`` translates each ``x`` into domain
``d`` (integers ``[N]``). Options (``config.model``): ``features`` (64), ``blocks``
(6), ``d_features`` (64).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.bundle import check_inputs
from jaxgen.models.gan.base import critic_outputs
from jaxgen.models.gan.dcgan import check_tanh_pixels
from jaxgen.models.layers import apply, compiled
from jaxgen.models.translation.discriminators import StarGANDiscriminator
from jaxgen.models.translation.networks import ResNetGenerator
from jaxgen.models.translation.pix2pix import GeneratorAndDiscriminator, check_image

Variables = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class StarGAN(GeneratorAndDiscriminator):
    """``G(x, c)`` over ``num_domains`` domains and ``D(x) -> (source, domains)``."""

    @property
    def num_domains(self) -> int:
        return len(self.data_info['domain_names'])

    def condition(self, domains: jax.Array) -> jax.Array:
        return jax.nn.one_hot(domains, self.num_domains, dtype=jnp.float32)

    @compiled()
    def init(self, key: jax.Array) -> dict[str, Variables]:
        kg, kd = jax.random.split(key)
        x = jnp.zeros((2, *self.shape), jnp.float32)
        return {'generator': self.generator.init(kg, x, train=False,
                                                 condition=self.condition(jnp.zeros(2, int))),
                'discriminator': self.discriminator.init(kd, x, train=False)}

    def forward(self, variables: Mapping[str, Variables], batch: Mapping[str, jax.Array],
                key: jax.Array, train: bool = True) -> tuple[dict, dict]:
        real, labels = batch['image'], jnp.asarray(batch['domain'])
        targets = labels[jax.random.permutation(jax.random.fold_in(key, 3), labels.shape[0])]
        g_vars = variables['generator']
        fake, g_state = apply(self.generator, g_vars, real, train=train,
                              condition=self.condition(targets))
        reconstruction, g_state = apply(self.generator, {**g_vars, **g_state}, fake,
                                        train=train, condition=self.condition(labels))
        d_vars = variables['discriminator']
        (real_logits, real_class), d_state = apply(self.discriminator, d_vars, real,
                                                   train=train)
        (fake_logits, fake_class), d_state = apply(self.discriminator, {**d_vars, **d_state},
                                                   fake, train=train)
        outputs = {'real_logits': real_logits, 'fake_logits': fake_logits,
                   'real_class_logits': real_class, 'fake_class_logits': fake_class,
                   'labels': labels, 'target_labels': targets,
                   'reconstruction': reconstruction, 'real': real, 'fake': fake,
                   **critic_outputs(lambda x: apply(self.discriminator, d_vars, x,
                                                    train=train)[0][0], real.shape[0], key)}
        return outputs, {'generator': g_state, 'discriminator': d_state}

    @compiled()
    def translate(self, variables: Mapping[str, Variables], images: jax.Array,
                  domains: jax.Array) -> jax.Array:
        return self.generator.apply(dict(variables['generator']), images, train=False,
                                    condition=self.condition(domains))

    @property
    def targets(self) -> tuple[str, ...]:  # what jaxgen.translate asks for: a domain
        return tuple(str(n) for n in self.data_info['domain_names'])

    @property
    def source_fields(self) -> dict[str, str]:
        return {t: 'image' for t in self.targets}

    def inputs_for(self, images, target: str) -> dict:
        return {'image': images,
                'domain': np.full(len(images), self.targets.index(target), np.int32)}

    def generate(self, variables: Mapping[str, Variables], inputs: Mapping[str, Any],
                 key: jax.Array) -> jax.Array:
        """``{'image': x, 'domain': d}``: each ``x`` translated into domain ``d``."""
        del key  # deterministic
        check_inputs(inputs, ('image', 'domain'), 'stargan')
        if set(inputs) - {'num'} != {'image', 'domain'}:
            raise JaxgenError('stargan translates images into domains: pass inputs='
                              '{"image": x, "domain": d} (d: one target domain per image)')
        domains = np.asarray(inputs['domain'])
        names = self.data_info['domain_names']
        if not np.issubdtype(domains.dtype, np.integer) or domains.min() < 0 or \
                domains.max() >= len(names):
            raise JaxgenError(f'target domains must be integers 0..{len(names) - 1}: '
                              + ', '.join(f'{i} {n}' for i, n in enumerate(names)))
        return self.translate(variables, check_image(inputs['image'], self.shape, 'stargan'),
                              jnp.asarray(domains, jnp.int32))


def build(model_config, data_info) -> StarGAN:
    names = data_info.get('domain_names')
    if kinds.kind(data_info) != 'images' or not names or len(names) < 2:
        raise JaxgenError('stargan needs images with at least 2 named domains (a domain '
                          "field and info['domain_names']); use morpho_perturbed or glyphs")
    check_tanh_pixels('stargan', data_info)
    c = model_config
    return StarGAN(
        generator=ResNetGenerator(features=c.get('features', 64),
                                  out_channels=data_info['shape'][2],
                                  blocks=c.get('blocks', 6), style='stargan',
                                  condition_dim=len(names)),
        discriminator=StarGANDiscriminator(features=c.get('d_features', 64),
                                           num_domains=len(names)),
        data_info=data_info)
