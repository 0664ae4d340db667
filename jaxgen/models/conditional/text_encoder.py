"""The char-CNN-RNN text encoder of Reed et al. (2016a, "Learning deep representations of
fine-grained visual descriptions"), trained against an image encoder.

* :class:`CharCNNRNN`: ``chars`` int32 ``[B, L]`` (id 0 is padding) -> float32
  ``[B, embed_dim]``. One-hot characters, ``convs`` temporal convolutions (width 4, as in
  the paper's char-CNN-RNN) each followed by ReLU and a max-pool of 2 (the paper pools by 3
  over 201 characters; captions here have under 50), a GRU over the pooled sequence, the
  mean of its hidden states over the non-padded steps, and a Dense to ``embed_dim`` (the
  paper: 1024; here 256 by default). Padded positions are zeroed before every pooling and
  left out of the mean, so appending padding never changes an embedding. With
  ``model.text_level='word'`` the same network reads the captions' word ids (``tokens``,
  ``data/text.py``), and ``convs=0`` makes it the paper's word-level GRU: the word-level
  encoders of Reed et al. (2016a) (word-CNN-RNN, word-LSTM). Its embedding of an unseen
  attribute-class combination is close to the sum of its parts, e(thick seven) ≈
  e(medium seven) + e(thick) − e(medium), where the character encoder's is not
  (docs/results/text2image.md).
* :class:`ImageEncoder`: a DCGAN-discriminator-style conv net to ``embed_dim`` (the paper
  used GoogLeNet features, which cannot be downloaded here).
* :class:`TextEncoder`, the bundle: players ``text_encoder`` and ``image_encoder``;
  ``forward`` embeds the batch's text (``chars``, or ``tokens`` at the word level) and
  ``image`` (outputs ``text_embedding``, ``image_embedding``, with ``label`` and the
  text's ids as ``text_ids`` passed on for the joint-embedding
  loss, ``objectives/joint_embedding.py``). It generates nothing. ``embed_text`` and
  ``embed_image`` serve other models (the text-to-image GAN reads ``embed_text``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data import text as text_lib
from jaxgen.data.pixels import scale_images
from jaxgen.errors import JaxgenError
from jaxgen.models.layers import apply, compiled


class CharCNNRNN(nn.Module):
    """``chars`` int32 ``[B, L]`` -> text embeddings float32 ``[B, embed_dim]``."""
    vocab_size: int
    embed_dim: int = 256
    features: int = 128
    convs: int = 2
    kernel: int = 4
    pool: int = 2

    @nn.compact
    def __call__(self, chars: jax.Array, train: bool = False) -> jax.Array:
        del train  # no dropout or BatchNorm: the same in both modes
        chars = jnp.asarray(chars, jnp.int32)
        mask = (chars != 0).astype(jnp.float32)[..., None]  # [B, L, 1]
        h = jax.nn.one_hot(chars, self.vocab_size) * mask  # padding is the zero vector
        for _ in range(self.convs):
            h = nn.relu(nn.Conv(self.features, (self.kernel,), padding='SAME')(h)) * mask
            # ReLU outputs are >= 0 and padded positions 0, so a window's max is that of
            # its characters, whatever follows them.
            h = nn.max_pool(h, (self.pool,), strides=(self.pool,), padding='SAME')
            mask = nn.max_pool(mask, (self.pool,), strides=(self.pool,), padding='SAME')
        carry = jnp.zeros((h.shape[0], self.features), h.dtype)  # in the inputs' precision
        states = nn.RNN(nn.GRUCell(self.features))(h, initial_carry=carry)  # [B, T, F], causal
        mean = jnp.sum(states * mask, 1) / jnp.maximum(jnp.sum(mask, 1), 1.0)
        return nn.Dense(self.embed_dim)(mean)


class ImageEncoder(nn.Module):
    """Images ``[B, H, W, C]`` -> image embeddings ``[B, embed_dim]``: stride-2 4x4 convs
    with leaky ReLU (DCGAN's discriminator trunk) down to 7x7 or less, then a Dense."""
    embed_dim: int = 256
    features: int = 32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        del train
        h, i = x, 0
        while h.shape[1] > 7:
            h = nn.leaky_relu(nn.Conv(self.features * 2 ** i, (4, 4), strides=(2, 2),
                                      padding='SAME')(h), 0.2)
            i += 1
        return nn.Dense(self.embed_dim)(h.reshape(x.shape[0], -1))


@dataclasses.dataclass(frozen=True)
class TextEncoder:
    text_encoder: CharCNNRNN
    image_encoder: ImageEncoder
    data_info: Mapping[str, Any]
    text: text_lib.TextSpec

    @property
    def players(self):
        return {'text_encoder': self.text_encoder, 'image_encoder': self.image_encoder}

    @compiled()
    def init(self, key):
        kt, ki = jax.random.split(key)
        chars = jnp.ones((2, self.text.length), jnp.int32)
        x = jnp.zeros((2, *self.data_info['shape']), jnp.float32)
        return {'text_encoder': self.text_encoder.init(kt, chars),
                'image_encoder': self.image_encoder.init(ki, x)}

    def forward(self, variables, batch, key, train: bool = True):
        del key
        ids = batch[self.text.field]
        text, t_state = apply(self.text_encoder, variables['text_encoder'], ids, train=train)
        image, i_state = apply(self.image_encoder, variables['image_encoder'],
                               batch['image'], train=train)
        outputs = {'text_embedding': text, 'image_embedding': image, 'text_ids': ids,
                   'label': batch['label']}
        return outputs, {'text_encoder': t_state, 'image_encoder': i_state}

    def embed_text(self, variables, chars):
        """float32 ``[B, embed_dim]`` of text ids int32 ``[B, L]`` (eval mode)."""
        return self.text_encoder.apply(dict(variables['text_encoder']), chars)

    def embed_image(self, variables, images):
        """float32 ``[B, embed_dim]`` of images ``[B, H, W, C]`` (eval mode)."""
        return self.image_encoder.apply(dict(variables['image_encoder']), images)

    def generate(self, variables, inputs, key):
        raise JaxgenError('text_encoder embeds text and images and generates nothing: train '
                          'a text-to-image model with init_from pointing at this run')

    def pictures(self, variables, key, examples=None):
        """No pictures: an embedding draws nothing (``eval_every`` logs its retrieval)."""
        return {}

    def evaluate(self, variables, test_arrays, key, batch_size: int = 64):
        """Test-split text -> image retrieval in batches of ``batch_size`` (the test split
        in a fixed random order, seed 0, whole batches only): ``retrieval_label``, the
        fraction of captions whose best-matching image in the batch has the caption's
        label; ``retrieval_caption``, whose best-matching image has the same caption."""
        del key
        hits, done = self.retrieval_hits(variables, test_arrays, batch_size)
        return {'retrieval_label': float(hits[done, 0].mean()),
                'retrieval_caption': float(hits[done, 1].mean())}

    def retrieval_hits(self, variables, test_arrays, batch_size: int = 64, seed: int = 0):
        """(bool ``[N, 2]``: each test caption's label and caption hit, bool ``[N]``: whether
        it was in a whole batch); batches follow ``default_rng(seed).permutation(N)``."""
        from jaxgen.objectives import joint_embedding  # pylint: disable=import-outside-toplevel
        count = len(test_arrays['label'])
        n = count // batch_size * batch_size
        if n == 0:
            raise JaxgenError(f'text_encoder evaluation needs at least {batch_size} test '
                              f'examples; the test split has {count}')
        order = np.random.default_rng(seed).permutation(count)[:n]
        scale = self.data_info.get('scale', 'tanh')

        @jax.jit
        def batch_hits(v, x, c, y):
            return joint_embedding.retrieval_hits(self.embed_image(v, scale_images(x, scale)),
                                                  self.embed_text(v, c), y, c)
        hits, done = np.zeros((count, 2), bool), np.zeros(count, bool)
        for s in range(0, n, batch_size):
            rows = order[s:s + batch_size]
            hits[rows] = np.asarray(batch_hits(variables, test_arrays['image'][rows],
                                               test_arrays[self.text.field][rows],
                                               test_arrays['label'][rows]))
            done[rows] = True
        return hits, done


def build(model_config, data_info) -> TextEncoder:
    shape = tuple(data_info['shape'])
    text = text_lib.spec(data_info, model_config.get('text_level', 'char'), 'text_encoder')
    if len(shape) != 3 or shape[0] < 8:
        raise JaxgenError(f'text_encoder needs images of at least 8x8; got shape {shape}')
    embed_dim = model_config.get('embed_dim', 256)
    return TextEncoder(
        text_encoder=CharCNNRNN(vocab_size=len(text.vocabulary), embed_dim=embed_dim,
                                features=model_config.get('features', 128),
                                convs=model_config.get('convs', 2)),
        image_encoder=ImageEncoder(embed_dim=embed_dim,
                                   features=model_config.get('image_features', 32)),
        data_info=data_info, text=text)
