"""Tests of the char-CNN-RNN text encoder and its joint-embedding objective
(jaxgen/models/conditional/text_encoder.py, jaxgen/objectives/joint_embedding.py)."""

from __future__ import annotations

import json
import types

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import text_encoder as text_encoder_config
from jaxgen.data.derived import captions, glyphs
from jaxgen.errors import JaxgenError
from jaxgen.models.conditional import text_encoder
from jaxgen.models.layers import split_variables
from jaxgen.objectives import joint_embedding
from jaxgen.training import train

VOCAB = len(captions.CHARS)
INFO = {'name': 'captioned_test', 'kind': 'images', 'shape': [16, 16, 1], 'scale': 'tanh',
        'char_vocabulary': list(captions.CHARS), 'max_chars': 12}


def padded(texts, length):
    return np.stack([np.pad(captions.encode_chars(t)[:len(t)], (0, length - len(t)))
                     for t in texts]).astype(np.int32)


def test_text_embeddings_have_their_shape_ignore_padding_and_read_every_character():
    model = text_encoder.CharCNNRNN(vocab_size=VOCAB, embed_dim=16, features=8)
    texts = ['a thin one', 'a thick seven', 'the digit five']
    chars = padded(texts, 14)

    @jax.jit
    def embed_all(chars, longer, changed):  # one program for the three lengths
        variables = model.init(jax.random.key(0), chars)
        return [model.apply(variables, c) for c in (chars, longer, changed)]
    out, longer, changed = embed_all(
        chars, padded(texts, 23),  # nine more pad ids, odd length
        padded(['a thin two', 'a thick seven', 'five the digit'], 14))
    chex.assert_shape(out, (3, 16))
    chex.assert_type(out, jnp.float32)
    np.testing.assert_allclose(longer, out, atol=1e-6)
    assert np.abs(changed[0] - out[0]).max() > 1e-4  # a character
    np.testing.assert_allclose(changed[1], out[1], atol=1e-6)
    assert np.abs(changed[2] - out[2]).max() > 1e-4  # the order of the words


def test_image_embeddings_have_their_shape():
    encoder = text_encoder.ImageEncoder(embed_dim=16, features=4)

    @jax.jit
    def embed(x28, x32):  # one program for both sides
        return [encoder.apply(encoder.init(jax.random.key(0), x), x) for x in (x28, x32)]
    out = embed(jnp.zeros((2, 28, 28, 3)), jnp.zeros((2, 32, 32, 3)))
    chex.assert_shape(out, [(2, 16), (2, 16)])


def reference(image, text, cls, margin, reduce, symmetric):
    """The DS-SJE value written out with loops, independently of the objective."""
    n, score = len(image), image @ text.T
    image_losses, text_losses = [], []
    for k in range(n):
        for losses, hinges in ((image_losses, [margin + score[k, j] - score[k, k]
                                               for j in range(n) if cls[j] != cls[k]]),
                               (text_losses, [margin + score[i, k] - score[k, k]
                                              for i in range(n) if cls[i] != cls[k]])):
            if reduce == 'max':
                losses.append(max([0.0] + hinges))
            else:
                losses.append(sum(max(0.0, h) for h in hinges) / n)
    return np.mean(image_losses) + (np.mean(text_losses) if symmetric else 0.0)


@pytest.mark.parametrize('classes, reduce, symmetric', [
    ('label', 'max', True), ('caption', 'max', True), ('label', 'mean', True),
    ('label', 'max', False)])
def test_the_loss_and_retrieval_equal_a_loop_reference(classes, reduce, symmetric):
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(6, 4)) * .7, rng.normal(size=(6, 4)) * .7
    label = np.array([0, 1, 1, 2, 0, 1], np.int32)
    chars = np.array([[3, 4], [5, 4], [5, 4], [6, 7], [3, 8], [5, 9]], np.int32)
    cls = label if classes == 'label' else [tuple(c) for c in chars]
    term = joint_embedding.sje_term(classes, 0.8, symmetric, reduce)
    value, metrics = term({'image_embedding': jnp.asarray(image), 'text_embedding':
                           jnp.asarray(text), 'label': label, 'text_ids': chars})
    np.testing.assert_allclose(value, reference(image, text, cls, 0.8, reduce, symmetric),
                               rtol=1e-5)
    best = np.argmax(image @ text.T, axis=0)
    np.testing.assert_allclose(metrics['retrieval_label'], np.mean(label[best] == label))
    np.testing.assert_allclose(metrics['retrieval_caption'],
                               np.mean((chars[best] == chars).all(1)))


def small_model():
    config = ml_collections.ConfigDict({'name': 'text_encoder', 'embed_dim': 8, 'features': 8,
                                        'image_features': 4})
    return text_encoder.build(config, INFO)


def test_the_gradient_reaches_both_encoders_and_the_value_is_the_term():
    model = small_model()
    objective = joint_embedding.build(ml_collections.ConfigDict(
        {'name': 'joint_embedding', 'classes': 'label'}), model)
    assert objective.names == ('text_encoder', 'image_encoder')
    rng = np.random.default_rng(1)
    batch = {'image': rng.uniform(-1, 1, (5, 16, 16, 1)).astype(np.float32),
             'label': np.array([0, 1, 2, 3, 4], np.int32),
             'chars': rng.integers(1, VOCAB, (5, 12)).astype(np.int32)}
    variables = model.init(jax.random.key(0))
    params = {p: split_variables(v)[0] for p, v in variables.items()}
    state = {p: split_variables(v)[1] for p, v in variables.items()}

    @jax.jit
    def run(params):  # the losses of both players are one term: one gradient serves
        def loss(params):
            losses, aux = objective(params, state, batch, jax.random.key(1))
            return losses['text_encoder'], (losses, aux.metrics)
        grads, (losses, metrics) = jax.grad(loss, has_aux=True)(params)
        outputs, _ = model.forward(variables, batch, jax.random.key(1))
        return losses, metrics, outputs, grads
    losses, metrics, outputs, grads = run(params)
    value = reference(np.asarray(outputs['image_embedding']),
                      np.asarray(outputs['text_embedding']), batch['label'], 1.0, 'max', True)
    for player in ('text_encoder', 'image_encoder'):
        np.testing.assert_allclose(losses[player], value, rtol=1e-5)
        norms = [float(jnp.abs(g).max()) for g in jax.tree.leaves(grads[player])]
        assert min(norms) > 0 and np.isfinite(norms).all(), player  # every tensor moves
    assert 0 <= float(metrics['sje/retrieval_label']) <= 1


def test_bad_input_is_one_line():
    config = ml_collections.ConfigDict({'name': 'text_encoder'})
    with pytest.raises(JaxgenError, match="'mnist' has no chars"):
        text_encoder.build(config, {'name': 'mnist', 'kind': 'images', 'shape': [28, 28, 1]})
    model = small_model()
    with pytest.raises(JaxgenError, match='generates nothing'):
        model.generate({}, {'num': 2}, jax.random.key(0))
    for option, match in (({'classes': 'font'}, 'objective.classes'),
                          ({'reduce': 'sum'}, 'objective.reduce'),
                          ({'margin': 0.0}, 'margin must be positive'),
                          ({'l1': 100.0}, 'has no effect')):
        with pytest.raises(JaxgenError, match=match):
            joint_embedding.build(ml_collections.ConfigDict(
                {'name': 'joint_embedding', **option}), model)
    gan = types.SimpleNamespace(players={'generator': None, 'discriminator': None})
    with pytest.raises(JaxgenError, match='needs model.name=text_encoder'):
        joint_embedding.build(ml_collections.ConfigDict({'name': 'joint_embedding'}), gan)
    with pytest.raises(ValueError, match='captioned_mnist or captioned_glyphs'):
        text_encoder_config.get_config('mnist')


def test_the_word_level_reads_the_captions_words_and_nothing_else():
    """``text_level='word'``: the encoder embeds ``tokens`` (the caption's word ids) and
    passes them on as the objective's ``text_ids``; the characters are not read."""
    info = {**INFO, 'word_vocabulary': list(captions.WORDS), 'max_words': captions.MAX_WORDS}
    config = ml_collections.ConfigDict({'name': 'text_encoder', 'embed_dim': 8, 'features': 8,
                                        'image_features': 4, 'text_level': 'word', 'convs': 0})
    model = text_encoder.build(config, info)
    assert (model.text.field, model.text.length) == ('tokens', captions.MAX_WORDS)
    texts = ['a thick seven slanted to the left', 'a thin zero standing upright']
    rng = np.random.default_rng(0)
    batch = {'image': rng.uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32),
             'label': np.array([7, 0], np.int32),
             'tokens': np.stack([captions.encode(t) for t in texts]),
             'chars': rng.integers(1, VOCAB, (2, 12)).astype(np.int32)}
    variables = model.init(jax.random.key(0))
    forward = jax.jit(lambda b: model.forward(variables, b, None)[0])
    out = forward(batch)
    chex.assert_shape(out['text_embedding'], (2, 8))
    np.testing.assert_array_equal(out['text_ids'], batch['tokens'])
    other_chars = forward({**batch, 'chars': batch['chars'][::-1]})
    np.testing.assert_array_equal(other_chars['text_embedding'], out['text_embedding'])
    other_words = forward({**batch, 'tokens': batch['tokens'][::-1]})
    np.testing.assert_allclose(other_words['text_embedding'], out['text_embedding'][::-1],
                               atol=1e-6)
    assert np.abs(out['text_embedding'][0] - out['text_embedding'][1]).max() > 1e-4
    c = text_encoder_config.get_config('captioned_glyphs,word')
    assert (c.data.name, c.model.text_level, c.model.convs) == ('captioned_glyphs', 'word', 0)
    assert text_encoder_config.get_config(None).model.text_level == 'char'


@pytest.mark.parametrize('arg', ['captioned_glyphs', 'captioned_glyphs,word'])
def test_the_config_trains_and_evaluates_retrieval(tmp_path, monkeypatch, arg):
    render = glyphs.render
    monkeypatch.setattr(glyphs, 'render', lambda split: render(
        split, paths=[p for p in glyphs.font_paths() if 'DejaVu' in p][:4], characters='AB01'))
    c = text_encoder_config.get_config(arg)
    c.data.cache_dir = str(tmp_path / 'cache')
    c.num_steps, c.batch_size = 4, 8
    c.log_every = c.checkpoint_every = c.eval_every = 4
    c.model.embed_dim, c.model.features, c.model.image_features = 8, 8, 4
    c.model.convs = 0 if 'word' in arg else 1
    result = train(c, str(tmp_path / 'run'))
    assert result.step == 4
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(result.state.params))
    (record,) = [json.loads(line) for line in open(tmp_path / 'run' / 'eval.jsonl')]
    assert 0 <= record['retrieval_label'] <= 1 and 0 <= record['retrieval_caption'] <= 1
