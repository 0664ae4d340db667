"""Lookups import only what they are asked for, and name the choices when wrong."""

import subprocess
import sys

import pytest

from jaxgen import models, registry
from jaxgen.errors import JaxgenError


def test_a_model_lookup_imports_that_model_alone():
    """Building DCGAN's bundle imports neither the autoencoders nor the other GANs."""
    code = ('import sys, ml_collections; from jaxgen import models; '
            "c = ml_collections.ConfigDict({'name': 'dcgan', 'features': 4, 'latent_dim': 2}); "
            "models.build(c, {'shape': [28, 28, 1], 'scale': 'tanh'}); "
            "print(sorted(m for m in sys.modules if m.startswith('jaxgen.models.')))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    loaded = eval(out.strip().splitlines()[-1])  # pylint: disable=eval-used
    assert 'jaxgen.models.gan.dcgan' in loaded
    for other in ('vae', 'aae', 'priors', 'infogan', 'cgan', 'mlp'):
        assert not [m for m in loaded if m.endswith('.' + other)], loaded


def test_a_broken_model_does_not_break_the_others(monkeypatch):
    monkeypatch.setitem(models.MODELS, 'broken', 'jaxgen.models.does_not_exist')
    assert registry.lookup_module(models.MODELS, 'dcgan', 'model').__name__.endswith('dcgan')
    with pytest.raises(ModuleNotFoundError):
        registry.lookup_module(models.MODELS, 'broken', 'model')


def test_unknown_names_list_the_choices_in_one_line():
    with pytest.raises(JaxgenError, match="unknown model 'dcgam'; choose one of: aae, cgan"):
        registry.lookup_module(models.MODELS, 'dcgam', 'model')
    with pytest.raises(JaxgenError, match="unknown update rule 'alternate'; choose one of: "
                                          'alternating, extragradient'):
        registry.lookup('jaxgen.rules', 'alternate', 'update rule')
    assert 'base' not in registry.available('jaxgen.objectives')
