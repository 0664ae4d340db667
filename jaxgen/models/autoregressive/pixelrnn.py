"""PixelRNN (van den Oord et al., 2016): Row LSTM and Diagonal BiLSTM layers between a
7x7 mask-A convolution and the output head, each layer's output added back to its
input through a 1x1 mask-B convolution (residual connections, section 3.3).

* Row LSTM (section 3.1): a masked 3x1 input-to-state convolution along the row, and
  a 3x1 state-to-state convolution over the previous row's hidden state; one LSTM
  step per row.
* Diagonal BiLSTM (section 3.2): the map is skewed (row i shifted right by i), a 1x1
  masked input-to-state convolution and a 2x1 state-to-state convolution over the
  previous column of the skewed map (the pixels left of and above each pixel); one
  LSTM step per diagonal. The right-to-left direction runs on the mirrored map and
  its output is shifted down by one row before the two are added, so that no pixel
  sees the pixels to its right in its own row.

``config.model.layer`` picks ``row_lstm`` or ``diagonal_bilstm``.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgen.errors import JaxgenError
from jaxgen.models.autoregressive import masks
from jaxgen.models.autoregressive.base import Autoregressive, OUTPUTS, check_data

LAYERS = ('row_lstm', 'diagonal_bilstm')


def lstm_scan(gates_in: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
    """An LSTM over axis 1 of ``gates_in`` ``[B, T, N, 4h]`` (input-to-state gates for
    N positions per step), whose state-to-state convolution along N is ``kernel``
    ``[k, h, 4h]``: taps ``k - 1 .. 0`` positions back (k = 2, the Diagonal BiLSTM) or
    centred (k = 3, the Row LSTM)."""
    b, _, n, four_h = gates_in.shape
    h_dim = four_h // 4
    size = kernel.shape[0]
    pads = (1, 1) if size == 3 else (size - 1, 0)

    def step(carry, g_in):
        h, c = carry
        hp = jnp.pad(h, ((0, 0), pads, (0, 0)))
        ss = sum(jnp.einsum('bnh,hf->bnf', hp[:, t:t + n], kernel[t]) for t in range(size))
        o, f, i, g = jnp.split(ss + bias + g_in, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    zeros = jnp.zeros((b, n, h_dim), gates_in.dtype)
    _, hs = lax.scan(step, (zeros, zeros), jnp.moveaxis(gates_in, 1, 0))
    return jnp.moveaxis(hs, 0, 1)  # [B, T, N, h]


class LSTMLayer(nn.Module):
    """The parts both LSTM layers share: a masked input-to-state convolution of
    ``input_kernel`` to the four gates, and a state-to-state kernel of ``taps``."""
    hidden: int
    colours: int
    input_kernel: tuple[int, int] = (1, 3)
    taps: int = 3

    def parts(self, s: jax.Array):
        h = self.hidden
        gates = masks.masked(4 * h, self.input_kernel, 'B', masks.groups(2 * h, self.colours),
                             masks.groups(4 * h, self.colours, blocks=4), 'input_to_state')(s)
        kernel = self.param('state_to_state', nn.initializers.lecun_normal(),
                            (self.taps, h, 4 * h))
        bias = self.param('state_bias', nn.initializers.zeros_init(), (4 * h,))
        return gates, kernel, bias


class RowLSTM(LSTMLayer):
    @nn.compact
    def __call__(self, s: jax.Array) -> jax.Array:
        return lstm_scan(*self.parts(s))  # rows are the steps


class DiagonalLSTM(LSTMLayer):
    """One direction: left to right over the diagonals of the skewed map."""
    input_kernel: tuple[int, int] = (1, 1)
    taps: int = 2

    @nn.compact
    def __call__(self, s: jax.Array) -> jax.Array:
        gates, kernel, bias = self.parts(s)
        skewed = jnp.swapaxes(masks.skew(gates), 1, 2)        # [B, W + H - 1, H, 4h]
        out = jnp.swapaxes(lstm_scan(skewed, kernel, bias), 1, 2)
        return masks.unskew(out, s.shape[2])


class DiagonalBiLSTM(nn.Module):
    hidden: int
    colours: int

    @nn.compact
    def __call__(self, s: jax.Array) -> jax.Array:
        left = DiagonalLSTM(self.hidden, self.colours, name='left_to_right')(s)
        right = DiagonalLSTM(self.hidden, self.colours, name='right_to_left')(s[:, :, ::-1])
        right = jnp.pad(right[:, :-1, ::-1], ((0, 0), (1, 0), (0, 0), (0, 0)))  # down a row
        return left + right


class PixelRNNNetwork(nn.Module):
    layer: str
    hidden: int
    num_layers: int
    colours: int
    levels: int
    head: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h, colours = self.hidden, self.colours
        specs = masks.trunk_specs(h, colours, self.levels, self.head)
        s = masks.conv_from(specs, 'input')(x)
        cell = RowLSTM if self.layer == 'row_lstm' else DiagonalBiLSTM
        for k in range(self.num_layers):
            out = cell(h, colours, name=f'{self.layer}{k}')(s)
            s = s + masks.masked(2 * h, (1, 1), 'B', masks.groups(h, colours),
                                 masks.groups(2 * h, colours), f'residual{k}')(out)
        return masks.head(specs, s, colours, self.levels)


class PixelRNN(Autoregressive):
    """Naive sampling: the whole network for every dimension, in one ``lax.scan``."""


def build(model_config, data_info) -> PixelRNN:
    output = model_config.output
    check_data('pixelrnn', output, data_info)
    if model_config.layer not in LAYERS:
        raise JaxgenError(f'unknown config.model.layer {model_config.layer!r}; choose one of '
                          f'{", ".join(LAYERS)}')
    colours = int(data_info['shape'][-1])
    hidden, head = int(model_config.features), int(model_config.head)
    masks.check_groups('pixelrnn', colours, features=hidden, head=head)
    if int(model_config.num_layers) < 1:
        raise JaxgenError('config.model.num_layers (LSTM layers) must be >= 1')
    network = PixelRNNNetwork(layer=model_config.layer, hidden=hidden,
                              num_layers=int(model_config.num_layers), colours=colours,
                              levels=OUTPUTS[output], head=head)
    return PixelRNN(network=network, output=output, name=model_config.layer,
                    data_info=data_info)
