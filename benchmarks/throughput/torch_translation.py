"""The PyTorch reference for the throughput benchmark's pix2pix and CycleGAN, eager,
as ``configs/pix2pix.py`` and ``configs/cyclegan.py`` set them, written after
junyanz/pytorch-CycleGAN-and-pix2pix (``models/networks.py``, ``util/image_pool.py``,
``optimize_parameters`` of ``pix2pix_model.py`` and ``cycle_gan_model.py``) with
jaxgen's layer shapes (``jaxgen/models/translation``; ``run.py`` asserts equal
parameter counts per network):

* U-Net: reflect-padded 28 -> 32 px (2 a side), 5 levels (64, 128, 256, 512, 512),
  cropped back; dropout 0.5 on the three innermost decoder outputs, the innermost
  included (the official rule leaves none at 32 px); the skip carries the block's
  input before the LeakyReLU (the official in-place ``downrelu`` carries the
  activation: other values, the same work);
* ResNet: 7x7, two 3x3 stride-2 convs, 6 blocks, two 3x3 stride-2 transposed convs
  (``output_padding=1``), 7x7, tanh; reflection padding, InstanceNorm, no affine;
* 70x70 PatchGAN (``n_layers=3``): 28 px -> 14, 7, 3, 2, 1.

Official losses and order: pix2pix computes G(x) once, steps D on ``(x, G(x))``
detached and ``(x, y)`` (BCE on logits, halved), then G (BCE + 100 L1) against the
new D; CycleGAN steps both generators (LSGAN + 10 cycle + 5 identity a side) with
the discriminators frozen, then both discriminators on the reals and the pooled
fakes (pool 50), halved. Adam 2e-4, betas (0.5, 0.999), one per group as the
official code (per element: the same updates as jaxgen's one per player), constant
rate (jaxgen's linear decay starts half-way). Init N(0, 0.02), biases 0, BatchNorm
scales N(1, 0.02). Batches: uint8 NCHW tensors in memory, scaled in the step (pix2pix
one index per pair, CycleGAN's domains independent); a step ends reading a loss.
"""

from __future__ import annotations

import itertools
import random

import torch
import torch.nn.functional as F
from torch import nn

from jaxgen.models.translation.discriminators import n_layers_for
from jaxgen.models.translation.networks import unet_depth


def init_weights(module: nn.Module) -> None:
    """The official ``init_weights(init_type='normal', init_gain=0.02)``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def norm_layer(norm: str):
    """``get_norm_layer``: (layer factory, whether convolutions before it take a bias)."""
    if norm == 'batch':
        return (lambda c: nn.BatchNorm2d(c)), False
    return (lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)), True


class UnetSkipBlock(nn.Module):
    """``UnetSkipConnectionBlock``: ``cat(x, up(inner(down(x))))`` (outermost: ``up``)."""

    def __init__(self, outer, inner, input_nc=None, submodule=None, outermost=False,
                 innermost=False, norm='batch', dropout=False):
        super().__init__()
        self.outermost = outermost
        make_norm, bias = norm_layer(norm)
        downconv = nn.Conv2d(input_nc or outer, inner, 4, 2, 1, bias=bias)
        upconv = nn.ConvTranspose2d(inner if innermost else inner * 2, outer, 4, 2, 1,
                                    bias=bias or outermost)
        down = [downconv] if outermost else [nn.LeakyReLU(0.2), downconv]
        down += [] if outermost or innermost else [make_norm(inner)]
        up = [nn.ReLU(True), upconv, nn.Tanh() if outermost else make_norm(outer)]
        up += [nn.Dropout(0.5)] if dropout else []
        self.model = nn.Sequential(*down, *([submodule] if submodule else []), *up)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """jaxgen's U-Net: reflect-padded to a power of two, ``unet_depth`` levels, cropped."""

    def __init__(self, channels: int, side: int, ngf: int = 64, norm: str = 'batch',
                 dropout_blocks: int = 3):
        super().__init__()
        depth = unet_depth(side, side)
        pad = 2 ** depth - side
        self.pads, self.side = (pad // 2, pad - pad // 2) * 2, side
        width = [ngf * min(2 ** level, 8) for level in range(depth)]
        block = None
        for level in reversed(range(depth)):
            block = UnetSkipBlock(
                channels if level == 0 else width[level - 1], width[level],
                input_nc=channels if level == 0 else None, submodule=block,
                outermost=level == 0, innermost=level == depth - 1, norm=norm,
                dropout=0 < level and level >= depth - dropout_blocks)
        self.model = block

    def forward(self, x):
        top, left = self.pads[2], self.pads[0]
        return self.model(F.pad(x, self.pads, mode='reflect'))[
            :, :, top:top + self.side, left:left + self.side]


class Residual(nn.Sequential):
    """``ResnetBlock``: ``x + block(x)``."""

    def forward(self, x):
        return x + super().forward(x)


def resnet_generator(channels: int, ngf: int = 64, n_blocks: int = 6,
                     norm: str = 'instance') -> nn.Sequential:
    """``ResnetGenerator`` (reflection padding, no dropout)."""
    make_norm, bias = norm_layer(norm)
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7, bias=bias), make_norm(ngf),
              nn.ReLU(True)]
    for i in range(2):
        m = 2 ** i
        layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, 1, bias=bias),
                   make_norm(ngf * m * 2), nn.ReLU(True)]
    w = ngf * 4
    layers += [Residual(nn.ReflectionPad2d(1), nn.Conv2d(w, w, 3, bias=bias), make_norm(w),
                        nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(w, w, 3, bias=bias),
                        make_norm(w)) for _ in range(n_blocks)]
    for i in range(2):
        m = 2 ** (2 - i)
        layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, 2, 1, output_padding=1,
                                      bias=bias), make_norm(ngf * m // 2), nn.ReLU(True)]
    return nn.Sequential(*layers, nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, 7), nn.Tanh())


def patch_discriminator(input_nc: int, ndf: int = 64, n_layers: int = 3,
                        norm: str = 'batch') -> nn.Sequential:
    """``NLayerDiscriminator`` (``n_layers`` >= 1) or ``PixelDiscriminator`` (0; its
    last conv keeps a bias, as jaxgen's)."""
    make_norm, bias = norm_layer(norm)
    lrelu = nn.LeakyReLU(0.2, True)
    if n_layers == 0:
        return nn.Sequential(nn.Conv2d(input_nc, ndf, 1), lrelu,
                             nn.Conv2d(ndf, 2 * ndf, 1, bias=bias), make_norm(2 * ndf),
                             lrelu, nn.Conv2d(2 * ndf, 1, 1))
    layers, mult = [nn.Conv2d(input_nc, ndf, 4, 2, 1), lrelu], 1
    for n in range(1, n_layers + 1):
        prev, mult = mult, min(2 ** n, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2 if n < n_layers else 1, 1,
                             bias=bias), make_norm(ndf * mult), lrelu]
    return nn.Sequential(*layers, nn.Conv2d(ndf * mult, 1, 4, 1, 1))


class ImagePool:
    """``util/image_pool.py``: the last ``size`` fakes, each returned or swapped at 1/2."""

    def __init__(self, size: int = 50):
        self.size, self.images = size, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach().unsqueeze(1):
            if len(self.images) < self.size:
                self.images.append(image)
            elif random.uniform(0, 1) > 0.5:
                slot = random.randint(0, self.size - 1)
                self.images[slot], image = image, self.images[slot].clone()
            out.append(image)
        return torch.cat(out, 0)


def _adam(modules, lr=2e-4):
    params = itertools.chain(*(m.parameters() for m in modules))
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


def _scaled(images: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return images[idx].float().div_(127.5).sub_(1.0)


def _requires_grad(modules, flag: bool) -> None:
    for p in itertools.chain(*(m.parameters() for m in modules)):
        p.requires_grad_(flag)


class TranslationStep:
    """Seeds, data and initialised ``players`` (jaxgen's name -> the same network)."""

    def __init__(self, arrays: dict, batch_size: int, config, device: str, players: dict):
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        self.batch_size, self.device = batch_size, device
        self.a, self.b = arrays['image_a'].to(device), arrays['image_b'].to(device)
        self.players = players
        for m in players.values():
            init_weights(m)
            m.to(device).train()
        self.rng = torch.Generator(device).manual_seed(config.seed)

    def draw(self, images: torch.Tensor) -> torch.Tensor:
        return torch.randint(0, images.shape[0], (self.batch_size,), generator=self.rng,
                             device=self.device)


def _shape(arrays: dict, config) -> tuple[int, int]:
    side = arrays['image_a'].shape[2]
    return arrays['image_a'].shape[1], n_layers_for(config.model.receptive_field, side, side)


class Pix2PixStep(TranslationStep):
    """``Pix2PixModel.optimize_parameters``: G(x) once, D, then G against the new D."""

    def __init__(self, arrays: dict, batch_size: int, config, device: str = 'cpu'):
        (channels, n_layers), f = _shape(arrays, config), config.model.features
        g = UnetGenerator(channels, arrays['image_a'].shape[2], f, config.model.norm,
                          config.model.dropout_blocks)
        d = patch_discriminator(2 * channels, f, n_layers, config.model.norm)
        super().__init__(arrays, batch_size, config, device, {'generator': g, 'discriminator': d})
        self.g, self.d, self.l1 = g, d, config.objective.l1
        self.opt_g, self.opt_d = _adam([g]), _adam([d])

    def __call__(self) -> float:
        idx = self.draw(self.a)
        real_a, real_b = _scaled(self.a, idx), _scaled(self.b, idx)
        fake_b = self.g(real_a)
        _requires_grad([self.d], True)
        self.opt_d.zero_grad(set_to_none=True)
        fake_ab = torch.cat([real_a, fake_b], 1)
        pred_fake = self.d(fake_ab.detach())
        pred_real = self.d(torch.cat([real_a, real_b], 1))
        d_loss = (F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake))
                  + F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
                  ) * 0.5
        d_loss.backward()
        self.opt_d.step()
        _requires_grad([self.d], False)
        self.opt_g.zero_grad(set_to_none=True)
        pred_fake = self.d(fake_ab)
        g_loss = (F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake))
                  + F.l1_loss(fake_b, real_b) * self.l1)
        g_loss.backward()
        self.opt_g.step()
        return float(d_loss.detach())


def _lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
    return F.mse_loss(pred, torch.full_like(pred, 1.0 if real else 0.0))


class CycleGANStep(TranslationStep):
    """``CycleGANModel.optimize_parameters``: both generators, then both discriminators
    (jaxgen names a discriminator by the domain it judges: the official netD_A is
    ``discriminator_b``)."""

    def __init__(self, arrays: dict, batch_size: int, config, device: str = 'cpu'):
        (channels, n_layers), m = _shape(arrays, config), config.model
        nets = {f'generator_{x}': resnet_generator(channels, m.features, m.blocks, m.norm)
                for x in ('ab', 'ba')}
        nets.update({f'discriminator_{x}': patch_discriminator(channels, m.features, n_layers,
                                                               m.norm) for x in 'ab'})
        super().__init__(arrays, batch_size, config, device, nets)
        self.g_ab, self.g_ba = nets['generator_ab'], nets['generator_ba']
        self.d_a, self.d_b = nets['discriminator_a'], nets['discriminator_b']
        self.opt_g, self.opt_d = _adam([self.g_ab, self.g_ba]), _adam([self.d_a, self.d_b])
        self.pool_a, self.pool_b = ImagePool(m.history_size), ImagePool(m.history_size)
        o = config.objective
        self.cycle_a, self.cycle_b, self.identity = o.cycle_a, o.cycle_b, o.identity

    def __call__(self) -> float:
        real_a, real_b = _scaled(self.a, self.draw(self.a)), _scaled(self.b, self.draw(self.b))
        fake_b = self.g_ab(real_a)
        rec_a = self.g_ba(fake_b)
        fake_a = self.g_ba(real_b)
        rec_b = self.g_ab(fake_a)
        ds = [self.d_a, self.d_b]
        _requires_grad(ds, False)
        self.opt_g.zero_grad(set_to_none=True)
        la, lb, idt = self.cycle_a, self.cycle_b, self.identity
        g_loss = (F.l1_loss(self.g_ab(real_b), real_b) * lb * idt
                  + F.l1_loss(self.g_ba(real_a), real_a) * la * idt
                  + _lsgan(self.d_b(fake_b), True) + _lsgan(self.d_a(fake_a), True)
                  + F.l1_loss(rec_a, real_a) * la + F.l1_loss(rec_b, real_b) * lb)
        g_loss.backward()
        self.opt_g.step()
        _requires_grad(ds, True)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss = 0.0
        for d, real, fake, pool in ((self.d_b, real_b, fake_b, self.pool_b),
                                    (self.d_a, real_a, fake_a, self.pool_a)):
            loss = (_lsgan(d(real), True) + _lsgan(d(pool.query(fake).detach()), False)) * 0.5
            loss.backward()
            d_loss = d_loss + float(loss.detach())
        self.opt_d.step()
        return d_loss


STEPS = {'pix2pix': Pix2PixStep, 'cyclegan': CycleGANStep}
