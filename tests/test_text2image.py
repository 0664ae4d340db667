"""The text-to-image GAN (models/conditional/text2image.py, objectives/text2image.py): the
matching-aware D sees its three kinds of pairs, the D loss is real + 0.5 wrong + 0.5 fake
(checked against numpy), GAN-INT's embeddings lie halfway between their endpoints, each
term's gradient reaches exactly its players and never the frozen text encoder, and options
a variant ignores are errors. One tiny model, compiled once per test."""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import text2image as t2i_config
from jaxgen import objectives
from jaxgen.data import text as text_lib
from jaxgen.data.derived import captions
from jaxgen.errors import JaxgenError
from jaxgen.models.conditional import text2image
from jaxgen.models.layers import join_variables
from tests.helpers import init_players

B = 6
LABELS = np.array([3, 3, 3, 1, 7, 3], np.int32)
INFO = {'shape': [16, 16, 1], 'num_classes': 10, 'scale': 'tanh', 'kind': 'images',
        'char_vocabulary': list(captions.CHARS), 'max_chars': captions.MAX_CHARS,
        'word_vocabulary': list(captions.WORDS)}


def tiny_config(variant: str = 'gan_int_cls,inverse'):
    c = t2i_config.get_config(f'captioned_mnist,{variant}')
    c.model.update(features=4, d_features=4, text_features=4, embed_dim=8,
                   encoder_features=4, latent_dim=4)
    return c


@pytest.fixture(scope='module')
def setup():
    c = tiny_config()
    model = text2image.build(c.model, INFO)
    objective = objectives.build(c.objective, model)
    params, state = init_players(model)
    rng = np.random.default_rng(0)
    batch = {'image': jnp.asarray(rng.uniform(-1, 1, (B, 16, 16, 1)), jnp.float32),
             'label': jnp.asarray(LABELS),
             'chars': jnp.asarray(np.stack([captions.encode_chars(captions.caption(l, i % 3, i // 3))
                                            for i, l in enumerate(LABELS)])),
             'step': jnp.int32(0)}
    return model, objective, params, state, batch


def _run(model, objective, params, state, batch, key):
    """The objective's losses, the forward pass's outputs, and D re-applied by hand."""
    losses, aux = objective(params, state, batch, key)
    variables = {p: join_variables(params[p], state[p]) for p in params}
    outputs, _ = model.forward(variables, batch, key, train=True)

    def d(x, e):  # D in train mode on one batch, its statistics its own
        return model.discriminator.apply(variables['discriminator'], x, e, train=True,
                                         mutable=['batch_stats'])[0]
    e = outputs['embedding']
    by_hand = {'real': d(batch['image'], e),
               'wrong': d(batch['image'], e[outputs['wrong_index']]),
               'fake_and_interp': d(jnp.concatenate([outputs['fake'], outputs['interp_fake']]),
                                    jnp.concatenate([e, outputs['interp_embedding']])),
               'fake_alone': d(outputs['fake'], e)}
    return losses, aux.metrics, outputs, by_hand


@pytest.fixture(scope='module')
def run(setup):
    model, objective, params, state, batch = setup
    return jax.jit(lambda *a: _run(model, objective, *a))(params, state, batch,
                                                          jax.random.key(1))


def test_shapes_and_the_three_kinds_of_pairs_d_sees(run):
    losses, metrics, out, by_hand = run
    chex.assert_shape([out['real_logits'], out['wrong_logits'], out['fake_logits']], (B,))
    chex.assert_shape(out['fake'], (B, 16, 16, 1))
    chex.assert_shape([out['interp_logits']], (B // 2,))
    chex.assert_shape(out['interp_embedding'], (B // 2, 8))
    chex.assert_shape([out['z'], out['inverse_z']], (B, 4))
    # D's logits are on (real, matching text), (real, mismatched text), (fake, matching).
    np.testing.assert_allclose(out['real_logits'], by_hand['real'], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out['wrong_logits'], by_hand['wrong'], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jnp.concatenate([out['fake_logits'], out['interp_logits']]),
                               by_hand['fake_and_interp'], rtol=1e-5, atol=1e-6)
    # ... and, for D's own loss, on the B matching fakes alone (fDx's batch, d_pass=separate)
    np.testing.assert_allclose(out['d_fake_logits'], by_hand['fake_alone'], rtol=1e-5, atol=1e-6)
    wrong = np.asarray(out['wrong_index'])
    assert (LABELS[wrong] != LABELS).all()  # another class's text whenever the batch has one
    assert (wrong != np.arange(B)).all()
    # The objective against numpy on those logits: D real + 0.5 wrong + 0.5 fake (its own
    # pass); G the official BCE over B matching and B/2 interpolated fakes (the joint
    # pass); S its squared error.
    sp = lambda x: np.logaddexp(0.0, np.asarray(x, np.float64))  # noqa: E731
    r, w, f, i = (out[k] for k in ('real_logits', 'wrong_logits', 'fake_logits',
                                   'interp_logits'))
    assert np.max(np.abs(np.asarray(out['d_fake_logits']) - np.asarray(f))) > 1e-3
    d_want = np.mean(sp(-r)) + 0.5 * np.mean(sp(w)) + 0.5 * np.mean(sp(out['d_fake_logits']))
    g_want = (np.sum(sp(-f)) + 1.0 * np.sum(sp(-i))) / (B + B // 2)
    s_want = np.mean(np.sum((np.asarray(out['z']) - np.asarray(out['inverse_z'])) ** 2, -1))
    np.testing.assert_allclose(losses['discriminator'], d_want, rtol=1e-5)
    np.testing.assert_allclose(losses['generator'], g_want, rtol=1e-5)
    np.testing.assert_allclose(losses['inverse'], s_want, rtol=1e-5)
    assert float(losses['text_encoder']) == 0.0
    assert 'd_loss_wrong/D(x,wrong text)' in metrics


def test_a_joint_d_pass_gives_d_the_logits_of_the_joint_pass_and_bad_passes_are_errors(setup):
    """model.d_pass=joint (the behaviour before 2026-12-04): D's loss reads the joint
    B + B/2 pass's logits on the matching fakes, as G's does; no separate pass is made."""
    model, objective, params, state, batch = setup
    c = tiny_config()
    c.model.d_pass = 'joint'
    joint_model = text2image.build(c.model, INFO)
    losses, _, out, by_hand = jax.jit(lambda *a: _run(joint_model, objectives.build(
        c.objective, joint_model), *a))(params, state, batch, jax.random.key(1))
    assert 'd_fake_logits' not in out
    joint = np.asarray(by_hand['fake_and_interp'])
    np.testing.assert_allclose(out['fake_logits'], joint[:B], rtol=1e-5, atol=1e-6)
    sp = lambda x: np.logaddexp(0.0, np.asarray(x, np.float64))  # noqa: E731
    r, w, f, i = (out[k] for k in ('real_logits', 'wrong_logits', 'fake_logits',
                                   'interp_logits'))
    d_want = np.mean(sp(-r)) + 0.5 * np.mean(sp(w)) + 0.5 * np.mean(sp(f))
    np.testing.assert_allclose(losses['discriminator'], d_want, rtol=1e-5)
    np.testing.assert_allclose(losses['generator'],
                               (np.sum(sp(-f)) + np.sum(sp(-i))) / (B + B // 2), rtol=1e-5)
    c.model.d_pass = 'both'
    with pytest.raises(JaxgenError, match="must be 'joint' or 'separate', got 'both'"):
        text2image.build(c.model, INFO)
    c = tiny_config('gan_cls')
    assert 'd_pass' not in c.model  # only the interpolating variants have the choice
    c.model.d_pass = 'separate'
    with pytest.raises(JaxgenError, match='d_pass=separate has no effect without'):
        text2image.build(c.model, INFO)


def test_interpolated_embeddings_lie_halfway_between_their_endpoints(run):
    out = run[2]
    e, mid = np.asarray(out['embedding']), np.asarray(out['interp_embedding'])
    a, b = e[:B // 2], e[B // 2:]
    # mid = a + t (b - a): t from the projection, then no residual off the segment.
    t = np.sum((mid - a) * (b - a), -1) / np.sum((b - a) ** 2, -1)
    np.testing.assert_allclose(t, 0.5, atol=1e-5)
    np.testing.assert_allclose(mid, a + t[:, None] * (b - a), atol=1e-6)


def test_mismatched_text_prefers_another_class_then_another_caption():
    chars = np.asarray([[1, 2], [1, 2], [3, 4], [1, 2]])
    got = jax.jit(text2image.mismatched)({'chars': chars, 'label': np.asarray([0, 0, 0, 1])})
    np.testing.assert_array_equal(got, [3, 3, 3, 2])  # 2: another class and caption
    got = jax.jit(text2image.mismatched)({'chars': chars})  # no labels: another caption
    np.testing.assert_array_equal(got, [2, 2, 3, 2])
    got = jax.jit(text2image.mismatched)({'chars': np.zeros((3, 2), np.int32)})  # all alike
    np.testing.assert_array_equal(got, [1, 2, 0])


def test_each_term_reaches_exactly_its_players_and_never_the_text_encoder(setup):
    model, objective, params, state, batch = setup
    names = [t.name for t in objective.terms]

    @jax.jit
    def term_grads(weights):  # one compiled gradient, of one term at a time (one-hot)
        def value(p):
            metrics = objective(p, state, batch, jax.random.key(3))[1].metrics
            return jnp.stack([metrics[n] for n in names]) @ weights
        return jax.grad(value)(params)
    reach = {}
    for i, name in enumerate(names):
        grads = term_grads(jnp.eye(len(names))[i])
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
        reach[name] = {p for p, g in grads.items()
                       if any(float(jnp.abs(x).sum()) > 0 for x in jax.tree.leaves(g))}
    assert reach == {'d_loss': {'discriminator', 'generator'},
                     'd_loss_wrong': {'discriminator'},
                     'g_loss': {'discriminator', 'generator'},
                     'g_loss_int': {'discriminator', 'generator'},
                     'inverse': {'inverse'}}  # S reads stop-gradient fakes
    weights = {t.name: dict(t.weights) for t in objective.terms}
    assert weights == {'d_loss': {'discriminator': 0.5}, 'd_loss_wrong': {'discriminator': 0.5},
                       'g_loss': {'generator': 2 / 3}, 'g_loss_int': {'generator': 1 / 3},
                       'inverse': {'inverse': 1.0}}


@pytest.mark.parametrize('variant, terms', [
    ('gan', {'d_loss': {'discriminator': 1.0}, 'g_loss': {'generator': 1.0}}),
    ('gan_cls', {'d_loss': {'discriminator': 0.5}, 'd_loss_wrong': {'discriminator': 0.5},
                 'g_loss': {'generator': 1.0}}),
    ('gan_int', {'d_loss': {'discriminator': 1.0}, 'g_loss': {'generator': 2 / 3},
                 'g_loss_int': {'generator': 1 / 3}}),
])
def test_each_variant_has_its_terms(variant, terms):
    c = tiny_config(variant)
    model = text2image.build(c.model, INFO)
    objective = objectives.build(c.objective, model)
    assert {t.name: dict(t.weights) for t in objective.terms} == terms
    assert model.conditions == ('chars',) and model.pretrained == ('text_encoder',)


@pytest.mark.parametrize('variant, option, value', [
    ('gan', 'cls_weight', 0.5), ('gan_cls', 'interp_weight', 1.0),
    ('gan_int', 'inverse_weight', 1.0), ('gan_int_cls', 'loss', 'hinge')])
def test_an_option_the_variant_ignores_is_an_error(variant, option, value):
    c = tiny_config(variant)
    c.objective[option] = value
    with pytest.raises(JaxgenError, match=f'objective.{option}=.* has no effect'):
        objectives.build(c.objective, text2image.build(c.model, INFO))


def test_decay_holds_each_players_rate_for_half_the_run_then_takes_it_to_zero():
    """``,decay``: every player's Adam (the inverse network's too) keeps 2e-4 for the
    first half of ``num_steps`` and falls linearly to 0 at its end; an overridden
    ``num_steps`` moves the schedule; without ``decay`` the rate is the constant 2e-4."""
    from jaxgen.training.experiment import build_optimizer, build_schedule
    c = t2i_config.get_config('captioned_glyphs,gan_cls,inverse,word,decay')
    c.num_steps = 12000  # as the command line's --config.num_steps does
    assert set(c.optimizers) == {'generator', 'discriminator', 'inverse'}
    for player, opt in c.optimizers.items():
        rate = build_schedule(player, opt.learning_rate)
        got = [float(rate(n)) for n in (0, 5999, 6000, 9000, 10500, 12000, 13000)]
        np.testing.assert_allclose(got, [2e-4, 2e-4, 2e-4, 1e-4, 5e-5, 0.0, 0.0], atol=1e-12)
        build_optimizer(player, opt)  # and optax takes it
    plain = t2i_config.get_config('captioned_glyphs,gan_cls,inverse,word')
    assert {p: o.learning_rate for p, o in plain.optimizers.items()} == {
        'generator': 2e-4, 'discriminator': 2e-4, 'inverse': 2e-4}
    with pytest.raises(ValueError, match=r"\[,decay\].*got \['decays'\]"):
        t2i_config.get_config('captioned_glyphs,decays')


def test_residual_gives_g_the_official_blocks_and_g_loss_reaches_every_one(setup):
    """``,residual``: G gets the official code's bottleneck blocks at its two coarsest
    resolutions (``model.residual_stages=2``, 0 without it), and G's loss has a finite,
    non-zero gradient on every one of their weights."""
    assert t2i_config.get_config('captioned_glyphs,gan_cls,word').model.residual_stages == 0
    c = tiny_config('gan_cls,residual')
    assert c.model.residual_stages == 2
    model = text2image.build(c.model, INFO)
    objective = objectives.build(c.objective, model)
    params, state = init_players(model)
    g = params['generator']['DCGANGenerator_0']
    assert sorted(k for k in g if k.startswith('Bottleneck')) == ['Bottleneck_0', 'Bottleneck_1']
    chex.assert_shape([g['Bottleneck_0']['Conv_0']['kernel'], g['Bottleneck_1']['Conv_0']['kernel']],
                      [(1, 1, 8, 2), (1, 1, 4, 1)])  # features 4: 8 at 4x4, 4 at 8x8
    batch = setup[-1]
    grads = jax.jit(jax.grad(lambda p: objective(p, state, batch, jax.random.key(5))[0][
        'generator']))(params)['generator']['DCGANGenerator_0']
    for name in ('Bottleneck_0', 'Bottleneck_1'):
        for leaf in jax.tree.leaves(grads[name]):
            assert bool(jnp.all(jnp.isfinite(leaf))) and float(jnp.abs(leaf).sum()) > 0
    with pytest.raises(ValueError, match=r"\[,residual\].*got \['residuals'\]"):
        t2i_config.get_config('captioned_glyphs,residuals')


def test_data_without_captions_and_text_free_generation_are_one_line():
    c = tiny_config('gan')
    with pytest.raises(JaxgenError, match='needs captioned images'):
        text2image.build(c.model, {'shape': [28, 28, 1], 'scale': 'tanh'})
    model = text2image.build(c.model, INFO)
    with pytest.raises(JaxgenError, match='generates from text'):
        model.generate({}, {'num': 4}, jax.random.key(0))
    with pytest.raises(JaxgenError, match='not read label'):
        model.generate({}, {'label': np.zeros(4)}, jax.random.key(0))


@pytest.mark.skipif(not os.environ.get('JAXGEN_DATA_DIR'),
                    reason='JAXGEN_DATA_DIR not set: no real MNIST for captions')
@pytest.mark.parametrize('level', ['char', 'word'])
def test_consistency_against_the_stored_measurements(tmp_path, level):
    """A stand-in model that draws, for each caption, the image of the next test example
    (cyclically): its agreement rates are those of the stored bins and labels of the
    neighbours, computed here with numpy; the test images themselves agree fully. The
    captions are built from the first 1,000 real test digits (the whole split's
    morphometrics took 30-200 s on a fresh cache)."""
    from jaxgen.data import base_arrays  # pylint: disable=import-outside-toplevel
    from jaxgen.metrics.own.text2image import MnistJudge, consistency  # pylint: disable=import-outside-toplevel
    real = base_arrays({'cache_dir': os.environ.get('JAXGEN_CACHE_DIR') or str(tmp_path)})
    subset = {k: v[:1000] for k, v in real('mnist', 'test').items()}
    arrays = captions.captioned_mnist({'cache_dir': str(tmp_path)}, 'test',
                                      lambda name, split: subset, processes=1)[0]
    t, s = captions.bins(arrays['attributes'])
    held = captions.held_out_mask(arrays['label'], t, s)
    first = np.unique(arrays['chars'], axis=0, return_index=True)[1]  # distinct captions
    pick = np.concatenate([np.intersect1d(first, np.flatnonzero(m))[:n]
                           for m, n in ((~held, 6), (held, 5))])
    arrays = {k: v[pick] for k, v in arrays.items()}
    images = arrays['image'].astype(np.float32) / 127.5 - 1.0
    field = text_lib.LEVELS[level][0]  # the model reads chars or tokens: so must the metric
    by_caption = {c.tobytes(): np.roll(images, -1, 0)[i] for i, c in enumerate(arrays[field])}
    by_image = {im.tobytes(): l for im, l in zip(images, arrays['label'])}

    class Model:
        text = text_lib.TextSpec(level, field, (), 0)

        def generate(self, variables, inputs, key):
            assert set(inputs) == {field}
            return np.stack([by_caption[c.tobytes()] for c in np.asarray(inputs[field])])

    class Extractor:
        def logits(self, x):
            return np.eye(10)[[by_image[im.tobytes()] for im in np.asarray(x, np.float32)]]

    got = consistency(Model(), None, arrays, jax.random.key(0), judge=MnistJudge(Extractor()))
    t, s = captions.bins(arrays['attributes'])
    nxt = lambda a: np.roll(a, -1)  # noqa: E731  (what each caption was drawn as)
    for part, sl in (('heldin', slice(0, 6)), ('heldout', slice(6, 11))):
        # the next example of the whole pick; the last held-in one draws the first held-out
        want = {'class': nxt(arrays['label'])[sl] == arrays['label'][sl],
                'thickness': nxt(t)[sl] == t[sl], 'slant': nxt(s)[sl] == s[sl]}
        want['all'] = want['class'] & want['thickness'] & want['slant']
        for name, right in want.items():
            assert got[f'{name}_acc_{part}'] == pytest.approx(right.mean()), (name, part)
            assert got[f'real_{name}_acc_{part}'] == 1.0


def test_glyph_judge_reads_the_font_classifier_through_the_caption_attributes():
    """captioned_glyphs: a stand-in model draws, for each caption, the image of the next
    example (cyclically); stand-in classifiers name each image's true character and font.
    The class rate is how often the next character equals the caption's, and each attribute
    rate how often the next font has the caption's family, weight or style, computed here
    from the font table with numpy; the held-out part holds exactly the HELD_OUT
    combinations (bold G, mono R); the test images themselves agree fully."""
    from jaxgen.data.derived import glyph_captions  # pylint: disable=import-outside-toplevel
    from jaxgen.metrics.own.text2image import GlyphJudge, consistency  # pylint: disable=import-outside-toplevel
    fonts = {'sansb': {'family': 'sans', 'weight': 'bold', 'style': 'upright'},
             'monoi': {'family': 'mono', 'weight': 'regular', 'style': 'italic'},
             'serifo': {'family': 'serif', 'weight': 'regular', 'style': 'oblique'},
             'monob': {'family': 'mono', 'weight': 'bold', 'style': 'oblique'}}
    names, chars = list(fonts), list('GRXZ')
    rng = np.random.default_rng(0)
    domain = rng.integers(0, len(names), 40)
    label = rng.integers(0, len(chars), 40)
    attrs = {a: np.array([glyph_captions.ATTRIBUTES[a].index(fonts[names[d]][a]) for d in domain])
             for a in glyph_captions.ATTRIBUTES}
    arrays = {'label': label, 'domain': domain, **attrs,
              'chars': np.arange(40 * 3).reshape(40, 3).astype(np.int32),  # one caption each
              'image': rng.uniform(-1, 1, (40, 4, 4, 1)).astype(np.float32)}
    held = ((np.array(chars)[label] == 'G') & (attrs['weight'] == 1)) | (
        (np.array(chars)[label] == 'R') & (attrs['family'] == 2))
    assert held.any() and (~held).any()
    order = np.concatenate([np.flatnonzero(~held), np.flatnonzero(held)])
    nxt = np.roll(order, -1)  # the example each caption is drawn as, along the judged order
    draws = {arrays['chars'][i].tobytes(): arrays['image'][j] for i, j in zip(order, nxt)}
    who = {im.tobytes(): i for i, im in enumerate(arrays['image'])}

    class Model:
        text = text_lib.TextSpec('char', 'chars', tuple(captions.CHARS), captions.MAX_CHARS)

        def generate(self, variables, inputs, key):
            return np.stack([draws[c.tobytes()] for c in np.asarray(inputs['chars'])])

    class Names:  # a classifier that knows each image's true field
        def __init__(self, field, n):
            self.field, self.n = field, n

        def logits(self, x):
            return np.eye(self.n)[[arrays[self.field][who[im.tobytes()]] for im in np.asarray(x)]]

    judge = GlyphJudge(Names('label', 4), Names('domain', 4), chars, names, fonts)
    got = consistency(Model(), None, arrays, jax.random.key(0), judge=judge)
    assert got['num_heldin'] == (~held).sum() and got['num_heldout'] == held.sum()
    for part, index in (('heldin', np.flatnonzero(~held)), ('heldout', np.flatnonzero(held))):
        drawn = dict(zip(order, nxt))
        j = np.array([drawn[i] for i in index])
        want = {'class': label[j] == label[index]}
        for a in glyph_captions.ATTRIBUTES:
            want[a] = attrs[a][j] == attrs[a][index]
        want['all'] = np.all(list(want.values()), axis=0)
        for name, right in want.items():
            assert got[f'{name}_acc_{part}'] == pytest.approx(right.mean()), (name, part)
            assert got[f'real_{name}_acc_{part}'] == 1.0
    # the font table read in another order: the fonts' attributes no longer match
    swapped = GlyphJudge(Names('label', 4), Names('domain', 4), chars, names[1:] + names[:1], fonts)
    other = consistency(Model(), None, arrays, jax.random.key(0), judge=swapped)
    assert other['real_weight_acc_heldin'] < 1.0


def test_glyph_judge_picks_captions_evenly_across_the_font_ordered_split():
    """The glyphs' test split runs font by font: a subset of it is spread over the whole
    split (every font represented), not its first examples; MNIST's keeps the first."""
    from jaxgen.metrics.own.text2image import GlyphJudge, MnistJudge  # pylint: disable=import-outside-toplevel
    fonts = np.repeat(np.arange(22), 180)  # 22 fonts x 36 characters x 5 examples
    index = np.arange(len(fonts))
    picked = GlyphJudge.pick(index, 1000)
    assert len(picked) == len(set(picked)) == 1000
    assert set(fonts[picked]) == set(range(22))
    assert set(fonts[index[:1000]]) == set(range(6))  # what the first 1,000 would hold
    np.testing.assert_array_equal(GlyphJudge.pick(index[:10], 1000), index[:10])
    np.testing.assert_array_equal(MnistJudge.pick(index, 1000), index[:1000])


@pytest.mark.parametrize('level', ['char', 'word'])
def test_glyph_zero_shot_pictures_caption_each_held_out_combination_on_an_existing_face(level):
    """captioned_glyphs' zero-shot picture: one caption per HELD_OUT (character, attribute,
    value), completed with a real font's other attributes, in the ids the model reads."""
    from jaxgen.data.derived import glyph_captions  # pylint: disable=import-outside-toplevel
    from jaxgen.visualisation.pictures import text2image as pics  # pylint: disable=import-outside-toplevel
    fonts = {'DejaVuSans': {'family': 'sans', 'weight': 'regular', 'style': 'upright'},
             'DejaVuSans-Bold': {'family': 'sans', 'weight': 'bold', 'style': 'upright'},
             'DejaVuSansMono': {'family': 'mono', 'weight': 'regular', 'style': 'upright'},
             'DejaVuSerif-Italic': {'family': 'serif', 'weight': 'regular', 'style': 'italic'},
             'DejaVuSans-Oblique': {'family': 'sans', 'weight': 'regular', 'style': 'oblique'}}

    class Model:
        data_info = {'name': 'captioned_glyphs', 'font_attributes': fonts,
                     'char_vocabulary': list(captions.CHARS),
                     'max_chars': glyph_captions.MAX_CHARS,
                     'word_vocabulary': list(glyph_captions.WORDS),
                     'max_words': glyph_captions.MAX_WORDS}
        text = text_lib.spec(data_info, level)
    rows = pics.ZERO_SHOT['captioned_glyphs'](Model())
    chex.assert_shape(rows, (4, Model.text.length))
    assert [pics.caption_text(Model(), r) for r in rows] == [
        'the letter g in a bold upright sans font', 'the letter r in a regular upright mono font',
        'the digit seven in a regular italic serif font',
        'the letter a in a regular oblique sans font']


def test_the_word_level_reads_the_captions_words_everywhere():
    """``configs/text2image.py:<dataset>,word``: the model embeds, mismatches and generates
    from ``tokens`` (a batch without ``chars`` trains), and says so in ``conditions``."""
    c = tiny_config('gan_int_cls,word')
    assert (c.model.text_level, c.model.encoder_convs, c.init_from.text_encoder) == (
        'word', 0, 'runs/t2i/text_encoder_word')
    model = text2image.build(c.model, {**INFO, 'max_words': captions.MAX_WORDS})
    assert model.conditions == ('tokens',) and model.text.length == captions.MAX_WORDS
    params, state = init_players(model)
    variables = {p: join_variables(params[p], state[p]) for p in params}
    tokens = np.stack([captions.encode(captions.caption(l, i % 3, i // 3))
                       for i, l in enumerate(LABELS)])
    rng = np.random.default_rng(0)
    batch = {'image': jnp.asarray(rng.uniform(-1, 1, (B, 16, 16, 1)), jnp.float32),
             'label': jnp.asarray(LABELS), 'tokens': jnp.asarray(tokens)}
    outputs, _ = jax.jit(lambda b: model.forward(variables, b, jax.random.key(1)))(batch)
    np.testing.assert_allclose(outputs['embedding'], model.embed(variables, tokens), atol=1e-6)
    wrong = np.asarray(outputs['wrong_index'])
    np.testing.assert_array_equal(wrong, text2image.mismatched(batch, 'tokens'))
    assert (LABELS[wrong] != LABELS).all()  # every batch here has another class for each
    images = model.generate(variables, {'tokens': tokens[:2]}, jax.random.key(0))
    chex.assert_shape(images, (2, 16, 16, 1))
    with pytest.raises(JaxgenError, match=r"generates from text: pass \{'tokens': int32"):
        model.generate(variables, {'z': np.zeros((2, 4))}, jax.random.key(0))
