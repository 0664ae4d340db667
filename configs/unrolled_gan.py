"""Unrolled GAN (Metz et al., 2017) on the 2-D mixtures: the ring or the grid.

    python train.py --config configs/unrolled_gan.py --workdir runs/unrolled_ring
    python train.py --config configs/unrolled_gan.py:grid --workdir runs/unrolled_grid
    python train.py --config configs/unrolled_gan.py --config.rule.unroll_steps=0  # plain GAN

The networks and optimizers of configs/gan_ring.py; the generator's loss is taken
through ``rule.unroll_steps`` differentiable Adam steps of the discriminator.
Mode coverage (VEEGAN protocol, 2,500 samples) is evaluated every ``eval_every`` steps.
"""

from configs import gan_ring


def get_config(arg: str | None = None):
    c = gan_ring.get_config()
    c.data.name = arg or 'ring'
    if c.data.name == 'grid':
        c.data.std = 0.05
    c.rule.name = 'unrolled'
    c.rule.unroll_steps = 5
    c.eval_every = 2500
    return c
