"""NADE (Larochelle & Murray, 2011), with order-agnostic training and ensembles over
orderings (Uria et al., 2014) as options.

    h_d = sigmoid(c + W_{<d} x_{<d}),   p(x_d = 1 | x_{<d}) = sigmoid(b_d + V_d . h_d)

The weights W are shared by all conditionals: the pre-activation ``a_d = c +
sum_{j<d} x_j W_j`` is a running sum, carried by a ``lax.scan`` over the dimensions
(in the likelihood and in the sampler), so a whole pass costs O(HD). Binary images only.

The ordering is fixed (``ordering='raster'``, or ``'random'``: one permutation drawn
from ``ordering_seed``). With ``order_agnostic=True`` every training example is
scored under its own random ordering, and the evaluation averages p(x | ordering)
over ``eval_orderings`` orderings (EoNADE's ensemble; the first is the fixed one).
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgen.errors import JaxgenError
from jaxgen.models.autoregressive.base import (PLAYER, Autoregressive, check_data,
                                               log_prob_from_logits)
from jaxgen.models.layers import compiled

ORDERINGS = ('raster', 'random')


class NADENetwork(nn.Module):
    """Parameters ``W, V [D, H]``, ``b [D]``, ``c [H]``; logits in a given ordering."""
    num_dims: int
    hidden: int

    def setup(self):
        init = nn.initializers.normal(0.01)
        self.w = self.param('W', init, (self.num_dims, self.hidden))
        self.v = self.param('V', init, (self.num_dims, self.hidden))
        self.b = self.param('b', nn.initializers.zeros_init(), (self.num_dims,))
        self.c = self.param('c', nn.initializers.zeros_init(), (self.hidden,))

    def __call__(self, x: jax.Array, order=None) -> jax.Array:
        """Logits ``[B, D]`` of ``x`` ``[B, ...]`` (0/1), dimension ``order[.., t]`` t-th:
        one ``lax.scan`` over the dimensions carrying the pre-activation ``[B, H]`` (on
        a CPU 15 times faster than a cumulative sum over ``[B, D, H]``)."""
        x = x.reshape(x.shape[0], -1).astype(jnp.float32)
        order = jnp.arange(self.num_dims) if order is None else jnp.asarray(order)
        if order.ndim == 1:  # one ordering for all: rows [D, H]
            xo, w, v, b = x[:, order].T, self.w[order], self.v[order], self.b[order]
        else:                # an ordering per example: rows [D, B, H]
            xo = jnp.take_along_axis(x, order, 1).T
            w, v = jnp.swapaxes(self.w[order], 0, 1), jnp.swapaxes(self.v[order], 0, 1)
            b = jnp.take_along_axis(jnp.broadcast_to(self.b, x.shape), order, 1)

        def step(pre, inputs):
            x_d, w_d, v_d = inputs
            return pre + x_d[:, None] * w_d, jnp.sum(jax.nn.sigmoid(pre) * v_d, -1)

        start = jnp.broadcast_to(self.c, (x.shape[0], self.hidden))
        _, logits = lax.scan(step, start, (xo, w, v))
        logits_o = logits.T + b                                   # [B, D] in order
        inverse = jnp.argsort(order, axis=-1)
        if order.ndim == 1:
            return logits_o[:, inverse]
        return jnp.take_along_axis(logits_o, inverse, 1)

    def parts(self):
        return self.w, self.v, self.b, self.c


@dataclasses.dataclass(frozen=True)
class NADE(Autoregressive):
    ordering: tuple[int, ...] = ()
    order_agnostic: bool = False
    eval_orderings: int = 1

    fast_sampling = True  # the running pre-activation

    def order(self) -> np.ndarray:
        return np.asarray(self.ordering)

    def logits(self, variables, values, order=None):
        flat = values.reshape(values.shape[0], -1).astype(jnp.float32)
        order = self.order() if order is None else order
        out = self.network.apply(dict(variables[PLAYER]), flat, jnp.asarray(order))
        return out.reshape(*values.shape, 1)

    def log_likelihood(self, variables, values, key=None):
        """Under the fixed ordering, or with ``order_agnostic`` and a key, each image
        under its own random ordering (training)."""
        order = None
        if self.order_agnostic and key is not None:
            keys = jax.random.split(key, values.shape[0])
            order = jax.vmap(lambda k: jax.random.permutation(k, self.num_dims))(keys)
        return log_prob_from_logits(self.logits(variables, values, order), values)

    def orderings(self, num: int) -> np.ndarray:
        """The ensemble's ``num`` orderings: the fixed one, then seeded permutations."""
        rng = np.random.default_rng(1)
        return np.stack([self.order()] + [rng.permutation(self.num_dims)
                                           for _ in range(num - 1)])

    @compiled(2)
    def ensemble_log_prob(self, variables, images, num: int) -> jax.Array:
        """``log (1/K) sum_k p(x | ordering_k)`` per image (EoNADE)."""
        values = self.values(images)
        lls = lax.map(lambda o: log_prob_from_logits(self.logits(variables, values, o), values),
                      jnp.asarray(self.orderings(num)))  # one ordering at a time
        return jax.nn.logsumexp(lls, 0) - jnp.log(num)

    # The sampler carries the running pre-activation: O(H) per pixel.
    def start(self, variables, values):
        c = self.network.apply(dict(variables[PLAYER]), method='parts')[3]
        return values, jnp.broadcast_to(c, (values.shape[0], c.shape[0]))

    def step_logits(self, variables, carry, d):
        _, v, b, _ = self.network.apply(dict(variables[PLAYER]), method='parts')
        return (b[d] + jax.nn.sigmoid(carry[1]) @ v[d])[:, None], carry

    def write(self, variables, carry, d, value):
        w = self.network.apply(dict(variables[PLAYER]), method='parts')[0]
        values, pre = carry
        values = values.reshape(values.shape[0], -1).at[:, d].set(value).reshape(values.shape)
        return values, pre + value[:, None].astype(jnp.float32) * w[d]

    def current(self, carry):
        return carry[0]


def build(model_config, data_info) -> NADE:
    output = model_config.get('output', 'bernoulli')
    check_data('nade', output, data_info)
    if output != 'bernoulli':
        raise JaxgenError("nade models binary images: set config.model.output='bernoulli'")
    shape = tuple(int(s) for s in data_info['shape'])
    if shape[-1] != 1:
        raise JaxgenError(f'nade models one-channel images; the data has shape {shape}')
    num_dims = int(np.prod(shape))
    if model_config.ordering not in ORDERINGS:
        raise JaxgenError(f'unknown config.model.ordering {model_config.ordering!r}; choose '
                          f'one of {", ".join(ORDERINGS)}')
    ordering = (np.arange(num_dims) if model_config.ordering == 'raster' else
                np.random.default_rng(model_config.ordering_seed).permutation(num_dims))
    if int(model_config.hidden_units) < 1 or int(model_config.eval_orderings) < 1:
        raise JaxgenError('config.model.hidden_units and config.model.eval_orderings must be '
                          '>= 1')
    return NADE(network=NADENetwork(num_dims, int(model_config.hidden_units)), output=output,
                name='nade', data_info=data_info, ordering=tuple(int(i) for i in ordering),
                order_agnostic=bool(model_config.order_agnostic),
                eval_orderings=int(model_config.eval_orderings))
