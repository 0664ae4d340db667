"""Conditional GAN (Mirza & Osindero, 2014) with DCGAN networks.

The class label ``y`` reaches both players:

* G(z, y): the DCGAN generator on ``[z, one_hot(y)]``;
* D(x, y), by ``model.conditioning``:
  - ``concat``: the one-hot label tiled as extra input channels;
  - ``projection`` (Miyato & Koyama, 2018): ``D(x, y) = w . phi(x) + embed(y) . phi(x)``,
    ``phi`` the convolutional trunk.

Real images come with their labels; fakes with labels drawn uniformly.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.layers.conv import Conv
from jaxgen.models.gan.dcgan import INIT, DCGANGenerator, check_tanh_pixels, num_upsamplings
from jaxgen.models.bundle import check_inputs, unconditional
from jaxgen.models.gan.base import GAN, critic_outputs
from jaxgen.models.layers import BatchNorm, apply, compiled

CONDITIONING = ('concat', 'projection')


class ConditionalDiscriminator(nn.Module):
    """``(images [B, H, W, C], labels [B])`` -> logits ``[B]``."""
    num_classes: int
    conditioning: str = 'projection'
    features: int = 64

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array, train: bool = False) -> jax.Array:
        one_hot = jax.nn.one_hot(labels, self.num_classes, dtype=x.dtype)
        h = x
        if self.conditioning == 'concat':
            tiled = jnp.broadcast_to(one_hot[:, None, None, :], (*x.shape[:3], self.num_classes))
            h = jnp.concatenate([x, tiled], axis=-1)
        for i in range(num_upsamplings(x.shape[1])):
            h = Conv(self.features * 2 ** i, (4, 4), strides=(2, 2), padding='SAME',
                     kernel_init=INIT)(h)
            if i > 0:
                h = BatchNorm(use_running_average=not train)(h)
            h = nn.leaky_relu(h, 0.2)
        phi = h.reshape(x.shape[0], -1)
        logits = nn.Dense(1, kernel_init=INIT)(phi)[:, 0]
        if self.conditioning == 'projection':
            embed = nn.Embed(self.num_classes, phi.shape[-1], embedding_init=INIT)(labels)
            logits = logits + jnp.sum(embed * phi, axis=-1)
        return logits


@dataclasses.dataclass(frozen=True)
class ConditionalGAN(GAN):
    num_classes: int = 10

    @compiled()
    def init(self, key):
        kg, kd = jax.random.split(key)
        z = jnp.zeros((2, self.latent_dim + self.num_classes), jnp.float32)
        x = jnp.zeros((2, *self.data_shape), jnp.float32)
        return {'generator': self.generator.init(kg, z, train=False),
                'discriminator': self.discriminator.init(kd, x, jnp.zeros((2,), jnp.int32),
                                                         train=False)}

    def generator_input(self, z, labels):
        return jnp.concatenate([z, jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)], 1)

    def forward(self, variables, batch, key, train: bool = True):
        real, real_labels = batch['image'], batch['label']
        kz, ky = jax.random.split(key)
        z = self.sample_latent(kz, real.shape[0])
        labels = jax.random.randint(ky, (real.shape[0],), 0, self.num_classes)
        fake, g_state = apply(self.generator, variables['generator'],
                              self.generator_input(z, labels), train=train)
        d_vars = variables['discriminator']
        real_logits, d_state = apply(self.discriminator, d_vars, real, real_labels, train=train)
        fake_logits, d_state = apply(self.discriminator, {**d_vars, **d_state}, fake, labels,
                                     train=train)
        # Penalties see D with the real labels (for R1 on real data and the
        # interpolates, which keep the real image's label).
        outputs = {'real_logits': real_logits, 'fake_logits': fake_logits, 'fake': fake,
                   'z': z, 'labels': labels, 'real': real,
                   **critic_outputs(lambda x: apply(self.discriminator, d_vars, x, real_labels,
                                                    train=train)[0], real.shape[0], key)}
        return outputs, {'generator': g_state, 'discriminator': d_state}

    def decode(self, variables, z, labels):
        """The generator at latents ``z`` and class labels ``labels`` (eval mode)."""
        return self.generator.apply(dict(variables['generator']),
                                    self.generator_input(z, labels), train=False)

    @compiled(2)
    def sample(self, variables, key, num: int):
        kz, ky = jax.random.split(key)
        labels = jax.random.randint(ky, (num,), 0, self.num_classes)
        return self.decode(variables, self.sample_latent(kz, num), labels)

    def generate(self, variables, inputs, key):
        """``{'num': n}``: n draws of random classes; ``{'label': y}`` (and optionally
        ``'z'``): draws of the classes ``y``; what is not given is drawn from ``key``."""
        num = check_inputs(inputs, ('z', 'label'), 'cgan')
        if unconditional(inputs):
            return self.sample(variables, key, num)
        kz, ky = jax.random.split(key)
        z = inputs['z'] if 'z' in inputs else self.sample_latent(kz, num)
        labels = (jnp.asarray(inputs['label'], jnp.int32) if 'label' in inputs
                  else jax.random.randint(ky, (num,), 0, self.num_classes))
        return self.decode(variables, jnp.asarray(z, jnp.float32), labels)


def build(model_config, data_info) -> ConditionalGAN:
    shape = tuple(data_info['shape'])
    num_classes = data_info.get('num_classes')
    if kinds.kind(data_info) != 'images' or not num_classes:
        raise JaxgenError(f'cgan needs labelled images; the dataset has shape {shape} and '
                          f'num_classes={num_classes}: use mnist, fashion_mnist or digits')
    check_tanh_pixels('cgan', data_info)
    conditioning = model_config.get('conditioning', 'projection')
    if conditioning not in CONDITIONING:
        raise JaxgenError(f'unknown model.conditioning {conditioning!r}; choose one of '
                          f'{", ".join(CONDITIONING)}')
    return ConditionalGAN(
        generator=DCGANGenerator(output_shape=shape, features=model_config.features),
        discriminator=ConditionalDiscriminator(num_classes=int(num_classes),
                                               conditioning=conditioning,
                                               features=model_config.features),
        latent_dim=model_config.latent_dim, data_info=data_info,
        num_classes=int(num_classes))
