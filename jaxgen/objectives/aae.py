"""The adversarial autoencoder's objective: reconstruction + the GAN game in latent space.

Three losses, minimised in three phases by the ``phased`` rule:

* ``reconstruction`` (encoder and decoder): ``-log p(x | z = E(x))``;
* ``discriminator``: the GAN discriminator loss, prior codes real, data codes fake;
* ``generator`` (encoder): the GAN generator loss on the data codes.

The GAN part is ``gan_objective`` unchanged: the KL term of the VAE is
replaced by a game, and only samples of the prior are needed.
"""

from __future__ import annotations

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, reject_ignored
from jaxgen.objectives.gan import gan_objective
from jaxgen.objectives.vae import reconstruction_term

LOSSES = ('reconstruction', 'discriminator', 'generator')


def aae_objective(model, *, generator_loss: str = 'non_saturating',
                  label_smoothing: float = 0.0) -> Objective:
    return (gan_objective(model, generator_loss=generator_loss,
                          label_smoothing=label_smoothing, losses=LOSSES)
            .with_term('reconstruction', reconstruction_term, reconstruction=1.0))


def build(objective_config, model) -> Objective:
    if 'discriminator' not in model.players or 'encoder' not in model.players:
        raise JaxgenError('objective aae needs model.name=aae (encoder, decoder and a latent '
                          'discriminator)')
    reject_ignored(objective_config, ('generator_loss', 'label_smoothing'))
    return aae_objective(model, generator_loss=objective_config.generator_loss,
                         label_smoothing=objective_config.label_smoothing)
