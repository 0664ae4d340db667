"""DCGAN on MNIST (Radford et al., 2016): Adam 2e-4, beta1 0.5, batch 64.

    python train.py --config configs/dcgan.py --workdir runs/dcgan
    python train.py --config configs/dcgan.py:fashion_mnist --workdir runs/dcgan_fashion
"""

from jaxgen.config import adam, base_config


def get_config(arg: str | None = None):
    c = base_config()
    c.num_steps = 5000
    c.batch_size = 64
    c.log_every = 100
    c.sample_every = 500
    c.checkpoint_every = 500
    c.data.name = arg or 'mnist'
    c.model.name = 'dcgan'
    c.model.latent_dim = 100
    c.model.features = 64
    c.objective.generator_loss = 'non_saturating'
    c.objective.label_smoothing = 0.0
    c.objective.loss = 'minimax'         # or hinge, least_squares, wasserstein
    c.objective.gradient_penalty = 0.0   # WGAN-GP: loss=wasserstein, gradient_penalty=10
    c.objective.r1 = 0.0                 # R1 penalty weight gamma on real data
    c.model.spectral_norm = False        # spectrally normalised discriminator
    c.rule.name = 'alternating'
    c.rule.d_steps = 1
    c.optimizers.generator = adam(2e-4, b1=0.5)
    c.optimizers.discriminator = adam(2e-4, b1=0.5)
    return c
