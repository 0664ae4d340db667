"""Pure, per-example, keyword-only losses and log-likelihoods."""

from jaxgen.losses import vae
from jaxgen.losses.gan import (GENERATOR_LOSSES, discriminator_loss,
                               generator_nonsaturating_loss,
                               generator_saturating_loss)
from jaxgen.losses.info import categorical_log_likelihood, gaussian_log_likelihood

__all__ = [
    'GENERATOR_LOSSES', 'categorical_log_likelihood', 'discriminator_loss',
    'gaussian_log_likelihood', 'generator_nonsaturating_loss', 'generator_saturating_loss',
    'vae',
]
