"""IWAE (Burda et al., 2016): the same MLP trained on the k = 50 importance-weighted bound.

    python train.py --config configs/iwae.py --workdir runs/iwae
"""

from configs.vae import vae_base


def get_config(arg: str | None = None):
    c = vae_base(arg)
    c.model.num_samples = 50
    c.objective.name = 'iwae'
    return c
