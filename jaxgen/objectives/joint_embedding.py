"""The deep symmetric structured joint embedding (DS-SJE) of Reed et al. (2016a, eq. 2-4),
which trains the text encoder of the text-to-image GAN together with an image encoder.

Compatibility ``F(v, t) = θ(v) · φ(t)`` (the model's ``image_embedding`` and
``text_embedding``). Over a batch of matched pairs ``(v_i, t_i)`` of class ``c_i``, each
image's loss is the structured hinge over the texts of other classes, and symmetrically
each text's over the images of other classes::

    l_v(i) = max(0, max_{j: c_j != c_i} Δ + F(v_i, t_j) - F(v_i, t_i))
    l_t(j) = max(0, max_{i: c_i != c_j} Δ + F(v_i, t_j) - F(v_j, t_j))

with Δ = 1 (0-1 loss), a zero loss when the batch holds no other class. The paper's
positive is the mean compatibility with all texts of the class; here it is the example's
own text (as in the official ``train_sje_hybrid.lua``, whose batches pair each image
with one caption). ``reduce='mean'`` replaces the max over negatives by the official
code's sum of hinges over the negatives, divided by the batch size.

Options (``config.objective``):

* ``classes``: what a class is. ``'label'`` (the paper: bird species, here the digit or
  the character) or ``'caption'`` (two examples are of one class when their text ids
  are equal: captions here are templated from discrete attributes, so the caption is a
  finer class; with ``'label'`` nothing asks the text embedding to encode the attributes
  the GAN must draw);
* ``margin`` Δ (1.0); ``symmetric`` (True: both halves, the DS-SJE; False: the image
  half alone, as ``-symmetric 0``); ``reduce``: ``'max'`` (the paper) or ``'mean'``.

One term, ``sje`` (the mean of ``l_v`` plus the mean of ``l_t``), weighted 1 for both
players; its metrics ``image_loss``, ``text_loss`` and the batch's top-1 text -> image
retrieval, by label (``retrieval_label``) and by caption (``retrieval_caption``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective, empty, reject_ignored

OPTIONS = ('classes', 'margin', 'symmetric', 'reduce')
CLASSES = ('label', 'caption')
REDUCE = ('max', 'mean')


def same_class(label: jax.Array, chars: jax.Array, classes: str) -> jax.Array:
    """bool ``[B, B]``: whether examples i and j are of one class."""
    label, chars = jnp.asarray(label), jnp.asarray(chars)
    if classes == 'label':
        return label[:, None] == label[None, :]
    return jnp.all(chars[:, None, :] == chars[None, :, :], axis=-1)


def sje_losses(*, image_embedding: jax.Array, text_embedding: jax.Array, same: jax.Array,
               margin: float = 1.0, reduce: str = 'max') -> tuple[jax.Array, jax.Array]:
    """Per-example ``(l_v [B], l_t [B])`` of the module docstring; ``same`` bool ``[B, B]``."""
    score = image_embedding @ text_embedding.T  # [i, j] = F(v_i, t_j)
    positive = jnp.diagonal(score)
    image_hinge = jax.nn.relu(margin + score - positive[:, None])  # negative text j for image i
    text_hinge = jax.nn.relu(margin + score - positive[None, :])   # negative image i for text j
    if reduce == 'max':  # hinges are >= 0, so 0 stands for "no negative"
        image = jnp.max(jnp.where(same, 0.0, image_hinge), axis=1)
        text = jnp.max(jnp.where(same, 0.0, text_hinge), axis=0)
    else:
        n = score.shape[0]
        image = jnp.sum(jnp.where(same, 0.0, image_hinge), axis=1) / n
        text = jnp.sum(jnp.where(same, 0.0, text_hinge), axis=0) / n
    return image, text


def retrieval_hits(image_embedding, text_embedding, label, chars) -> jax.Array:
    """bool [B, 2]: whether each text's best-scoring image in the batch has its label, and
    has its caption."""
    best = jnp.argmax(image_embedding @ text_embedding.T, axis=0)  # per text j
    label, chars = jnp.asarray(label), jnp.asarray(chars)
    return jnp.stack([label[best] == label, jnp.all(chars[best] == chars, axis=-1)], axis=1)


def retrieval(image_embedding, text_embedding, label, chars) -> jax.Array:
    """float32 [2]: the batch's fractions of those hits (:func:`retrieval_hits`)."""
    return jnp.mean(retrieval_hits(image_embedding, text_embedding, label, chars),
                    axis=0, dtype=jnp.float32)


def sje_term(classes: str, margin: float, symmetric: bool, reduce: str):
    def term(outputs):
        same = same_class(outputs['label'], outputs['text_ids'], classes)
        image, text = sje_losses(image_embedding=outputs['image_embedding'],
                                 text_embedding=outputs['text_embedding'], same=same,
                                 margin=margin, reduce=reduce)
        value = jnp.mean(image) + (jnp.mean(text) if symmetric else 0.0)
        hits = retrieval(outputs['image_embedding'], outputs['text_embedding'],
                         outputs['label'], outputs['text_ids'])
        return value, {'image_loss': jnp.mean(image), 'text_loss': jnp.mean(text),
                       'retrieval_label': hits[0], 'retrieval_caption': hits[1]}
    return term


def sje_objective(model, *, classes: str = 'label', margin: float = 1.0,
                  symmetric: bool = True, reduce: str = 'max') -> Objective:
    if classes not in CLASSES:
        raise JaxgenError(f'unknown objective.classes {classes!r}; choose one of '
                          f'{", ".join(CLASSES)}')
    if reduce not in REDUCE:
        raise JaxgenError(f'unknown objective.reduce {reduce!r}; choose one of '
                          f'{", ".join(REDUCE)}')
    if not margin > 0:
        raise JaxgenError(f'objective.margin must be positive (the paper: 1.0), got {margin}')
    return empty(model).with_term('sje', sje_term(classes, float(margin), bool(symmetric),
                                                  reduce),
                                  text_encoder=1.0, image_encoder=1.0)


def build(objective_config, model) -> Objective:
    if set(model.players) != {'text_encoder', 'image_encoder'}:
        raise JaxgenError('objective joint_embedding needs model.name=text_encoder (players '
                          f'text_encoder and image_encoder); this model has '
                          f'{sorted(model.players)}')
    c = objective_config
    reject_ignored(c, OPTIONS)
    return sje_objective(model, classes=c.get('classes', 'label'), margin=c.get('margin', 1.0),
                         symmetric=c.get('symmetric', True), reduce=c.get('reduce', 'max'))
