"""The bundle every autoregressive model shares: one player, the exact likelihood,
and sampling and completion compiled end to end as one ``lax.scan`` over the pixels.

A network maps the images' network input ``[B, H, W, C]`` to logits ``[B, H, W,
C, K]``: K = 1 (a Bernoulli logit, binarised data) or K = 256 (a softmax over the
8-bit values). Dimension d (raster order, then colour) is drawn with the key
``fold_in(key, d)``, so every sampler of one model draws the same images from one key.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.models.bundle import check_inputs, unconditional
from jaxgen.models.layers import compiled

OUTPUTS = {'bernoulli': 1, 'categorical': 256}
PLAYER = 'model'


def log_prob_from_logits(logits: jax.Array, values: jax.Array) -> jax.Array:
    """``log p(x)`` per image: logits ``[B, ..., K]`` against integer values ``[B, ...]``."""
    if logits.shape[-1] == 1:
        l, x = logits[..., 0], values.astype(logits.dtype)
        ll = -x * jax.nn.softplus(-l) - (1.0 - x) * jax.nn.softplus(l)
    else:
        ll = jnp.take_along_axis(jax.nn.log_softmax(logits), values[..., None], -1)[..., 0]
    return ll.reshape(ll.shape[0], -1).sum(-1)


def draw(key: jax.Array, d, logits: jax.Array) -> jax.Array:
    """Dimension ``d`` of every image from its logits ``[B, K]``, with ``fold_in(key, d)``."""
    k = jax.random.fold_in(key, d)
    if logits.shape[-1] == 1:
        return (jax.random.uniform(k, logits.shape[:1]) < jax.nn.sigmoid(logits[:, 0])
                ).astype(jnp.int32)
    return jax.random.categorical(k, logits).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class Autoregressive:
    """``network`` (the one player, ``model``) with a Bernoulli or 256-way output."""
    network: nn.Module
    output: str
    name: str
    data_info: Mapping[str, Any]

    @property
    def players(self) -> dict[str, nn.Module]:
        return {PLAYER: self.network}

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.data_info['shape'])

    @property
    def fast_sampling(self) -> bool:
        """Whether drawing a dimension costs less than a pass of the whole network."""
        return False

    @property
    def levels(self) -> int:
        return 2 if self.output == 'bernoulli' else 256

    @property
    def num_dims(self) -> int:
        return math.prod(self.shape)

    def order(self) -> np.ndarray:
        """The flat (raster, then colour) index of the d-th dimension drawn."""
        return np.arange(self.num_dims)

    @compiled()
    def init(self, key: jax.Array) -> dict:
        return {PLAYER: self.network.init(key, jnp.zeros((1, *self.shape), jnp.float32))}

    # -- data: floats in the data's scale <-> integer values <-> network input --------
    def values(self, images: jax.Array) -> jax.Array:
        """Integer values ``[B, H, W, C]`` (0/1, or 0..255) of images in the data's scale."""
        if self.output == 'bernoulli':
            return jnp.round(images).astype(jnp.int32)
        if self.data_info.get('scale') == 'unit':
            return jnp.round(images * 255.0).astype(jnp.int32)
        return jnp.round((images + 1.0) * 127.5).astype(jnp.int32)

    def images(self, values: jax.Array) -> jax.Array:
        """The inverse of :meth:`values`: floats in the data's scale."""
        v = values.astype(jnp.float32)
        if self.output == 'bernoulli':
            return v
        return v / 255.0 if self.data_info.get('scale') == 'unit' else v / 127.5 - 1.0

    def network_input(self, values: jax.Array) -> jax.Array:
        v = values.astype(jnp.float32)
        return v if self.output == 'bernoulli' else v / 127.5 - 1.0

    def logits(self, variables, values: jax.Array) -> jax.Array:
        """``[B, H, W, C, K]`` conditional logits of every dimension."""
        return self.network.apply(dict(variables[PLAYER]), self.network_input(values))

    def log_likelihood(self, variables, values: jax.Array, key=None) -> jax.Array:
        del key
        return log_prob_from_logits(self.logits(variables, values), values)

    def forward(self, variables, batch, key, train: bool = True) -> tuple[dict, dict]:
        values = self.values(batch['image'])
        return ({'log_prob': self.log_likelihood(variables, values, key if train else None),
                 'num_dims': self.num_dims},
                {PLAYER: {k: v for k, v in variables[PLAYER].items() if k != 'params'}})

    # -- host-side checks and the exact likelihood --------------------------------------
    def check_images(self, images) -> np.ndarray:
        """``images`` as float32, or a one-line error for data this model cannot take."""
        x = np.asarray(images, np.float32)
        if x.ndim != 4 or tuple(x.shape[1:]) != self.shape:
            raise JaxgenError(f'{self.name} was built for images of shape {self.shape} '
                              f'(H, W, C); got an array of shape {x.shape}')
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        if self.output == 'bernoulli' and not binary:
            raise JaxgenError(f'{self.name} has a Bernoulli output and needs binary pixels '
                              '(0 or 1); binarise the data (config.data.binarize)')
        if self.output == 'categorical' and binary and self.data_info.get('scale') == 'unit':
            raise JaxgenError(f'{self.name} has a 256-way output and was given binarised '
                              'pixels (only 0 and 1); give it the 8-bit images')
        return x

    @functools.cached_property
    def _log_prob_jit(self):
        return jax.jit(lambda v, x: self.log_likelihood(v, self.values(x)))

    def log_prob(self, variables, images) -> jax.Array:
        """``log p(x)`` in nats per image (checked on the host first)."""
        return self._log_prob_jit(variables, jnp.asarray(self.check_images(images)))

    # -- sampling -----------------------------------------------------------------------
    def step_logits(self, variables, carry, d):
        """``(logits [B, K] of dimension d, carry)``: naive, the whole network again."""
        flat = self.logits(variables, carry).reshape(carry.shape[0], -1, OUTPUTS[self.output])
        return flat[:, d], carry

    def start(self, variables, values: jax.Array):
        """The sampler's carry, starting from the values ``[N, H, W, C]``."""
        del variables
        return values

    def write(self, variables, carry, d, value):
        """The carry with dimension ``d`` set to ``value`` ``[N]``."""
        del variables
        b = carry.shape[0]
        return carry.reshape(b, -1).at[:, d].set(value).reshape(carry.shape)

    def current(self, carry) -> jax.Array:
        """The values ``[N, H, W, C]`` in the carry."""
        return carry

    def scan(self, variables, values: jax.Array, key: jax.Array, first) -> jax.Array:
        """Every dimension in ``order()``, one after another: the first ``first`` (a
        traced number) kept as they are in ``values``, the others drawn."""
        order = jnp.asarray(self.order())

        def step(carry, t):
            d = order[t]
            logits, carry = self.step_logits(variables, carry, d)
            kept = self.current(carry).reshape(logits.shape[0], -1)[:, d]
            value = jnp.where(t < first, kept, draw(key, d, logits))
            return self.write(variables, carry, d, value), None

        carry, _ = lax.scan(step, self.start(variables, values), jnp.arange(self.num_dims))
        return self.current(carry)

    @compiled()
    def draw_from(self, variables, values: jax.Array, key: jax.Array, first) -> jax.Array:
        """Images whose first ``first`` dimensions are those of ``values``, the rest drawn:
        samples and completions are one compiled program (per number of images)."""
        return self.images(self.scan(variables, values, key, first))

    def sample(self, variables, key: jax.Array, num: int) -> jax.Array:
        """``num`` images drawn pixel by pixel, in the data's scale."""
        values = jnp.zeros((num, *self.shape), jnp.int32)
        return self.draw_from(variables, values, key, jnp.int32(0))

    def complete(self, variables, images, known, key) -> jax.Array:
        """Draws the unknown pixels of ``images`` given the known ones; ``known`` (``[H, W]``
        or ``[H, W, C]``, shared by all images) must be a prefix in the model's order."""
        x = self.check_images(images)
        k = np.broadcast_to(np.asarray(known, bool).reshape(
            np.shape(known) + (1,) * (3 - np.ndim(known))), self.shape).reshape(-1)
        first = int(k.sum())
        if not (k[self.order()] == (np.arange(self.num_dims) < first)).all():
            raise JaxgenError(f'{self.name}: the known pixels of a completion must be a prefix '
                              'in the model\'s pixel order (raster order, colours R, G, B '
                              'within a pixel), e.g. the upper rows')
        return self.draw_from(variables, self.values(jnp.asarray(x)), key, jnp.int32(first))

    def complete_lower_half(self, variables, images, key) -> jax.Array:
        """The paper's completions: the lower half drawn given the upper half."""
        known = np.arange(self.shape[0]) < self.shape[0] // 2
        return self.complete(variables, images, known[:, None, None], key)

    def generate(self, variables, inputs, key) -> jax.Array:
        """``{'num': n}``: samples; ``{'image': x, 'known': mask}``: completions of x
        (``known`` ``[H, W]`` or ``[H, W, C]``, shared by all; default the upper half)."""
        num = check_inputs({k: v for k, v in inputs.items() if k != 'known'},
                           ('image', 'known'), self.name)
        if unconditional(inputs):
            return self.sample(variables, key, num)
        if 'image' not in inputs:
            raise JaxgenError(f'{self.name}: a completion needs the images (inputs["image"])')
        known = inputs.get('known', np.arange(self.shape[0])[:, None, None]
                           < self.shape[0] // 2)
        return self.complete(variables, inputs['image'], known, key)


def check_data(name: str, output: str, data_info) -> None:
    """One-line errors for data the output cannot model."""
    if output not in OUTPUTS:
        raise JaxgenError(f'unknown config.model.output {output!r}; choose one of '
                          f'{", ".join(OUTPUTS)}')
    if kinds.kind(data_info) != 'images' or len(data_info.get('shape', ())) != 3:
        raise JaxgenError(f'{name} needs images (H, W, C); the dataset holds '
                          f'{kinds.kind(data_info)} of shape {data_info.get("shape")}')
    binarized = bool(data_info.get('binarize'))
    if output == 'bernoulli' and not (binarized and data_info.get('scale') == 'unit'):
        raise JaxgenError(f'{name} with a Bernoulli output needs binary pixels: set '
                          "config.data.binarize='dynamic' and config.data.scale='unit'")
    if output == 'categorical' and binarized:
        raise JaxgenError(f'{name} with a 256-way output needs the 8-bit images, not '
                          'binarised ones: unset config.data.binarize (or use '
                          "config.model.output='bernoulli')")
