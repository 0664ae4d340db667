"""Terms shared by the translation objectives (pix2pix, CycleGAN, StarGAN).

The official code (junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py``
``GANLoss`` and the models' ``backward_D``/``backward_G``) scales its GAN losses
differently from jaxgen's loss families, so each game is added with the weights
that reproduce it (``OFFICIAL_SCALE``: family -> (D weight, G weight)):

* vanilla (``minimax``, G non-saturating): ``loss_D = (BCE(D(real), 1) + BCE(D(fake),
  0)) · 0.5``, whose sum jaxgen's ``d_loss`` is, so D's weight is 0.5; G's loss is
  ``BCE(D(G(x)), 1)``, jaxgen's non-saturating loss, weight 1;
* ``least_squares``: ``loss_D = (MSE(D(real), 1) + MSE(D(fake), 0)) · 0.5``, which is
  jaxgen's ``d_loss`` (it carries the halves), weight 1; G's ``MSE(D(G(x)), 1)`` is
  twice jaxgen's ``(D(G(x)) - 1)² / 2``, weight 2;
* ``wasserstein`` (StarGAN's WGAN-GP, yunjey/stargan ``solver.py``): ``-mean D(x) +
  mean D(G(x))`` and ``-mean D(G(x))``, weights 1 and 1.

Logits may be patch maps ``[B, h, w]``: every GAN term averages over all of them,
as ``nn.BCEWithLogitsLoss``/``nn.MSELoss`` do.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.losses import translation as losses

OFFICIAL_SCALE = {'minimax': (0.5, 1.0), 'least_squares': (1.0, 2.0), 'wasserstein': (1.0, 1.0)}
# The families the official code offers (gan_mode vanilla | lsgan | wgangp).
FAMILIES = tuple(OFFICIAL_SCALE)


def check_family(loss: str, objective: str) -> tuple[float, float]:
    """``(d_weight, g_weight)`` of ``loss``, or a one-line error."""
    if loss not in OFFICIAL_SCALE:
        raise JaxgenError(f'objective {objective} takes config.objective.loss in {FAMILIES} '
                          f'(the official gan_mode vanilla, lsgan, wgangp), got {loss!r}')
    return OFFICIAL_SCALE[loss]


def check_weight(value, name: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
        raise JaxgenError(f'config.objective.{name} must be a number >= 0, got {value!r}')
    return float(value)


def l1_term(prediction: str, target: str):
    """The mean L1 distance between two named outputs."""
    def term(outputs):
        return jnp.mean(losses.l1_loss(prediction=outputs[prediction],
                                       target=outputs[target])), {}
    return term


def classification_term(logits: str, labels: str):
    """The domain-classification loss of the named logits against the named labels,
    with the accuracy (the mean over attributes for multi-hot labels) as a metric."""
    def term(outputs):
        x, y = outputs[logits], outputs[labels]
        loss = jnp.mean(losses.domain_classification_loss(logits=x, labels=y))
        if jnp.issubdtype(y.dtype, jnp.integer):
            accuracy = jnp.mean(jnp.argmax(x, -1) == y)
        else:
            accuracy = jnp.mean((x > 0) == (y > 0.5))
        return loss, {'accuracy': accuracy}
    return term
