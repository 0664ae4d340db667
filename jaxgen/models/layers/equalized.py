"""Progressive GAN's layers (Karras et al., 2018; tkarras/progressive_growing_of_gans
``networks.py``), shared with StyleGAN (NVlabs/stylegan ``networks_stylegan.py``).

* **Equalised learning rate**: weights start from N(0, 1 / lr_multiplier) and are
  multiplied at run time by ``he_scale(fan_in) * lr_multiplier`` (``gain / sqrt(fan_in)``,
  the He constant), so an optimizer whose step does not depend on the gradient's scale
  (Adam) moves every layer's effective weights by the same fraction of their spread,
  whatever the layer's fan-in. Biases start at 0 and are multiplied by lr_multiplier.
* **Pixel-wise feature normalisation**: each pixel's feature vector divided by its
  root mean square (ε 1e-8); applied to latents too.
* **Minibatch standard deviation** (group size 4): the mean over features and pixels
  of each group's per-feature standard deviation, appended as one more feature map.
* Nearest-neighbour upsampling and 2x2 average pooling, the official resamplers.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.models.layers import winograd
from jaxgen.models.layers.conv import cpu_speedups_enabled

SQRT2 = math.sqrt(2.0)


def he_scale(fan_in: int, gain: float = SQRT2) -> float:
    """The He constant ``gain / sqrt(fan_in)`` (``get_weight``'s ``runtime_coef``)."""
    return gain / math.sqrt(fan_in)


def lrelu(x: jax.Array) -> jax.Array:
    return nn.leaky_relu(x, 0.2)


class EqualDense(nn.Module):
    """``x @ (W * he_scale(fan_in) * lr_multiplier) + b * lr_multiplier``, W ~ N(0, 1/lr_mul)."""
    features: int
    gain: float = SQRT2
    lr_multiplier: float = 1.0
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        kernel = self.param('kernel', nn.initializers.normal(1.0 / self.lr_multiplier),
                            (fan_in, self.features))
        y = x @ (kernel * (he_scale(fan_in, self.gain) * self.lr_multiplier))
        if self.use_bias:
            y = y + self.param('bias', nn.initializers.zeros, (self.features,)) \
                * self.lr_multiplier
        return y


class EqualConv(nn.Module):
    """A square stride-1 'SAME' convolution (NHWC) with the run-time He scale. Inside
    ``cpu_speedups(True)`` on a CPU backend a 3x3 float32 layer is
    :func:`jaxgen.models.layers.winograd.conv3x3`: the same values, and Winograd
    gradients."""
    features: int
    kernel_size: int = 3
    gain: float = SQRT2
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        fan_in = k * k * x.shape[-1]
        kernel = self.param('kernel', nn.initializers.normal(1.0),
                            (k, k, x.shape[-1], self.features))
        x, kernel = nn.dtypes.promote_dtype(x, kernel * he_scale(fan_in, self.gain))
        if (cpu_speedups_enabled() and jax.default_backend() == 'cpu'
                and winograd.applies(x, kernel)):
            y = winograd.conv3x3(x, kernel)  # same values; Winograd kernel gradient
        else:
            y = jax.lax.conv_general_dilated(
                x, kernel, (1, 1), 'SAME',
                dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
        if self.use_bias:
            y = y + self.param('bias', nn.initializers.zeros, (self.features,))
        return y


def pixel_norm(x: jax.Array, epsilon: float = 1e-8) -> jax.Array:
    """Each feature vector (last axis) divided by its root mean square."""
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + epsilon)


def minibatch_stddev(x: jax.Array, group_size: int = 4) -> jax.Array:
    """``x`` ``[N, H, W, C]`` with one more feature map: for the group of example ``n``
    (examples ``m, m + M, m + 2M, ...``, ``M = N / G``, as the official reshape to
    ``[G, M, ...]``), the mean over features and pixels of the per-feature standard
    deviation within the group (population, ε 1e-8 under the root)."""
    n, h, w, _ = x.shape
    g = min(group_size, n)
    if n % g:
        raise JaxgenError(f'minibatch standard deviation takes groups of {g}: the batch of '
                          f'{n} does not divide into them; use a batch size divisible by {g}')
    y = x.astype(jnp.promote_types(x.dtype, jnp.float32)).reshape(g, n // g, *x.shape[1:])
    y = jnp.sqrt(jnp.mean(jnp.square(y - jnp.mean(y, axis=0)), axis=0) + 1e-8)
    y = jnp.tile(jnp.mean(y, axis=(1, 2, 3)), g).astype(x.dtype)  # example g*M + m: group m
    return jnp.concatenate([x, jnp.broadcast_to(y[:, None, None, None], (n, h, w, 1))], -1)


def upscale2d(x: jax.Array, factor: int = 2) -> jax.Array:
    """Nearest-neighbour upsampling of ``[N, H, W, C]``."""
    if factor == 1:
        return x
    return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def downscale2d(x: jax.Array, factor: int = 2) -> jax.Array:
    """``factor x factor`` average pooling of ``[N, H, W, C]``."""
    if factor == 1:
        return x
    n, h, w, c = x.shape
    return jnp.mean(x.reshape(n, h // factor, factor, w // factor, factor, c), axis=(2, 4))


def lerp(low: jax.Array, high: jax.Array, alpha) -> jax.Array:
    """``(1 - alpha) * low + alpha * high``: ``low`` exactly at 0, ``high`` exactly at 1."""
    return (1.0 - alpha) * low + alpha * high
