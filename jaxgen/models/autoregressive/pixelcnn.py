"""PixelCNN (van den Oord et al., 2016, section 3.4 and Figure 5): a 7x7 mask-A
convolution, residual blocks (ReLU, 1x1 to h, ReLU, 3x3 mask B, ReLU, 1x1 to 2h, added
back), and a head of two 1x1 mask-B layers.

Two samplers draw the same images from one key. The naive one runs the whole network
for every dimension. The cached one (``config.model.sampler='cached'``) keeps each
block's 3x3 input map and computes every layer at the new pixel's position only: every
layer at pixel p reads layers below it at pixels up to p, which are then final, so
each activation is computed once (C times for C colours) instead of H x W times.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgen.errors import JaxgenError
from jaxgen.models.autoregressive import masks
from jaxgen.models.autoregressive.base import PLAYER, Autoregressive, OUTPUTS, check_data

SAMPLERS = ('cached', 'naive')


class PixelCNNNetwork(nn.Module):
    hidden: int      # h: the residual stream has 2h features
    num_blocks: int
    colours: int
    levels: int      # K logits per dimension
    head: int

    def specs(self) -> dict:
        specs = masks.trunk_specs(self.hidden, self.colours, self.levels, self.head)
        g2h, gh = masks.groups(2 * self.hidden, self.colours), masks.groups(self.hidden,
                                                                            self.colours)
        for k in range(self.num_blocks):
            specs[f'block{k}_in'] = (self.hidden, (1, 1), 'B', g2h, gh)
            specs[f'block{k}_conv'] = (self.hidden, (3, 3), 'B', gh, gh)
            specs[f'block{k}_out'] = (2 * self.hidden, (1, 1), 'B', gh, g2h)
        return specs

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        specs = self.specs()
        s = masks.conv_from(specs, 'input')(x)
        for k in range(self.num_blocks):
            u = nn.relu(masks.conv_from(specs, f'block{k}_in')(nn.relu(s)))
            v = masks.conv_from(specs, f'block{k}_conv')(u)
            s = s + masks.conv_from(specs, f'block{k}_out')(nn.relu(v))
        return masks.head(specs, s, self.colours, self.levels)


@dataclasses.dataclass(frozen=True)
class PixelCNN(Autoregressive):
    cached: bool = True

    @property
    def fast_sampling(self) -> bool:
        return self.cached

    # The cached sampler's carry: the values, the network input padded by 3 (the 7x7
    # convolution's reach) and each block's 3x3 input map padded by 1, filled in as
    # the scan passes every pixel (kept or drawn).
    def start(self, variables, values):
        if not self.cached:
            return values
        n, h, w, c = values.shape
        maps = [jnp.zeros((n, h + 2, w + 2, self.network.hidden), jnp.float32)
                for _ in range(self.network.num_blocks)]
        return values, jnp.zeros((n, h + 6, w + 6, c), jnp.float32), maps

    def step_logits(self, variables, carry, d):
        if not self.cached:
            return super().step_logits(variables, carry, d)
        values, x, maps = carry
        net, params = self.network, variables[PLAYER]['params']
        specs = net.specs()
        _, w, c = self.shape
        i, j = d // (w * c), d // c % w

        def at(name, window):  # one layer at pixel (i, j) from its input window
            _, size, kind, in_groups, out_groups = specs[name]
            kernel = params[name]['kernel'] * masks.mask(size, in_groups, out_groups, kind)
            return jnp.einsum('bhwc,hwcf->bf', window, kernel) + params[name]['bias']

        window = lambda a, size: lax.dynamic_slice(
            a, (0, i, j, 0), (a.shape[0], size, size, a.shape[-1]))
        s = at('input', window(x, 7))
        new_maps = []
        for k, m in enumerate(maps):
            u = nn.relu(at(f'block{k}_in', nn.relu(s)[:, None, None]))
            m = lax.dynamic_update_slice(m, u[:, None, None], (0, i + 1, j + 1, 0))
            new_maps.append(m)
            v = at(f'block{k}_conv', window(m, 3))
            s = s + at(f'block{k}_out', nn.relu(v)[:, None, None])
        y = at('head_hidden', nn.relu(s)[:, None, None])
        y = at('head_out', nn.relu(y)[:, None, None])
        return y.reshape(-1, c, net.levels)[:, d % c], (values, x, new_maps)

    def write(self, variables, carry, d, value):
        if not self.cached:
            return super().write(variables, carry, d, value)
        values, x, maps = carry
        _, w, c = self.shape
        i, j, ch = d // (w * c), d // c % w, d % c
        values = super().write(variables, values, d, value)
        x = x.at[:, i + 3, j + 3, ch].set(self.network_input(value))
        return values, x, maps

    def current(self, carry):
        return carry[0] if self.cached else carry


def build(model_config, data_info) -> PixelCNN:
    output = model_config.output
    check_data('pixelcnn', output, data_info)
    colours = int(data_info['shape'][-1])
    hidden, head = int(model_config.features), int(model_config.head)
    masks.check_groups('pixelcnn', colours, features=hidden, head=head)
    if model_config.sampler not in SAMPLERS:
        raise JaxgenError(f'unknown config.model.sampler {model_config.sampler!r}; choose '
                          f'one of {", ".join(SAMPLERS)}')
    if int(model_config.num_layers) < 0:
        raise JaxgenError('config.model.num_layers (residual blocks) must be >= 0')
    network = PixelCNNNetwork(hidden=hidden, num_blocks=int(model_config.num_layers),
                              colours=colours, levels=OUTPUTS[output], head=head)
    return PixelCNN(network=network, output=output, name='pixelcnn', data_info=data_info,
                    cached=model_config.sampler == 'cached')
