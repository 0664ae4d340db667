"""f-GAN (Nowozin et al., 2016): GAN training with any f-divergence.

    python train.py --config configs/fgan.py --workdir runs/fgan_kl --config.objective.divergence=kl
    python train.py --config configs/fgan.py:ring --workdir runs/fgan_ring_kl

Divergences: kl, reverse_kl, pearson, squared_hellinger, jensen_shannon, gan,
total_variation. The argument picks the data: mnist (default, DCGAN networks)
or ring (the MLPs of configs/gan_ring.py).
"""

from configs import dcgan, gan_ring


def get_config(arg: str | None = None):
    data = arg or 'mnist'
    c = gan_ring.get_config() if data in ('ring', 'grid') else dcgan.get_config(data)
    c.data.name = data
    c.objective.name = 'fgan'
    c.objective.divergence = 'gan'
    c.objective.generator_loss = 'non_saturating'
    for key in ('label_smoothing', 'loss', 'gradient_penalty', 'r1'):
        del c.objective[key]
    if data in ('ring', 'grid'):
        c.eval_every = 2500
    return c
