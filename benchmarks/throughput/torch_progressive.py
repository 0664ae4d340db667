"""The PyTorch reference for the throughput benchmark's Progressive GAN and StyleGAN,
eager, at the final resolution (no fade-in: ``grow=0``'s networks) as ``configs/progan.py``
and ``configs/stylegan.py`` set them (with ``run.py``'s overrides: the widths follow
``config.model``), written after tkarras/progressive_growing_of_gans ``networks.py``
and NVlabs/stylegan ``training/networks_stylegan.py`` with jaxgen's layer shapes
(``jaxgen/models/progressive``, ``jaxgen/models/layers/equalized.py`` and ``style.py``;
``run.py`` asserts equal parameter counts per network, and the parameter names mirror
jaxgen's, so ``load_flax`` copies jaxgen's weights in):

* equalised learning rate: weights N(0, 1 / lr multiplier), multiplied at run time by
  ``gain / sqrt(fan_in) * lr multiplier``, biases by the lr multiplier;
* ProGAN G: pixel-normalised z, a dense layer to 4x4 (gain sqrt(2) / 4), two 3x3 convs
  per resolution after nearest upsampling, leaky ReLU 0.2 and pixel norm after each, a
  1x1 ``to_rgb``; D: 1x1 ``from_rgb``, two 3x3 convs and 2x2 average pooling per
  resolution, minibatch stddev (group 4), a 3x3 conv and two dense layers;
* StyleGAN G: the 8-layer mapping (lr multiplier 0.01), a learned 4x4 constant, per
  layer (upsample,) conv, noise with learned per-feature strengths, bias, leaky ReLU and
  AdaIN; style mixing 0.9 (one draw per batch), ``w_avg`` (a buffer) updated by the
  generator's step; D is ProGAN's.

Feature maps, group size, w size, mapping depth, mixing probability and ``w_avg``'s
beta are read from ``config.model``; images NCHW (jaxgen is NHWC; dense layers after a
4x4 map flatten in jaxgen's (H, W, C) order).

Update order, as jaxgen's rules (``alternating`` with ``d_steps`` 1; ``phased`` D, G,
D:r1 every (1, 1, 16)) and the official code: ProGAN steps D on WGAN-GP (lambda 10,
interpolates ~ U(0, 1) per example) plus drift 1e-3 D(x)^2 against a detached fake, then
G (``-D(G(z))``) against the new D; StyleGAN steps D (logistic) against a detached
fake, then G (non-saturating), and on every 16th step (``(step + 1) % 16 == 0``) D on
R1 alone (``gamma * 16 / 2 |grad D(x)|^2`` on the same reals). Each step draws fresh
latents; then G's EMA (0.999). Adam as the config (1e-3, betas (0, 0.99), eps 1e-8),
one per network (D's R1 steps share D's). Batches: uint8 NCHW tensors in memory,
scaled in the step; a step ends reading a loss.
"""

from __future__ import annotations

import copy
import math
import random

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jaxgen.models.progressive.progan import Features, log2_resolution

SQRT2 = math.sqrt(2.0)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def pixel_norm(x: torch.Tensor, epsilon: float = 1e-8) -> torch.Tensor:
    """Each feature vector (dim 1) divided by its root mean square."""
    return x * torch.rsqrt(x.square().mean(1, keepdim=True) + epsilon)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """jaxgen's ``minibatch_stddev``: example ``g * M + m`` is in group ``m``."""
    n, _, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, n // g, *x.shape[1:])
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean((1, 2, 3)).repeat(g)
    return torch.cat([x, y[:, None, None, None].expand(n, 1, h, w)], 1)


def upscale2d(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode='nearest')


class EqualDense(nn.Module):
    """``x @ (W * gain / sqrt(fan_in) * lr_mul) + b * lr_mul``, W ~ N(0, 1 / lr_mul)."""

    def __init__(self, fan_in: int, features: int, gain: float = SQRT2,
                 lr_multiplier: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, fan_in) / lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(features))
        self.scale, self.lr_multiplier = gain / math.sqrt(fan_in) * lr_multiplier, lr_multiplier

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_multiplier)


class EqualConv(nn.Module):
    """A square stride-1 'same' convolution with the run-time He scale."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, gain: float = SQRT2,
                 bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.padding = gain / math.sqrt(cin * kernel * kernel), kernel // 2

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class Named(nn.Module):
    """Submodules registered under jaxgen's layer names (``add`` returns the module)."""

    def add(self, name: str, module: nn.Module) -> nn.Module:
        self.add_module(name, module)
        return module


class ProGenerator(Named):
    """z ``[B, latent]`` -> images ``[B, C, R, R]``."""

    def __init__(self, latent_dim: int, resolution: int, channels: int, nf: Features):
        super().__init__()
        top = log2_resolution(resolution)
        self.width = nf(1)
        self.add('dense_4', EqualDense(latent_dim, nf(1) * 16, gain=SQRT2 / 4))
        self.convs = [self.add('conv_4', EqualConv(nf(1), nf(1)))]
        for r in range(3, top + 1):
            self.convs += [self.add(f'conv0_{2 ** r}', EqualConv(nf(r - 2), nf(r - 1))),
                           self.add(f'conv1_{2 ** r}', EqualConv(nf(r - 1), nf(r - 1)))]
        self.to_rgb = self.add(f'to_rgb_{resolution}', EqualConv(nf(top - 1), channels, 1,
                                                                 gain=1.0))

    def forward(self, z):
        h = self.dense_4(pixel_norm(z)).reshape(z.shape[0], 4, 4, self.width)
        h = pixel_norm(lrelu(h.permute(0, 3, 1, 2)))
        for i, conv in enumerate(self.convs):
            h = pixel_norm(lrelu(conv(upscale2d(h) if i % 2 else h)))
        return self.to_rgb(h)


class ProDiscriminator(Named):
    """images ``[B, C, R, R]`` -> logits ``[B]``."""

    def __init__(self, resolution: int, channels: int, nf: Features, group_size: int = 4):
        super().__init__()
        top, self.group_size = log2_resolution(resolution), group_size
        self.from_rgb = self.add(f'from_rgb_{resolution}', EqualConv(channels, nf(top - 1), 1))
        self.blocks = [(self.add(f'conv0_{2 ** r}', EqualConv(nf(r - 1), nf(r - 1))),
                        self.add(f'conv1_{2 ** r}', EqualConv(nf(r - 1), nf(r - 2))))
                       for r in range(top, 2, -1)]
        self.add('conv_4', EqualConv(nf(1) + 1, nf(1)))
        self.add('dense0_4', EqualDense(nf(1) * 16, nf(0)))
        self.add('dense1_4', EqualDense(nf(0), 1, gain=1.0))

    def forward(self, x):
        h = lrelu(self.from_rgb(x))
        for conv0, conv1 in self.blocks:
            h = F.avg_pool2d(lrelu(conv1(lrelu(conv0(h)))), 2)
        h = lrelu(self.conv_4(minibatch_stddev(h, self.group_size)))
        h = lrelu(self.dense0_4(h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)))
        return self.dense1_4(h)[:, 0]


class Mapping(Named):
    """z -> w: pixel norm, ``layers`` dense layers with the lr multiplier, leaky ReLU."""

    def __init__(self, latent_dim: int, w_dim: int, layers: int, lr_multiplier: float):
        super().__init__()
        self.dense = [self.add(f'dense_{i}', EqualDense(latent_dim if i == 0 else w_dim, w_dim,
                                                        lr_multiplier=lr_multiplier))
                      for i in range(layers)]

    def forward(self, z):
        h = pixel_norm(z)
        for dense in self.dense:
            h = lrelu(dense(h))
        return h


class Noise(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(features))


class AdaIN(nn.Module):
    def __init__(self, w_dim: int, features: int):
        super().__init__()
        self.style = EqualDense(w_dim, 2 * features, gain=1.0)

    def forward(self, x, w):
        x = x - x.mean((2, 3), keepdim=True)
        x = x * torch.rsqrt(x.square().mean((2, 3), keepdim=True) + 1e-8)
        scale, bias = self.style(w)[:, :, None, None].chunk(2, 1)
        return x * (scale + 1.0) + bias


class StyleLayer(nn.Module):
    """(upsample,) conv (none on the constant's first layer), noise, bias, leaky ReLU, AdaIN."""

    def __init__(self, cin: int, features: int, w_dim: int, upsample: bool, conv: bool):
        super().__init__()
        self.upsample = upsample
        self.conv = EqualConv(cin, features, 3, bias=False) if conv else None
        self.noise = Noise(features)
        self.bias = nn.Parameter(torch.zeros(features))
        self.adain = AdaIN(w_dim, features)

    def forward(self, x, w, noise):
        x = upscale2d(x) if self.upsample else x
        x = self.conv(x) if self.conv is not None else x
        x = x + noise * self.noise.strength[:, None, None]
        return self.adain(lrelu(x + self.bias[:, None, None]), w)


class StyleGenerator(Named):
    """z ``[B, latent]`` -> images ``[B, C, R, R]``; style mixing in train mode."""

    def __init__(self, latent_dim: int, resolution: int, channels: int, nf: Features,
                 model_config):
        super().__init__()
        m, top = model_config, log2_resolution(resolution)
        self.num_layers = 2 * top - 2
        self.mixing, self.beta = m.style_mixing, m.w_avg_beta
        self.mapping = Mapping(latent_dim, m.w_dim, m.mapping_layers, m.mapping_lr)
        self.const = nn.Parameter(torch.ones(1, 4, 4, nf(1)))  # NHWC, as jaxgen's
        self.register_buffer('w_avg', torch.zeros(m.w_dim))
        self.layers = [self.add(f'layer{i % 2}_{2 ** (i // 2 + 2)}', StyleLayer(
            nf(max(i - 1, 0) // 2 + 1), nf(i // 2 + 1), m.w_dim, i >= 2 and i % 2 == 0, i > 0))
            for i in range(self.num_layers)]
        self.to_rgb = self.add(f'to_rgb_{resolution}', EqualConv(nf(top - 1), channels, 1,
                                                                 gain=1.0))

    def forward(self, z, update_w_avg: bool = False, noise_scale: float = 1.0):
        w = self.mapping(z)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.lerp_(w.mean(0), 1.0 - self.beta)
        ws = [w] * self.num_layers
        if self.training and self.mixing > 0:
            w2 = self.mapping(torch.randn_like(z))
            cutoff = (random.randint(1, self.num_layers - 1) if random.random() < self.mixing
                      else self.num_layers)
            ws = [w if i < cutoff else w2 for i in range(self.num_layers)]
        # a copy, not a view: a view of a parameter made under no_grad (D's step) has
        # no grad_fn, which FlopCounterMode's module hooks (run.py) refuse
        h = self.const.permute(0, 3, 1, 2).repeat(z.shape[0], 1, 1, 1)
        for i, layer in enumerate(self.layers):
            res = 2 ** (i // 2 + 2)
            noise = torch.randn(z.shape[0], 1, res, res, device=z.device) * noise_scale
            h = layer(h, ws[i], noise)
        return self.to_rgb(h)


def load_flax(module: nn.Module, params) -> None:
    """Copies jaxgen's parameters (a Flax tree) into ``module``, whose parameter paths
    mirror them (``weight`` for ``kernel``: HWIO -> OIHW, (in, out) -> (out, in))."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            *path, leaf = name.split('.')
            value = params
            for key in path:
                value = value[key]
            value = np.asarray(value['kernel' if leaf == 'weight' else leaf])
            if leaf == 'weight':
                value = value.transpose(3, 2, 0, 1) if value.ndim == 4 else value.T
            assert value.shape == p.shape, (name, value.shape, p.shape)
            p.copy_(torch.from_numpy(np.array(value, np.float32)))


def _adam(module: nn.Module, c) -> torch.optim.Adam:
    return torch.optim.Adam(module.parameters(), lr=c.learning_rate, betas=(c.b1, c.b2),
                            eps=c.get('eps', 1e-8))


def _requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def _input_grads(d: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``|grad_x sum D(x)|^2`` per example, differentiable (for a penalty). D reads a
    view of ``x``: the module hooks of ``FlopCounterMode`` (run.py) fail on a leaf input."""
    x = x.detach().requires_grad_(True)
    grads, = torch.autograd.grad(d(x.view_as(x)).sum(), x, create_graph=True)
    return grads.square().sum((1, 2, 3))


class ProgressiveStep:
    """Seeds, data, initialised ``players`` (jaxgen's names), their Adams and G's EMA."""

    def __init__(self, images: torch.Tensor, batch_size: int, config, device: str,
                 generator: nn.Module, discriminator: nn.Module):
        self.batch_size, self.device = batch_size, device
        self.a = images.to(device)
        self.factor = images.shape[2] // config.model.resolution
        self.latent_dim = config.model.latent_dim
        self.players = {'generator': generator, 'discriminator': discriminator}
        self.input_shapes = {'generator': (self.latent_dim,),
                             'discriminator': (images.shape[1],) + (config.model.resolution,) * 2}
        for m in self.players.values():
            m.to(device).train()
        self.g, self.d = generator, discriminator
        self.opt_g = _adam(generator, config.optimizers.generator)
        self.opt_d = _adam(discriminator, config.optimizers.discriminator)
        self.ema = copy.deepcopy(generator).eval()
        _requires_grad(self.ema, False)
        self.decay = config.ema.decay
        self.rng = torch.Generator(device).manual_seed(config.seed)
        self.steps = 0

    def reals(self) -> torch.Tensor:
        idx = torch.randint(0, self.a.shape[0], (self.batch_size,), generator=self.rng,
                            device=self.device)
        x = self.a[idx].float().div_(127.5).sub_(1.0)
        return F.avg_pool2d(x, self.factor) if self.factor > 1 else x

    def latents(self) -> torch.Tensor:
        return torch.randn(self.batch_size, self.latent_dim, device=self.device)

    def step_g(self, loss_fn, **g_kwargs) -> None:
        """G against the current D (frozen), then G's EMA."""
        _requires_grad(self.d, False)
        self.opt_g.zero_grad(set_to_none=True)
        loss_fn(self.d(self.g(self.latents(), **g_kwargs))).backward()
        self.opt_g.step()
        _requires_grad(self.d, True)

    def update_ema(self) -> None:
        with torch.no_grad():
            torch._foreach_lerp_(list(self.ema.parameters()), list(self.g.parameters()),
                                 1.0 - self.decay)
        self.steps += 1


def _seeded(config) -> Features:
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    return Features(config.model.fmap_base, config.model.fmap_max)


class ProGANStep(ProgressiveStep):
    """D on WGAN-GP + drift, then G, then G's EMA."""

    def __init__(self, images: torch.Tensor, batch_size: int, config, device: str = 'cpu'):
        nf, m = _seeded(config), config.model
        channels = images.shape[1]
        super().__init__(images, batch_size, config, device,
                         ProGenerator(m.latent_dim, m.resolution, channels, nf),
                         ProDiscriminator(m.resolution, channels, nf, m.group_size))
        o = config.objective
        self.gradient_penalty, self.drift = o.gradient_penalty, o.drift

    def __call__(self) -> float:
        real = self.reals()
        with torch.no_grad():
            fake = self.g(self.latents())
        self.opt_d.zero_grad(set_to_none=True)
        real_logits = self.d(real)
        mix = torch.rand(self.batch_size, 1, 1, 1, device=self.device)
        norms = _input_grads(self.d, mix * real + (1.0 - mix) * fake).add(1e-12).sqrt()
        d_loss = (self.d(fake).mean() - real_logits.mean()
                  + self.gradient_penalty * (norms - 1.0).square().mean()
                  + self.drift * real_logits.square().mean())
        d_loss.backward()
        self.opt_d.step()
        self.step_g(lambda logits: -logits.mean())
        self.update_ema()
        return float(d_loss.detach())


class StyleGANStep(ProgressiveStep):
    """D (logistic), G (non-saturating, style mixing, w_avg), lazy R1 on D, G's EMA."""

    def __init__(self, images: torch.Tensor, batch_size: int, config, device: str = 'cpu'):
        nf, m = _seeded(config), config.model
        channels = images.shape[1]
        super().__init__(images, batch_size, config, device,
                         StyleGenerator(m.latent_dim, m.resolution, channels, nf, m),
                         ProDiscriminator(m.resolution, channels, nf, m.group_size))
        self.r1, self.r1_every = config.objective.r1, config.objective.r1_every

    def __call__(self) -> float:
        real = self.reals()
        with torch.no_grad():
            fake = self.g(self.latents())
        self.opt_d.zero_grad(set_to_none=True)
        d_loss = F.softplus(-self.d(real)).mean() + F.softplus(self.d(fake)).mean()
        d_loss.backward()
        self.opt_d.step()
        self.step_g(lambda logits: F.softplus(-logits).mean(), update_w_avg=True)
        if (self.steps + 1) % self.r1_every == 0:
            self.opt_d.zero_grad(set_to_none=True)
            r1 = 0.5 * _input_grads(self.d, real).mean() * (self.r1 * self.r1_every)
            r1.backward()
            self.opt_d.step()
        self.update_ema()
        return float(d_loss.detach())


STEPS = {'progan': ProGANStep, 'stylegan': StyleGANStep}
