"""A staged run: a GAN on the ring whose MLPs gain a residual block per stage,
faded in over 500 steps, with a larger batch once grown (the toy of Progressive
GAN's schedule; docs/ARCHITECTURE.md, Trainer).

    python train.py --config configs/growing_ring.py --workdir runs/growing_ring
"""

import ml_collections

from configs import gan_ring


def get_config(arg: str | None = None):
    del arg
    c = gan_ring.get_config()
    c.num_steps = 3000
    c.batch_size = 256
    c.model = ml_collections.ConfigDict({'name': 'growing', 'latent_dim': 16, 'width': 64,
                                         'depth': 1, 'fade_start': 0, 'fade_steps': 0})
    # Each stage overrides the base config; the last runs to num_steps.
    c.stages = ({'until': 1000},
                {'until': 2000, 'model': {'depth': 2, 'fade_start': 1000, 'fade_steps': 500}},
                {'model': {'depth': 3, 'fade_start': 2000, 'fade_steps': 500},
                 'batch_size': 512})
    return c
