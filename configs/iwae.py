"""IWAE (Burda et al., 2016): the same MLP trained on the k = 50 importance-weighted bound.

    python train.py --config configs/iwae.py --workdir runs/iwae
    python train.py --config configs/iwae.py:burda_b20 --workdir runs/iwae_b20  # Burda et al.

Takes the variants of configs/vae.py (``burda_b20``: their schedule and batch of 20,
test NLL 84.68 at 2,995 of its 3,280 epochs on an H100; docs/RESULTS.md).
"""

from configs.vae import vae_base


def get_config(arg: str | None = None):
    c = vae_base(arg)
    c.model.num_samples = 50
    c.objective.name = 'iwae'
    return c
