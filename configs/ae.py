"""A plain autoencoder with the VAE's architecture: reconstruction only.

    python train.py --config configs/ae.py --workdir runs/ae
    python train.py --config configs/ae.py:latent2 --workdir runs/ae2d

Its samples.png decodes draws from N(0, I), as the VAE's does: set side by side
they answer "is an autoencoder a generative model?" (no: nothing made its
codes follow any distribution that can be sampled).
"""

from configs.vae import vae_base


def get_config(arg: str | None = None):
    c = vae_base(arg)
    c.model.stochastic = False
    c.objective.name = 'ae'
    c.eval_every = 0
    return c
