"""Vanilla GAN on the 8-Gaussian ring (the setting of Metz et al., 2017).

    python train.py --config configs/gan_ring.py --workdir runs/ring
    python train.py --config configs/gan_ring.py:saturating --workdir runs/ring_sat

The argument after ':' (or --config.objective.generator_loss) switches the
generator loss between 'non_saturating' (default, -log D(G(z))) and the
minimax game's own 'saturating' log(1 - D(G(z))).
"""

from jaxgen.config import adam, base_config


def get_config(arg: str | None = None):
    c = base_config()
    c.num_steps = 10000
    c.batch_size = 512
    c.log_every = 500
    c.sample_every = 2500
    c.checkpoint_every = 2500
    c.data.name = 'ring'
    c.data.mixture.radius = 2.0
    c.data.mixture.std = 0.02
    c.data.mixture.num_modes = 8
    c.model.name = 'mlp'
    c.model.latent_dim = 256
    c.model.g_hidden = (128, 128)
    c.model.d_hidden = (128, 128)
    c.model.d_input_scale = 1.0      # the discriminator's input is multiplied by this
    c.model.orthogonal_gain = 0.0    # > 0: orthogonal kernels with this gain
    c.objective.generator_loss = arg or 'non_saturating'
    c.objective.label_smoothing = 0.0
    c.objective.loss = 'minimax'         # or hinge, least_squares, wasserstein
    c.objective.gradient_penalty = 0.0   # WGAN-GP: loss=wasserstein, gradient_penalty=10
    c.objective.r1 = 0.0                 # R1 penalty weight gamma on real data
    c.model.spectral_norm = False        # spectrally normalised discriminator
    c.rule.name = 'alternating'
    c.rule.d_steps = 1
    c.optimizers.generator = adam(1e-4, b1=0.5)
    c.optimizers.discriminator = adam(1e-4, b1=0.5)
    return c
