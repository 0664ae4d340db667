"""Adversarial autoencoder on MNIST with a 2-D latent space (Makhzani et al., 2016).

    python train.py --config configs/aae.py --workdir runs/aae                  # mixture of 10 Gaussians
    python train.py --config configs/aae.py:swiss_roll --workdir runs/aae_roll
    python train.py --config configs/aae.py:gaussian --workdir runs/aae_gauss

Each step has three phases, scheduled by the update rule: reconstruction
(encoder + decoder), regularisation (the latent discriminator), then the
encoder as the generator, with an optimizer of its own
(``optimizers.encoder.per_loss.generator``).
latents.png shows the encoded examples over the prior.
"""

from configs.vae import vae_base


def get_config(arg: str | None = None):
    c = vae_base()
    c.model.name = 'aae'
    c.model.hidden = (512, 512)
    c.model.latent_dim = 2
    c.model.stochastic = False
    c.model.prior = arg or 'mixture10'
    c.model.d_hidden = (512, 512)
    c.eval_every = 0
    c.objective.name = 'aae'
    c.objective.generator_loss = 'non_saturating'
    c.objective.label_smoothing = 0.0
    c.rule.name = 'phased'
    c.rule.phases = (('encoder:reconstruction', 'decoder:reconstruction'),
                     ('discriminator',),
                     ('encoder:generator',))
    c.optimizers.discriminator = {'name': 'adam', 'learning_rate': 2e-4, 'b1': 0.5,
                                  'b2': 0.999}
    # The encoder's generator phase steps with an Adam of its own. Sharing the
    # reconstruction phase's Adam scaled its steps by reconstruction gradients about
    # 50 times larger, and the codes then left 3 of the 10 modes empty (docs/RESULTS.md).
    c.optimizers.encoder.per_loss = {'generator': dict(c.optimizers.discriminator)}
    return c
