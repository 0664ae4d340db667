"""Conditional GAN on MNIST: labels fed to G and D, DCGAN networks.

    python train.py --config configs/cgan.py --workdir runs/cgan
    python train.py --config configs/cgan.py --workdir runs/cgan_concat --config.model.conditioning=concat
    python train.py --config configs/cgan.py:fashion_mnist --workdir runs/cgan_fashion

``model.conditioning``: 'projection' (default; Miyato & Koyama, 2018) or 'concat'.
The pictures are a class-by-sample grid: one row per label, the same noise per column.
"""

from configs import dcgan


def get_config(arg: str | None = None):
    c = dcgan.get_config(arg)
    c.model.name = 'cgan'
    c.model.conditioning = 'projection'
    return c
