"""InfoGAN: shapes, the information bound, exact reduction to the GAN at λ = 0,
where the information term's gradients go, and the code-accuracy metric."""

import json
import os
import time

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from configs import infogan as infogan_config
from jaxgen import models, rules
from jaxgen.errors import JaxgenError
from jaxgen.metrics import code_correlations, hungarian_accuracy, own
from jaxgen.metrics.codes import hungarian_matching
from jaxgen.models.gan.latents import LatentCodes
from jaxgen.models.layers import apply
from jaxgen.objectives.gan import gan_objective
from jaxgen.objectives.infogan import categorical_info_term, info_schedule, infogan_objective
from jaxgen.training import train
from jaxgen.training.restore import load
from tests import helpers

MODEL = ml_collections.ConfigDict(dict(name='infogan', noise_dim=62, categorical=(10,),
                                       continuous=2))
INFO = {'shape': [28, 28, 1], 'scale': 'tanh'}


@pytest.fixture(scope='session')
def setup():
    model = models.build(MODEL, INFO)
    params, state = helpers.init_players(model)
    images = jax.random.uniform(jax.random.key(1), (1, 16, 28, 28, 1), minval=-1, maxval=1)
    return model, params, state, {'image': images}


def test_shapes_of_generator_discriminator_and_q(setup):
    model, params, state, batches = setup
    variables = {p: {'params': params[p], **state[p]} for p in params}
    codes = model.codes.sample(jax.random.key(2), 16)
    chex.assert_shape(codes['z'], (16, 62))
    chex.assert_shape(codes['cat'], (16, 1))
    chex.assert_shape(codes['cont'], (16, 2))
    assert float(jnp.min(codes['cont'])) >= -1 and float(jnp.max(codes['cont'])) <= 1
    def players(variables, codes):
        x, _ = apply(model.generator, variables['generator'], model.codes.to_input(codes),
                     train=True)
        (logits, features), _ = apply(model.discriminator, variables['discriminator'], x,
                                      train=True)
        q, _ = apply(model.q, variables['q'], features, train=True)
        return x, logits, features, q

    x, logits, features, q = jax.jit(players)(variables, codes)  # one program, not op by op
    chex.assert_shape(x, (16, 28, 28, 1))
    chex.assert_shape(logits, (16,))
    chex.assert_shape(features, (16, 1024))
    chex.assert_shape(q['cat_logits'], (16, 10))
    chex.assert_shape([q['cont_mean'], q['cont_log_std']], (16, 2))
    outputs, new_state = jax.jit(model.forward)(variables, jax.tree.map(lambda b: b[0], batches),
                                                jax.random.key(3))
    assert set(new_state) == {'generator', 'discriminator', 'q'}
    chex.assert_shape(outputs['q_cat_logits'], (16, 10))


def test_information_bound_never_exceeds_entropy_and_reaches_it_when_q_is_exact():
    codes = LatentCodes(noise_dim=4, categorical=(10,), continuous=0)
    term = categorical_info_term(codes)
    c = codes.sample(jax.random.key(0), 512)
    for seed in range(20):  # arbitrary Q's, some confident, some not
        scale = 10.0 ** (seed % 4 - 1)
        logits = scale * jax.random.normal(jax.random.key(seed), (512, 10))
        _, metrics = term({'q_cat_logits': logits, 'codes': c})
        assert float(metrics['L_I']) <= float(metrics['H(c)']) + 1e-6
    np.testing.assert_allclose(float(metrics['H(c)']), np.log(10.0), rtol=1e-6)
    exact = 50.0 * jax.nn.one_hot(c['cat'][:, 0], 10)
    _, metrics = term({'q_cat_logits': exact, 'codes': c})
    np.testing.assert_allclose(float(metrics['L_I']), np.log(10.0), atol=1e-5)
    uniform = jnp.zeros((512, 10))  # a Q that knows nothing: L_I = 0
    _, metrics = term({'q_cat_logits': uniform, 'codes': c})
    np.testing.assert_allclose(float(metrics['L_I']), 0.0, atol=1e-5)


def _one_step(model, objective, params, state, batches):
    opts = {'discriminator': optax.adam(2e-4, b1=0.5), 'generator': optax.adam(1e-3, b1=0.5),
            'q': optax.adam(1e-3, b1=0.5)}
    rule = rules.alternating(opts)
    update = jax.jit(lambda p, s, r, b, k: rule.update(objective, p, s, r, b, k))
    return update(params, state, rule.init(params), batches, jax.random.key(4))


def test_lambda_zero_gives_exactly_the_gan_step(setup):
    model, params, state, batches = setup
    info0 = infogan_objective(model, lambda_categorical=0.0, lambda_continuous=0.0)
    gan = gan_objective(model)
    p_info, s_info, r_info, _ = _one_step(model, info0, params, state, batches)
    p_gan, s_gan, r_gan, _ = _one_step(model, gan, params, state, batches)
    chex.assert_trees_all_equal(p_info, p_gan)   # parameters: bit for bit
    chex.assert_trees_all_equal(r_info, r_gan)   # optimizer states: bit for bit
    # BatchNorm running averages are not parameters: Q's statistics feed the
    # (unused, zero-weighted) information metrics in one graph and nothing in
    # the other, so XLA fuses their reductions differently (seen: 1 ulp).
    chex.assert_trees_all_close(s_info, s_gan, rtol=1e-6, atol=0)
    # That λ = 1 does change G's and Q's updates is the next test's first assertions.


def test_info_schedule_is_zero_before_its_start_then_ramps_linearly_to_one():
    scale = info_schedule(start=100, ramp=4)
    at = lambda step: float(scale(jnp.asarray(step)))  # noqa: E731
    assert [at(s) for s in (0, 99, 100, 101, 102, 103, 104, 5000)] == [
        0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    step_at_once = info_schedule(start=10)
    assert [float(step_at_once(jnp.asarray(s))) for s in (9, 10, 11)] == [0, 1, 1]
    assert info_schedule() is None  # the paper's default: no schedule at all


@pytest.mark.parametrize('bad', [-1, 2.5, True, '10'])
def test_a_bad_info_schedule_is_a_one_line_error(bad):
    for kwargs in ({'start': bad}, {'ramp': bad}):
        with pytest.raises(JaxgenError, match='whole number of steps') as info:
            info_schedule(**kwargs)
        assert '\n' not in str(info.value)


def test_before_its_start_the_information_term_leaves_the_gan_step_and_after_it_the_infogan_step(
        setup):
    model, params, state, batches = setup
    scheduled = infogan_objective(model, info_start=10, info_ramp=5)

    def step(objective, at):
        return _one_step(model, objective, params, state, {**batches, 'step': jnp.array([at])})

    before, after = step(scheduled, 9), step(scheduled, 14)
    gan, infogan = step(gan_objective(model), 9), step(infogan_objective(model), 14)
    chex.assert_trees_all_equal(before[0], gan[0])      # λ scaled to 0: the GAN's parameters
    chex.assert_trees_all_equal(after[0], infogan[0])   # ramp done: InfoGAN's parameters
    halfway = step(scheduled, 12)[0]['generator']       # scale 3/5: neither of the two
    assert not np.array_equal(*[jax.tree.leaves(p)[0] for p in (halfway, gan[0]['generator'])])
    assert not np.array_equal(*[jax.tree.leaves(p)[0] for p in (halfway,
                                                                infogan[0]['generator'])])


@pytest.mark.parametrize('train_trunk', [False, True])
def test_information_gradients_reach_g_and_q_and_the_trunk_only_if_configured(setup,
                                                                              train_trunk):
    model, params, state, batches = setup
    batch = jax.tree.map(lambda b: b[0], batches)
    phase = {'generator': 'generator', 'discriminator': 'discriminator', 'q': 'q'}
    key = jax.random.key(5)
    objective = infogan_objective(model, train_trunk=train_trunk)
    with_info, _, _ = helpers.player_grads(objective, phase, params, state, batch, key)
    without, _, _ = helpers.player_grads(gan_objective(model), phase, params, state, batch, key)
    chex.assert_tree_all_finite(with_info)
    assert all(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(with_info['q']))
    assert all(float(jnp.max(jnp.abs(g))) == 0 for g in jax.tree.leaves(without['q']))
    # the information terms' own gradient, in one program (a difference of two programs'
    # gradients carries their rounding): it reaches G and D's trunk, never D's real/fake
    # head; the terms update D (its trunk) only if configured
    info_terms = [t for t in objective.terms if t.name.startswith('info')]
    assert info_terms
    for term in info_terms:
        assert set(dict(term.weights)) == {'generator', 'q'} | (
            {'discriminator'} if train_trunk else set())
    info = jax.jit(jax.grad(lambda p: sum(
        objective(p, state, batch, key)[1].metrics[t.name] for t in info_terms)))(params)
    assert all(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(info['generator']))
    d = {k: [float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(v)]
         for k, v in info['discriminator'].items()}
    assert all(v == 0 for v in d.pop('Dense_1'))  # the real/fake head
    assert all(v > 0 for values in d.values() for v in values)


def test_code_accuracy_is_one_for_a_permuted_labelling_and_chance_for_random():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 10000)
    permutation = rng.permutation(10)
    assert hungarian_accuracy(permutation[labels], labels) == 1.0
    random = hungarian_accuracy(rng.integers(0, 10, 10000), labels)
    assert 0.09 < random < 0.13
    half = labels.copy()
    half[:5000] = rng.integers(0, 10, 5000)
    assert 0.5 < hungarian_accuracy(permutation[half], labels) < 0.6
    codes = rng.uniform(-1, 1, (1000, 2))
    np.testing.assert_allclose(code_correlations(codes, 3 * codes + 1), [1.0, 1.0])
    assert max(abs(r) for r in code_correlations(codes, rng.normal(size=(1000, 2)))) < 0.1


def test_the_evaluation_matches_q_s_categories_to_labels_and_correlates_the_codes(setup):
    model, params, state, _ = setup
    variables = {p: {'params': params[p], **state[p]} for p in params}
    rng = np.random.default_rng(0)
    arrays = {'image': rng.integers(0, 256, (60, 28, 28, 1), dtype=np.uint8),
              'label': rng.integers(0, 10, 60).astype(np.int32)}
    metrics = own.for_model(model)(variables, arrays, jax.random.key(3), num_codes=64)
    assert set(metrics) == {'cat_accuracy', 'cont_corr_c2', 'cont_corr_c3'}
    q = model.recognise(variables, arrays['image'].astype(np.float32) / 127.5 - 1.0)
    predicted = np.argmax(np.asarray(q['cat_logits'])[:, :10], axis=-1)
    assert metrics['cat_accuracy'] == pytest.approx(hungarian_accuracy(predicted,
                                                                       arrays['label']))
    codes = model.codes.sample(jax.random.key(3), 64)
    estimates = model.recognise(variables, model.decode(variables, codes))
    expected = code_correlations(np.asarray(codes['cont']), np.asarray(estimates['cont_mean']))
    np.testing.assert_allclose([metrics['cont_corr_c2'], metrics['cont_corr_c3']], expected,
                               rtol=1e-5)


def test_infogan_config_trains_evaluates_and_draws_the_paper_figure(tmp_path):
    config = infogan_config.get_config()
    assert infogan_config.get_config('fashion_mnist').data.name == 'fashion_mnist'
    config.data.name = 'digits'
    config.num_steps = 2
    config.batch_size = 8
    config.log_every = config.sample_every = config.eval_every = config.checkpoint_every = 2
    workdir = str(tmp_path / 'run')
    began = time.perf_counter()
    result = train(config, workdir)
    elapsed = time.perf_counter() - began
    assert {'info_cat/L_I', 'info_cat/H(c)', 'info_cont/L_I', 'eval/cat_accuracy',
            'eval/cont_corr_c2', 'eval/cont_corr_c3'} <= set(result.metrics)
    with open(os.path.join(workdir, 'eval.jsonl')) as f:
        evals = [json.loads(line) for line in f]
    assert evals[-1]['step'] == 2
    # eval.jsonl holds the numbers the run logged; a best matching of 10 categories is
    # right at least a tenth of the time, whatever the predictions
    assert evals[-1]['cat_accuracy'] == pytest.approx(result.metrics['eval/cat_accuracy'])
    assert evals[-1]['cat_accuracy'] >= 0.1 - 1e-9
    assert 0.0 < evals[-1]['wall_s'] <= elapsed  # time to result, compilation included
    for name in ('traversal_c2.png', 'traversal_c3.png', 'samples.png', 'information.png',
                 'losses.png'):
        assert os.path.getsize(os.path.join(workdir, name)) > 1000, name


def test_noise_is_uniform_by_default_as_in_the_authors_code_and_normal_on_request():
    key = jax.random.key(0)
    uniform = LatentCodes(noise_dim=62, categorical=(10,)).sample(key, 4000)['z']
    assert float(jnp.min(uniform)) >= -1.0 and float(jnp.max(uniform)) <= 1.0
    assert float(jnp.var(uniform)) == pytest.approx(1 / 3, rel=0.02)
    normal = LatentCodes(noise_dim=62, categorical=(10,), noise='normal').sample(key, 4000)['z']
    assert float(jnp.max(jnp.abs(normal))) > 3.0
    assert float(jnp.var(normal)) == pytest.approx(1.0, rel=0.02)
    with pytest.raises(JaxgenError, match='unknown noise distribution'):
        LatentCodes(noise='cauchy')


def test_noise_scale_multiplies_z_and_leaves_the_codes_alone():
    key = jax.random.key(1)
    base = LatentCodes(noise_dim=62, categorical=(10,), continuous=2).sample(key, 500)
    small = LatentCodes(noise_dim=62, categorical=(10,), continuous=2,
                        noise_scale=0.3).sample(key, 500)
    np.testing.assert_array_equal(np.asarray(small['z']), 0.3 * np.asarray(base['z']))
    assert float(jnp.max(jnp.abs(small['z']))) <= 0.3
    np.testing.assert_array_equal(np.asarray(small['cat']), np.asarray(base['cat']))
    np.testing.assert_array_equal(np.asarray(small['cont']), np.asarray(base['cont']))
    for bad in (0.0, -1.0, True, 'big'):
        with pytest.raises(JaxgenError, match='noise_scale multiplies the noise z'):
            LatentCodes(noise_scale=bad)


def test_config_noise_scale_reaches_the_model_and_a_bad_one_is_a_one_line_error():
    assert models.build(MODEL, INFO).codes.noise_scale == 1.0
    small = ml_collections.ConfigDict({**MODEL.to_dict(), 'noise_scale': 0.3})
    assert models.build(small, INFO).codes.noise_scale == 0.3
    bad = ml_collections.ConfigDict({**MODEL.to_dict(), 'noise_scale': 0.0})
    with pytest.raises(JaxgenError, match='noise_scale multiplies the noise z'):
        models.build(bad, INFO)


def test_weights_start_at_the_authors_scale():
    """N(0, 0.02) kernels and N(1, 0.02) BatchNorm scales, not Flax's defaults."""
    model = models.build(MODEL, {'shape': [28, 28, 1]})
    variables = jax.jit(model.init)(jax.random.key(0))
    first = variables['generator']['params']['Dense_0']['kernel']
    assert float(jnp.std(first)) == pytest.approx(0.02, rel=0.05)
    scale = variables['generator']['params']['BatchNorm_0']['scale']
    assert float(jnp.mean(scale)) == pytest.approx(1.0, abs=0.005)
    assert 0.01 < float(jnp.std(scale)) < 0.03


def test_hungarian_matching_recovers_the_permutation_and_counts_the_confusions():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 5000)
    permutation = rng.permutation(10)
    predicted = permutation[labels]
    predicted[labels == 9] = permutation[4]  # every 9 lands in the category of 4
    counts, mapping = hungarian_matching(predicted, labels)
    assert all(mapping[int(permutation[d])] == d for d in range(9) if d != 4)
    assert {mapping[int(permutation[4])], mapping[int(permutation[9])]} == {4, 9}
    assert counts[permutation[4], 9] == (labels == 9).sum()
    assert counts.sum() == 5000


def test_leak_sets_the_slope_of_d_and_q_and_the_data_scale_sets_g_s_output():
    """model.leak = 0 leaves no negative activations in D's trunk and Q's head, 0.01 does;
    data.scale 'unit' gives a sigmoid generator (pixels in [0, 1]), 'tanh' pixels in [-1, 1]."""
    codes = LatentCodes(noise_dim=62, categorical=(10,), continuous=2).sample(
        jax.random.key(0), 16)
    images = jax.random.uniform(jax.random.key(1), (16, 28, 28, 1))
    lows = {}
    for leak, scale in ((0.0, 'unit'), (0.01, 'tanh')):
        model = models.build(ml_collections.ConfigDict({**MODEL.to_dict(), 'leak': leak}),
                             {'shape': [28, 28, 1], 'scale': scale})
        variables = jax.jit(model.init)(jax.random.key(0))
        x, _ = apply(model.generator, variables['generator'], model.codes.to_input(codes),
                     train=True)
        (_, features), _ = apply(model.discriminator, variables['discriminator'], images,
                                 train=True)
        lows[leak] = float(jnp.min(features))
        assert float(jnp.min(x)) >= (0.0 if scale == 'unit' else -1.0)
        assert (float(jnp.min(x)) < 0.0) == (scale == 'tanh')
        q = {s: model.q.clone(slope=s).apply(variables['q'], features)['cat_logits']
             for s in (leak, 0.5)}
        assert model.q.slope == leak and not np.allclose(q[leak], q[0.5])
    assert lows[0.0] == 0.0 and lows[0.01] < 0.0


@pytest.mark.parametrize('leak', [-0.1, 1.0, 'small', True])
def test_a_bad_leak_or_data_scale_is_a_one_line_error(leak):
    with pytest.raises(JaxgenError, match='model.leak is the leaky ReLU slope'):
        models.build(ml_collections.ConfigDict({**MODEL.to_dict(), 'leak': leak}), INFO)
    with pytest.raises(JaxgenError, match="config.data.scale is 'gamma'"):
        models.build(MODEL, {'shape': [28, 28, 1], 'scale': 'gamma'})


def test_the_config_variants_and_a_bad_variant_is_one_line():
    authors = infogan_config.get_config('authors')
    assert infogan_config.get_config('authors,fashion_mnist').data.name == 'fashion_mnist'
    assert infogan_config.get_config('fashion_mnist').data.name == 'fashion_mnist'
    for arg in ('cifar10', 'authors,mnist,digits'):
        with pytest.raises(JaxgenError, match=r'write \[authors,\]\[invariant,\]<dataset>'):
            infogan_config.get_config(arg)
    model = models.build(authors.model, {'shape': [28, 28, 1], 'scale': authors.data.scale})
    assert authors.data.scale == 'unit' and model.q.slope == 0.01
    assert authors.rule.first == ('discriminator', 'q') and model.codes.noise_scale == 1.0
    invariant = infogan_config.get_config('invariant')
    assert models.build(invariant.model, INFO).codes.noise_scale == 0.3


def test_the_authors_variant_trains_and_samples_unit_pixels(tmp_path):
    config = infogan_config.get_config('authors')
    assert infogan_config.get_config('authors,fashion_mnist').data.name == 'fashion_mnist'
    for arg in ('cifar10', 'authors,mnist,digits'):
        with pytest.raises(JaxgenError, match=r'write \[authors,\]\[invariant,\]<dataset>'):
            infogan_config.get_config(arg)
    config.data.name = 'digits'
    config.num_steps = 2
    config.batch_size = 8
    config.log_every = config.sample_every = config.eval_every = config.checkpoint_every = 2
    result = train(config, str(tmp_path / 'run'))
    assert result.metrics['eval/cat_accuracy'] >= 0.1 - 1e-9  # a best matching of 10 categories
    # the run draws pixels in [0, 1] (a sigmoid generator), as its data are scaled
    exp, state, _ = load(str(tmp_path / 'run'))
    samples = np.asarray(exp.model.sample(exp.variables(state), jax.random.key(1), 16))
    assert exp.data_info['scale'] == 'unit' and samples.min() >= 0.0 and samples.max() <= 1.0
    assert os.path.getsize(str(tmp_path / 'run' / 'samples.png')) > 1000
