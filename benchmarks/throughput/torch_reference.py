"""The PyTorch reference for the throughput benchmark: jaxgen's InfoGAN and DCGAN
for 28x28 MNIST, written the way a PyTorch user would, eager.

Identical to ``jaxgen/models/gan/infogan.py`` and ``jaxgen/models/gan/dcgan.py`` layer for
layer (4x4 stride-2 convolutions with padding 1 = Flax's 'SAME' here, BatchNorm
momentum 0.1 = Flax's 0.9, eps 1e-5, leaky slopes 0.1 and 0.2, N(0, 0.02)
weights), with the same optimizers (Adam, beta1 0.5; InfoGAN D 2e-4, G and Q
1e-3; DCGAN 2e-4 both) and the same update order: the discriminator steps on
the real and a detached fake batch (InfoGAN: plus lambda times the information
term, which trains the shared trunk), then the generator (and Q) step against
the updated discriminator. Batches come from a uint8 tensor in memory, scaled
to [-1, 1] inside the step, as jaxgen draws them inside its step. ``device``
('cpu' or 'cuda') holds the images, the networks and the random draws; each step
ends by reading the loss back (``float``), so a step is timed to completion.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _conv(cin, cout):
    return nn.Conv2d(cin, cout, 4, 2, 1)


def _deconv(cin, cout):
    return nn.ConvTranspose2d(cin, cout, 4, 2, 1)


class InfoGANGenerator(nn.Module):
    def __init__(self, input_dim: int):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(input_dim, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
                                nn.Linear(1024, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128),
                                nn.ReLU())
        self.conv = nn.Sequential(_deconv(128, 64), nn.BatchNorm2d(64), nn.ReLU(),
                                  _deconv(64, 1), nn.Tanh())

    def forward(self, x):
        return self.conv(self.fc(x).view(-1, 128, 7, 7))


class InfoGANDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(_conv(1, 64), nn.LeakyReLU(0.1), _conv(64, 128),
                                   nn.BatchNorm2d(128), nn.LeakyReLU(0.1), nn.Flatten(),
                                   nn.Linear(128 * 7 * 7, 1024), nn.BatchNorm1d(1024),
                                   nn.LeakyReLU(0.1))
        self.head = nn.Linear(1024, 1)

    def forward(self, x):
        features = self.trunk(x)
        return self.head(features)[:, 0], features


class QHead(nn.Module):
    def __init__(self, num_logits: int, num_continuous: int):
        super().__init__()
        self.k, self.c = num_logits, num_continuous
        self.net = nn.Sequential(nn.Linear(1024, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.1),
                                 nn.Linear(128, num_logits + 2 * num_continuous))

    def forward(self, features):
        out = self.net(features)
        return out[:, :self.k], out[:, self.k:self.k + self.c]


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int = 100, features: int = 64):
        super().__init__()
        f = features * 2
        self.f = f
        self.fc = nn.Sequential(nn.Linear(latent_dim, 7 * 7 * f), nn.BatchNorm1d(7 * 7 * f),
                                nn.ReLU())
        self.conv = nn.Sequential(_deconv(f, features), nn.BatchNorm2d(features), nn.ReLU(),
                                  _deconv(features, 1), nn.Tanh())

    def forward(self, z):
        return self.conv(self.fc(z).view(-1, self.f, 7, 7))


class DCGANDiscriminator(nn.Module):
    def __init__(self, features: int = 64):
        super().__init__()
        self.net = nn.Sequential(_conv(1, features), nn.LeakyReLU(0.2),
                                 _conv(features, 2 * features), nn.BatchNorm2d(2 * features),
                                 nn.LeakyReLU(0.2), nn.Flatten(),
                                 nn.Linear(2 * features * 7 * 7, 1))

    def forward(self, x):
        return self.net(x)[:, 0]


def _adam(module, lr):
    return torch.optim.Adam(module.parameters(), lr=lr, betas=(0.5, 0.999))


def _batch(images: torch.Tensor, batch_size: int, generator: torch.Generator):
    idx = torch.randint(0, images.shape[0], (batch_size,), generator=generator,
                        device=images.device)
    return images[idx].float().div_(127.5).sub_(1.0)


class InfoGANStep:
    """One InfoGAN train step, PyTorch eager: D (+ trunk via the info term), then G and Q."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int = 0,
                 noise_dim: int = 62, categories: int = 10, continuous: int = 2,
                 device: str = 'cpu'):
        torch.manual_seed(seed)
        self.images, self.batch_size, self.device = images.to(device), batch_size, device
        self.noise_dim, self.k, self.c = noise_dim, categories, continuous
        self.g = InfoGANGenerator(noise_dim + categories + continuous)
        self.d = InfoGANDiscriminator()
        self.q = QHead(categories, continuous)
        for m in (self.g, self.d, self.q):
            _init(m)
            m.to(device)
        self.opt_d, self.opt_g, self.opt_q = _adam(self.d, 2e-4), _adam(self.g, 1e-3), \
            _adam(self.q, 1e-3)
        self.rng = torch.Generator(device).manual_seed(seed)

    def _info(self, logits, mean, cat, cont):
        # -L_I up to the constant H(c): cross-entropy + Gaussian NLL with std 1.
        nll_cont = 0.5 * ((cont - mean) ** 2).sum(1) + 0.5 * self.c * math.log(2 * math.pi)
        return F.cross_entropy(logits, cat) + nll_cont.mean()

    def __call__(self) -> float:
        b = self.batch_size
        real = _batch(self.images, b, self.rng)
        dev = self.device
        z = torch.rand(b, self.noise_dim, generator=self.rng, device=dev) * 2 - 1
        cat = torch.randint(0, self.k, (b,), generator=self.rng, device=dev)
        cont = torch.rand(b, self.c, generator=self.rng, device=dev) * 2 - 1
        fake = self.g(torch.cat([z, F.one_hot(cat, self.k).float(), cont], 1))
        ones, zeros = torch.ones(b, device=dev), torch.zeros(b, device=dev)
        # Discriminator (and the trunk through the information term).
        self.opt_d.zero_grad(set_to_none=True)
        real_logits, _ = self.d(real)
        fake_logits, features = self.d(fake.detach())
        logits, mean = self.q(features)
        d_loss = (F.binary_cross_entropy_with_logits(real_logits, ones)
                  + F.binary_cross_entropy_with_logits(fake_logits, zeros)
                  + self._info(logits, mean, cat, cont))
        d_loss.backward()
        self.opt_d.step()
        # Generator and Q against the updated discriminator.
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_q.zero_grad(set_to_none=True)
        fake_logits, features = self.d(fake)
        logits, mean = self.q(features)
        g_loss = (F.binary_cross_entropy_with_logits(fake_logits, ones)
                  + self._info(logits, mean, cat, cont))
        g_loss.backward()
        self.opt_g.step()
        self.opt_q.step()
        return float(d_loss.detach())


class DCGANStep:
    """One DCGAN train step, PyTorch eager: D, then G (non-saturating)."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int = 0,
                 latent_dim: int = 100, features: int = 64, device: str = 'cpu'):
        torch.manual_seed(seed)
        self.images, self.batch_size, self.device = images.to(device), batch_size, device
        self.latent_dim = latent_dim
        self.g, self.d = DCGANGenerator(latent_dim, features), DCGANDiscriminator(features)
        for m in (self.g, self.d):
            _init(m)
            m.to(device)
        self.opt_d, self.opt_g = _adam(self.d, 2e-4), _adam(self.g, 2e-4)
        self.rng = torch.Generator(device).manual_seed(seed)

    def __call__(self) -> float:
        b = self.batch_size
        real = _batch(self.images, b, self.rng)
        dev = self.device
        fake = self.g(torch.randn(b, self.latent_dim, generator=self.rng, device=dev))
        ones, zeros = torch.ones(b, device=dev), torch.zeros(b, device=dev)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss = (F.binary_cross_entropy_with_logits(self.d(real), ones)
                  + F.binary_cross_entropy_with_logits(self.d(fake.detach()), zeros))
        d_loss.backward()
        self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss = F.binary_cross_entropy_with_logits(self.d(fake), ones)
        g_loss.backward()
        self.opt_g.step()
        return float(d_loss.detach())


def compile_modules(step) -> None:
    """The step's networks under ``torch.compile`` (the optimizers keep their parameters)."""
    for name in ('g', 'd', 'q', 'g_ab', 'g_ba', 'd_a', 'd_b'):  # + torch_translation's
        if hasattr(step, name):
            setattr(step, name, torch.compile(getattr(step, name)))


STEPS = {'infogan': InfoGANStep, 'dcgan': DCGANStep}
