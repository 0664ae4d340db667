"""Per-example losses of image-to-image translation (pix2pix, CycleGAN, StarGAN).

Keyword-only, each returning ``[B]``: the leading axis is the batch, every other
axis is averaged (an L1 distance is the mean absolute difference per pixel, as
``torch.nn.L1Loss`` in the official code computes over the whole batch).

* ``l1_loss``: pix2pix's ``λ_L1 · ||y - G(x)||_1`` (Isola et al., 2017, eq. 3),
  CycleGAN's cycle consistency ``||F(G(x)) - x||_1`` and identity ``||G(y) - y||_1``
  (Zhu et al., 2017, eq. 2 and §5.2), StarGAN's reconstruction
  ``||x - G(G(x, c), c')||_1`` (Choi et al., 2018, eq. 4).
* ``domain_classification_loss``: StarGAN's ``-log D_cls(c | x)`` (eq. 2 and 3):
  cross-entropy over the domains for integer labels; for multi-hot attribute
  targets the binary cross-entropy summed over the attributes (yunjey/stargan
  ``solver.py`` ``classification_loss``: ``binary_cross_entropy_with_logits(...,
  size_average=False) / batch``, the sum per example, averaged over the batch).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def _per_example_mean(values: jax.Array) -> jax.Array:
    return jnp.mean(values.reshape(values.shape[0], -1), axis=1)


def l1_loss(*, prediction: jax.Array, target: jax.Array) -> jax.Array:
    """Mean absolute difference per example, ``[B]``."""
    return _per_example_mean(jnp.abs(prediction - target))


def domain_classification_loss(*, logits: jax.Array, labels: jax.Array) -> jax.Array:
    """``[B]``: softmax cross-entropy for integer ``labels`` ``[B]``; binary
    cross-entropy summed over attributes for float multi-hot ``labels`` ``[B, K]``."""
    if jnp.issubdtype(labels.dtype, jnp.integer):
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    return jnp.sum(optax.sigmoid_binary_cross_entropy(logits, labels), axis=-1)
