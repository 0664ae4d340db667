"""A GAN of MLPs that grow: the toy model of staged training (``configs/growing_ring.py``).

Each network is ``in`` (a dense layer to ``width`` units), ``depth`` residual blocks
``hidden_<i>`` and a linear ``out``. A stage that adds a block (``config.stages``)
keeps every other layer (the trainer's default carry: same path, same shape) and
fades the new block in as Progressive GAN fades in a resolution: ``h + alpha * block(h)``
with ``alpha = clip((step - fade_start) / fade_steps, 0, 1)`` computed from the step
in the batch, an input of the compiled step. At ``alpha = 0`` the grown network is the
previous one exactly; sampling (no step) uses ``alpha = 1``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.gan.base import GAN


class GrowingMLP(nn.Module):
    """``[B, ...] -> [B, output_dim]`` (``[B]`` when ``output_dim`` is 0: a logit)."""
    output_dim: int
    width: int = 32
    depth: int = 1
    alpha: Any = 1.0  # the newest block's weight (a traced value while training)

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        del train
        h = nn.relu(nn.Dense(self.width, name='in')(x.reshape(x.shape[0], -1)))
        for i in range(self.depth):
            block = nn.relu(nn.Dense(self.width, name=f'hidden_{i}')(h))
            h = h + (self.alpha if i == self.depth - 1 else 1.0) * block
        out = nn.Dense(max(self.output_dim, 1), name='out')(h)
        return out if self.output_dim else out[:, 0]


def fade(step, fade_start: int, fade_steps: int):
    """The newest block's weight at ``step``: 1 without a step or a fade."""
    if step is None or fade_steps <= 0:
        return 1.0
    return jnp.clip((jnp.asarray(step, jnp.float32) - fade_start) / fade_steps, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class GrowingGAN(GAN):
    """The GAN whose networks' newest blocks fade in over the steps."""
    fade_start: int = 0
    fade_steps: int = 0

    def forward(self, variables, batch, key, train: bool = True):
        alpha = fade(batch.get('step'), self.fade_start, self.fade_steps)
        faded = dataclasses.replace(self, generator=self.generator.clone(alpha=alpha),
                                    discriminator=self.discriminator.clone(alpha=alpha))
        return GAN.forward(faded, variables, batch, key, train)


def build(model_config, data_info) -> GrowingGAN:
    shape = tuple(data_info['shape'])
    if kinds.kind(data_info) != 'points':
        raise JaxgenError(f'model growing is a toy for the 2-D mixtures, not data of shape '
                          f'{shape}')
    depth, width = model_config.get('depth', 1), model_config.get('width', 32)
    if not all(isinstance(v, int) and v > 0 for v in (depth, width)):
        raise JaxgenError(f'config.model.depth and width must be positive integers, got '
                          f'{depth!r} and {width!r}')
    return GrowingGAN(generator=GrowingMLP(output_dim=shape[0], width=width, depth=depth),
                      discriminator=GrowingMLP(output_dim=0, width=width, depth=depth),
                      latent_dim=model_config.latent_dim, data_info=data_info,
                      fade_start=int(model_config.get('fade_start', 0)),
                      fade_steps=int(model_config.get('fade_steps', 0)))
