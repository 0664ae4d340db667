"""Structured latent codes: noise z plus categorical and continuous codes (InfoGAN).

``LatentCodes(noise_dim=62, categorical=(10,), continuous=2)`` is the MNIST
setup of Chen et al. (2016): c_cat ~ Cat(k) uniform, c_cont ~ Uniform(-1, 1),
and noise z ~ Uniform(-1, 1) as in the authors' code (``noise='normal'`` draws
z ~ N(0, I) instead); ``noise_scale`` multiplies z (1 = the authors'). The generator's
input is ``[z, one_hot(c_cat), c_cont]``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError, is_number
from jaxgen.models.layers import compiled


NOISE = {
    'uniform': lambda key, shape: jax.random.uniform(key, shape, jnp.float32, -1.0, 1.0),
    'normal': lambda key, shape: jax.random.normal(key, shape, jnp.float32),
}


@dataclasses.dataclass(frozen=True)
class LatentCodes:
    noise_dim: int = 62
    categorical: tuple[int, ...] = (10,)
    continuous: int = 0
    noise: str = 'uniform'
    noise_scale: float = 1.0

    def __post_init__(self):
        if not is_number(self.noise_scale) or not self.noise_scale > 0:
            raise JaxgenError(f'noise_scale multiplies the noise z and must be a number > 0; '
                              f'got {self.noise_scale!r}')
        if self.noise not in NOISE:
            raise JaxgenError(f'unknown noise distribution {self.noise!r}; choose one of '
                              f'{sorted(NOISE)}')
        if self.noise_dim < 0 or self.continuous < 0 or any(k < 2 for k in self.categorical):
            raise JaxgenError(
                f'bad latent codes: noise_dim={self.noise_dim}, categorical={self.categorical}, '
                f'continuous={self.continuous}; need noise_dim >= 0, continuous >= 0 and '
                'every categorical code with at least 2 categories')

    @property
    def input_dim(self) -> int:
        return self.noise_dim + sum(self.categorical) + self.continuous

    @compiled(1)
    def sample(self, key: jax.Array, num: int) -> dict[str, jax.Array]:
        """``{'z': [n, noise], 'cat': [n, n_cat] int32, 'cont': [n, n_cont]}``."""
        kz, kc, ku = jax.random.split(key, 3)
        cat_keys = jax.random.split(kc, max(1, len(self.categorical)))
        cat = [jax.random.randint(k_, (num,), 0, k) for k_, k in zip(cat_keys, self.categorical)]
        return {
            'z': self.noise_scale * NOISE[self.noise](kz, (num, self.noise_dim)),
            'cat': (jnp.stack(cat, axis=1) if cat else jnp.zeros((num, 0), jnp.int32)),
            'cont': jax.random.uniform(ku, (num, self.continuous), jnp.float32, -1.0, 1.0),
        }

    def to_input(self, codes: Mapping[str, jax.Array]) -> jax.Array:
        """The generator input ``[z, one_hot(c_1), ..., c_cont]``."""
        one_hots = [jax.nn.one_hot(codes['cat'][:, i], k, dtype=jnp.float32)
                    for i, k in enumerate(self.categorical)]
        return jnp.concatenate([codes['z'], *one_hots, codes['cont']], axis=1)

    def categorical_entropy(self) -> float:
        """H(c_cat) in nats: ``sum log k``; ln 10 ~ 2.303 for one Cat(10)."""
        return float(sum(math.log(k) for k in self.categorical))

    def continuous_entropy(self) -> float:
        """Differential entropy of the Uniform(-1, 1) codes: ``n log 2``."""
        return self.continuous * math.log(2.0)
