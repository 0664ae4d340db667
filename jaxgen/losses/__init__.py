"""Pure, per-example, keyword-only losses."""

from jaxgen.losses.gan import (GENERATOR_LOSSES, discriminator_loss,
                               generator_nonsaturating_loss,
                               generator_saturating_loss, value_function)

__all__ = [
    'GENERATOR_LOSSES', 'discriminator_loss', 'generator_nonsaturating_loss',
    'generator_saturating_loss', 'value_function'
]
