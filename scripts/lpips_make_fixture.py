"""Write tests/fixtures/lpips_reference.npz: lpips 0.1.4's outputs on a seeded random backbone.

The reference is ``lpips.LPIPS(net=..., pretrained=True, pnet_rand=True)`` (lpips 0.1.4,
richzhang/PerceptualSimilarity; Zhang et al., 2018): the shipped v0.1 linear weights on a
random trunk, whose weights this script then overwrites with
:func:`jaxgen.metrics.lpips.trunks.random_torch_state` (NumPy, seeded), so that the test can
rebuild the same trunk without torch. The fixture holds the seed, 3 pairs of 66×58 RGB
images (uint8, mapped with x/127.5-1), the reference's per-layer and total values for alex,
vgg and squeeze, and a checksum of the seeded weights.

lpips imports torchvision only for the ``features`` layer lists of AlexNet, VGG16 and
SqueezeNet 1.1; where torchvision does not import beside torch (the CPU builds here:
"operator torchvision::nms does not exist"), :func:`install_torchvision_shim` provides those
lists, written out by hand from torchvision's ``models/{alexnet,vgg,squeezenet}.py`` (not from
jaxgen's specs, so that a mistake in one is not copied into the other).

    pip install torch==2.13.0 lpips==0.1.4   # see benchmarks/requirements-lpips.txt
    python scripts/lpips_make_fixture.py
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, ROOT)
from jaxgen.metrics.lpips import trunks  # noqa: E402

FIXTURE = os.path.join(ROOT, 'tests', 'fixtures', 'lpips_reference.npz')
# 66×58: not square, and sizes at which SqueezeNet's ceil_mode pooling differs from floor
# mode at all three pools (AlexNet's and VGG's floor pooling drops a row and a column).
SEED, PAIRS, HEIGHT, WIDTH = 29, 3, 66, 58


def install_torchvision_shim() -> None:
    """Make ``from torchvision import models as tv`` work with hand-written layer lists."""
    try:
        import torchvision.models  # noqa: F401
        return
    except Exception:  # ImportError, or RuntimeError from a torchvision built for another torch
        for name in [m for m in sys.modules if m == 'torchvision' or m.startswith('torchvision.')]:
            del sys.modules[name]
    import torch.nn as nn

    class Fire(nn.Module):  # torchvision/models/squeezenet.py
        def __init__(self, inplanes, squeeze, e1, e3):
            super().__init__()
            self.squeeze = nn.Conv2d(inplanes, squeeze, kernel_size=1)
            self.squeeze_activation = nn.ReLU(inplace=True)
            self.expand1x1 = nn.Conv2d(squeeze, e1, kernel_size=1)
            self.expand1x1_activation = nn.ReLU(inplace=True)
            self.expand3x3 = nn.Conv2d(squeeze, e3, kernel_size=3, padding=1)
            self.expand3x3_activation = nn.ReLU(inplace=True)

        def forward(self, x):
            x = self.squeeze_activation(self.squeeze(x))
            return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                              self.expand3x3_activation(self.expand3x3(x))], 1)

    import torch

    def alexnet(pretrained=False, **_):
        return types.SimpleNamespace(features=nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2)))

    def vgg16(pretrained=False, **_):
        layers, channels = [], 3
        for v in [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M',
                  512, 512, 512, 'M']:
            if v == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                channels = v
        return types.SimpleNamespace(features=nn.Sequential(*layers))

    def squeezenet1_1(pretrained=False, **_):
        return types.SimpleNamespace(features=nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256), Fire(512, 64, 256, 256)))

    package = types.ModuleType('torchvision')
    package.models = types.ModuleType('torchvision.models')
    package.models.alexnet, package.models.vgg16 = alexnet, vgg16
    package.models.squeezenet1_1 = squeezenet1_1
    sys.modules['torchvision'], sys.modules['torchvision.models'] = package, package.models


def reference_model(net: str, state: dict):
    """``lpips.LPIPS(net, pretrained=True, pnet_rand=True)`` with ``state`` (torchvision
    ``features.*`` keys) copied into its trunk."""
    install_torchvision_shim()
    import lpips
    import torch

    model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
    with torch.no_grad():
        for k in range(1, model.net.N_slices + 1):
            for name, param in getattr(model.net, f'slice{k}').named_parameters():
                param.copy_(torch.from_numpy(state[f'features.{name}']))
    return model.eval()


def reference_values(net: str, state: dict, a: np.ndarray, b: np.ndarray):
    """(total [N], per-layer [N, L]) of the reference on NHWC [-1, 1] float32 pairs."""
    import torch

    model = reference_model(net, state)
    nchw = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # noqa: E731
    with torch.no_grad():
        total, layers = model(nchw(a), nchw(b), retPerLayer=True)
    layers = np.stack([v.numpy().reshape(-1) for v in layers], axis=-1)
    return total.numpy().reshape(-1).astype(np.float64), layers.astype(np.float64)


def checksum(state: dict) -> float:
    return float(sum(np.abs(v.astype(np.float64)).sum() for v in state.values()))


def images(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of uint8 images: smooth random pictures and noisy, shifted copies of them."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (PAIRS, HEIGHT // 8 + 1, WIDTH // 8 + 1, 3))
    a = np.kron(coarse, np.ones((1, 8, 8, 1)))[:, :HEIGHT, :WIDTH]
    a = a + rng.normal(0, 20, a.shape)
    b = np.roll(a, 2, axis=2) + rng.normal(0, 20, a.shape)
    return tuple(np.clip(x, 0, 255).round().astype(np.uint8) for x in (a, b))


def to_unit(x: np.ndarray) -> np.ndarray:
    return (x.astype(np.float32) / np.float32(127.5) - 1).astype(np.float32)


def main() -> None:
    a, b = images()
    out = {'seed': np.int64(SEED), 'images_a': a, 'images_b': b}
    for net in trunks.SPECS:
        state = trunks.random_torch_state(net, SEED)
        out[f'values_{net}'], out[f'layers_{net}'] = reference_values(net, state, to_unit(a), to_unit(b))
        out[f'checksum_{net}'] = np.float64(checksum(state))
        print(net, out[f'values_{net}'])
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    np.savez_compressed(FIXTURE, **out)
    print(FIXTURE, os.path.getsize(FIXTURE), 'bytes')


if __name__ == '__main__':
    main()
