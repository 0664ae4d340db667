"""The model bundle contract (issue 28): every bundle satisfies the declared Protocol and
generates from its inputs; model files stay pure (no pictures, no metrics); what a
dataset is comes from ``info['kind']``, not from its keys or shape."""

import ast
import pathlib

import chex
import jax
import ml_collections
import numpy as np
import pytest

from configs import aae as aae_config
from jaxgen import models
from jaxgen import sample as sample_lib
from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.metrics import own
from jaxgen.training import restore
from jaxgen.models.bundle import Bundle
from jaxgen.visualisation.pictures import for_model, pictures

Config = ml_collections.ConfigDict
TANH = {'shape': [28, 28, 1], 'scale': 'tanh', 'kind': 'images', 'num_classes': 10}
UNIT = {'shape': [28, 28, 1], 'scale': 'unit', 'kind': 'images'}
POINTS = {'shape': [2], 'kind': 'points', 'centers': [[2.0, 0.0], [-2.0, 0.0]], 'std': 0.02}
MLP = Config(dict(name='mlp', latent_dim=4, g_hidden=(8,), d_hidden=(8,)))


def _aae():
    config = aae_config.get_config('gaussian')
    config.model.hidden, config.model.d_hidden, config.model.latent_dim = (8,), (8,), 2
    return config.model


# name -> (model config, data info, conditional inputs for 3 draws)
BUNDLES = {
    'mlp': (MLP, POINTS, {'z': np.zeros((3, 4), np.float32)}),
    'dcgan': (Config(dict(name='dcgan', latent_dim=4, features=4)), TANH,
              {'z': np.zeros((3, 4), np.float32)}),
    'cgan': (Config(dict(name='cgan', latent_dim=4, features=4)), TANH,
             {'label': np.array([0, 1, 2])}),
    'infogan': (Config(dict(name='infogan', noise_dim=4, categorical=(10,), continuous=1)),
                TANH, {'cat': np.array([[0], [1], [2]])}),
    'vae': (Config(dict(name='vae', architecture='mlp', hidden=(8,), latent_dim=2,
                        likelihood='bernoulli', stochastic=True, num_samples=1,
                        eval_samples=2)), UNIT, {'z': np.zeros((3, 2), np.float32)}),
    'aae': (_aae(), UNIT, {'z': np.zeros((3, 2), np.float32)}),
    'growing': (Config(dict(name='growing', latent_dim=4, depth=2, width=8)), POINTS,
                {'z': np.zeros((3, 4), np.float32)}),
}


@pytest.fixture(scope='module', params=sorted(BUNDLES))
def built(request):
    config, info, inputs = BUNDLES[request.param]
    model = models.build(config, info)
    return request.param, model, model.init(jax.random.key(0)), inputs, info


def test_every_bundle_satisfies_the_protocol_and_generates_from_its_inputs(built):
    name, model, variables, inputs, info = built
    assert isinstance(model, Bundle), name
    shape = tuple(info['shape'])
    key = jax.random.key(1)
    drawn = model.generate(variables, {'num': 5}, key)
    chex.assert_shape(drawn, (5, *shape))
    chex.assert_tree_all_finite(drawn)
    np.testing.assert_array_equal(drawn, model.sample(variables, key, 5))  # sample still works
    conditioned = model.generate(variables, inputs, key)
    chex.assert_shape(conditioned, (3, *shape))
    with pytest.raises(JaxgenError, match='does not read image'):
        model.generate(variables, {'num': 3, 'image': np.zeros((3, *shape))}, key)
    with pytest.raises(JaxgenError, match='different numbers'):
        model.generate(variables, {**inputs, 'num': 4}, key)


def test_a_bundle_without_generate_is_not_one():
    class Half:
        data_info, players = {}, {}

        def init(self, key):
            return {}

        def forward(self, variables, batch, key, train=True):
            return {}, {}
    assert not isinstance(Half(), Bundle)


def test_conditional_inputs_reach_the_generator():
    cgan, gan = (models.build(*BUNDLES[name][:2]) for name in ('cgan', 'dcgan'))
    cv, gv = cgan.init(jax.random.key(0)), gan.init(jax.random.key(0))
    key = jax.random.key(2)
    threes, fours = (cgan.generate(cv, {'label': np.full(4, y)}, key) for y in (3, 4))
    assert not np.allclose(threes, fours)  # the label changes the draws, with the same z
    z = jax.random.normal(jax.random.key(3), (4, 4))
    np.testing.assert_allclose(gan.generate(gv, {'z': z}, key),
                               gan.generator.apply(gv['generator'], z, train=False), atol=1e-6)


def test_model_files_import_neither_pictures_nor_metrics():
    root = pathlib.Path(models.__file__).parent
    offenders = []
    for path in sorted(root.rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ''] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f'{path.relative_to(root)}: {n}' for n in names
                          if n.split('.')[:2] in (['jaxgen', 'visualisation'],
                                                  ['jaxgen', 'metrics'])]
    assert len(list(root.rglob('*.py'))) > 10
    assert offenders == []


def test_pictures_and_evaluations_are_looked_up_by_bundle_type(built):
    name, model, variables, _, _ = built
    assert not hasattr(model, 'pictures') and not hasattr(model, 'evaluate')
    expected = {'mlp': {'samples'}, 'growing': {'samples'}, 'dcgan': {'samples'},
                'cgan': {'samples'},
                'infogan': {'samples', 'traversal_c2'}, 'vae': {'samples', 'manifold'},
                'aae': {'samples', 'manifold'}}[name]
    drawn = pictures(model, variables, jax.random.key(1))
    assert set(drawn) == expected and all(p.dtype == np.uint8 for p in drawn.values())
    has_own = {'mlp': True, 'growing': True, 'dcgan': False, 'cgan': False, 'infogan': True, 'vae': True,
               'aae': False}[name]
    assert (own.for_model(model) is not None) == has_own


def test_a_bundle_of_its_own_type_brings_its_own_pictures_and_evaluation():
    class Toy:
        def pictures(self, variables, key, examples=None):
            return {'toy': np.zeros((2, 2, 3), np.uint8)}

        def evaluate(self, variables, arrays, key):
            return {'toy': 1.0}
    toy = Toy()
    assert set(for_model(toy)(toy, {}, None)) == {'toy'}
    assert own.for_model(toy)({}, {}, None) == {'toy': 1.0}


def test_the_kind_is_read_not_guessed():
    assert kinds.kind({'shape': [2]}) == 'points'  # a config.json that predates 'kind'
    assert kinds.kind({'shape': [28, 28, 1]}) == 'images'
    assert kinds.kind({'shape': [2], 'kind': 'images'}) == 'images'
    # declared points without any 'centers' key are still points; images with one are images
    gan = models.build(MLP, {'shape': [2], 'kind': 'points', 'centers': [[0.0, 0.0]],
                             'std': 0.1})
    assert own.for_model(gan) is not None
    with pytest.raises(JaxgenError, match='holds images'):
        models.build(MLP, {'shape': [2], 'kind': 'images'})
    with pytest.raises(JaxgenError, match='holds paired'):
        models.build(BUNDLES['dcgan'][0], {**TANH, 'kind': 'paired'})
    variables = gan.init(jax.random.key(0))
    results = own.for_model(gan)(variables, {}, jax.random.key(1), num_samples=50)
    assert set(results) == {'modes_covered', 'high_quality', 'reverse_kl'}
    assert pictures(gan, variables, jax.random.key(1))['samples'].ndim == 3


def test_sample_cli_generates_a_class_with_label(tmp_path, monkeypatch):
    config, info, _ = BUNDLES['cgan']
    model = models.build(config, info)
    variables = model.init(jax.random.key(0))

    class Exp:
        data_info = info
        model = None
    Exp.model = model
    Exp.variables = lambda self, state, ema=True: variables
    # sample() imports load when called (JAX only after the flags parse)
    monkeypatch.setattr(restore, 'load', lambda workdir, step, seed_index: (Exp(), None, 7))
    asked = []
    real = model.generate
    object.__setattr__(model, 'generate', lambda v, inputs, key: asked.append(
        {k: np.asarray(x) for k, x in inputs.items()}) or real(v, inputs, key))
    sample_lib.sample('w', 4, str(tmp_path / 'a.png'), label=3)
    assert (tmp_path / 'a.png').is_file()
    assert asked[0]['num'] == 4 and asked[0]['label'].tolist() == [3] * 4
    with pytest.raises(JaxgenError, match=r'classes 0\.\.9'):
        sample_lib.sample('w', 4, str(tmp_path / 'b.png'), label=10)
    sample_lib.sample('w', 4, str(tmp_path / 'c.png'))
    assert set(asked[-1]) == {'num'}
