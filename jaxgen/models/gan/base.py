"""The GAN model bundle: a generator and a discriminator, wired together.

A bundle (:class:`jaxgen.models.bundle.Bundle`) has ``players``, ``init``,
``forward`` (named outputs, read by the objective's terms like TF-GAN's
``GANModel`` tuple, and the players' new model state) and ``generate``. The
objective turns the outputs into one loss per player; the update rule
differentiates each loss with respect to its player only.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.models.bundle import check_inputs, unconditional
from jaxgen.models.layers import apply, compiled
from jaxgen.models.layers import history as history_lib

Variables = Mapping[str, Any]


def real_data(batch: Mapping[str, jax.Array]) -> jax.Array:
    """The data field of a batch: ``image`` for image sets, ``x`` for points."""
    return batch['image'] if 'image' in batch else batch['x']


def critic_outputs(critic, batch_size: int, key: jax.Array) -> dict:
    """What discriminator penalties read: ``critic`` (data -> logits with the
    current discriminator, its BatchNorm updates dropped) and ``mix``,
    per-example interpolation weights ~ U(0, 1) from their own key."""
    return {'critic': critic,
            'mix': jax.random.uniform(jax.random.fold_in(key, 1), (batch_size,))}


def pooled_logits(discriminator: nn.Module, d_vars, fake: jax.Array, key: jax.Array,
                  train: bool) -> tuple[jax.Array, dict]:
    """D's logits on ``fake`` passed through the pool kept in ``d_vars``, and D's new
    state (the pool updated in train mode; unchanged, the fakes as they are, in eval)."""
    pool = d_vars[history_lib.COLLECTION]
    if train:
        fake, pool = history_lib.query(pool, fake, key)
    logits, d_state = apply(discriminator, d_vars, fake, train=train)
    return logits, {**d_state, history_lib.COLLECTION: pool}


@dataclasses.dataclass(frozen=True)
class GAN:
    """Generator ``G(z)`` and discriminator ``D(x) -> logit`` over ``z ~ N(0, I)``.

    With ``history_size`` > 0 the discriminator keeps a pool of earlier fakes in
    its persistent state (``layers/history.py``, CycleGAN's image pool): the
    outputs then also hold ``history_logits``, D's logits on this step's fakes
    passed through the pool, which D's loss reads instead of ``fake_logits``
    (G's loss still reads the fresh fakes').
    """
    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    data_info: Mapping[str, Any]
    history_size: int = 0

    @property
    def players(self) -> dict[str, nn.Module]:
        return {'generator': self.generator, 'discriminator': self.discriminator}

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.data_info['shape'])

    def sample_latent(self, key: jax.Array, num: int) -> jax.Array:
        return jax.random.normal(key, (num, self.latent_dim), jnp.float32)

    @compiled()
    def init(self, key: jax.Array) -> dict[str, Variables]:
        kg, kd = jax.random.split(key)
        z = jnp.zeros((2, self.latent_dim), jnp.float32)
        x = jnp.zeros((2, *self.data_shape), jnp.float32)
        discriminator = self.discriminator.init(kd, x, train=False)
        if self.history_size:
            discriminator = {**discriminator, history_lib.COLLECTION: history_lib.empty(
                self.history_size, self.data_shape)}
        return {'generator': self.generator.init(kg, z, train=False),
                'discriminator': discriminator}

    def forward(self, variables: Mapping[str, Variables], batch: Mapping[str, jax.Array],
                key: jax.Array, train: bool = True) -> tuple[dict, dict]:
        real = real_data(batch)
        z = self.sample_latent(key, real.shape[0])
        fake, g_state = apply(self.generator, variables['generator'], z, train=train)
        d_vars = variables['discriminator']
        # Real and fake batches go through D separately, each normalised by its
        # own statistics, as in the reference DCGAN implementations.
        real_logits, d_state = apply(self.discriminator, d_vars, real, train=train)
        fake_logits, d_state = apply(self.discriminator, {**d_vars, **d_state}, fake,
                                     train=train)
        outputs = {'real_logits': real_logits, 'fake_logits': fake_logits,
                   'fake': fake, 'z': z, 'real': real,
                   **critic_outputs(lambda x: apply(self.discriminator, d_vars, x,
                                                    train=train)[0], real.shape[0], key)}
        if self.history_size:
            outputs['history_logits'], d_state = pooled_logits(
                self.discriminator, {**d_vars, **d_state}, fake, jax.random.fold_in(key, 2),
                train)
        return outputs, {'generator': g_state, 'discriminator': d_state}

    @compiled(2)
    def sample(self, variables: Mapping[str, Variables], key: jax.Array,
               num: int) -> jax.Array:
        z = self.sample_latent(key, num)
        return self.generator.apply(dict(variables['generator']), z, train=False)

    def generate(self, variables: Mapping[str, Variables], inputs: Mapping[str, Any],
                 key: jax.Array) -> jax.Array:
        """``{'num': n}``: n draws; ``{'z': z}``: the generator at the latents ``z``."""
        num = check_inputs(inputs, ('z',), type(self).__name__)
        if unconditional(inputs):
            return self.sample(variables, key, num)
        return self.decode(variables, jnp.asarray(inputs['z'], jnp.float32))

    @compiled()
    def decode(self, variables: Mapping[str, Variables], z: jax.Array) -> jax.Array:
        return self.generator.apply(dict(variables['generator']), z, train=False)
