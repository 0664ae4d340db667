"""Unrolled GAN (Metz et al., 2017) on the 2-D mixtures: the ring or the grid.

    python train.py --config configs/unrolled_gan.py --workdir runs/unrolled_ring
    python train.py --config configs/unrolled_gan.py:grid --workdir runs/unrolled_grid
    python train.py --config configs/unrolled_gan.py --config.rule.unroll_steps=0  # plain GAN
    python train.py --config configs/unrolled_gan.py:paper --workdir runs/unrolled_paper

The settings of the authors' ring demo (poolio/unrolled_gan): tanh MLPs with two
hidden layers of 128 units, z ~ N(0, I) of 256 dimensions, batch 512, Adam with
beta1 0.5 and learning rates 1e-4 (D) and 1e-3 (G), the saturating minimax
loss, 25,000 steps. The generator's loss is taken through ``rule.unroll_steps``
differentiable Adam steps of the discriminator.
Mode coverage (VEEGAN protocol, 2,500 samples) is evaluated every ``eval_every`` steps.

``:paper`` is the ring as the paper's appendix A describes it (and a copy of
the authors' notebook with those networks): generator 2 x 128 ReLU,
discriminator one hidden layer of 128 ReLU on its input scaled by 1/4,
orthogonal initialisation with gain 0.8, Adam 1e-4 with beta1 0.5 for both,
the saturating loss, and both players updated *simultaneously* (the generator
through the unroll from the discriminator before its step); 50,000 steps, where
5 seeds averaged 8 of 8 modes and 90.3% high-quality samples (docs/RESULTS.md).
"""

from configs import gan_ring
from jaxgen.config import adam


def get_config(arg: str | None = None):
    c = gan_ring.get_config()
    paper = arg == 'paper'
    c.data.name = 'ring' if paper else arg or 'ring'
    if c.data.name == 'grid':
        c.data.mixture.std = 0.05
    c.num_steps = 25000
    c.model.g_activation = c.model.d_activation = 'tanh'
    c.objective.generator_loss = 'saturating'
    c.optimizers.generator = adam(1e-3, b1=0.5)
    c.optimizers.discriminator = adam(1e-4, b1=0.5)
    c.rule.name = 'unrolled'
    c.rule.unroll_steps = 5
    # The generator differentiates through the discriminator's Adam steps: eps_root
    # keeps d sqrt(v) / dv finite where v is 0 (optax's advice for meta-gradients).
    c.optimizers.discriminator.eps_root = 1e-8
    c.rule.simultaneous = False
    c.eval_every = 2500
    if paper:
        c.model.g_activation = c.model.d_activation = 'relu'
        c.model.d_hidden = (128,)
        c.model.d_input_scale = 0.25
        c.model.orthogonal_gain = 0.8
        c.optimizers.generator.learning_rate = 1e-4
        c.rule.simultaneous = True
        c.num_steps = 50000
    return c
