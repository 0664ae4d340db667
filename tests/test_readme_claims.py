"""The README's claims about every config hold: each takes the game-dynamics rules
(all but the AAE, CycleGAN, StarGAN, StyleGAN and Puzzle-GAN, whose players move in
phases: the AAE's encoder for two losses, CycleGAN's two generators for one, StarGAN's
generator every 5th step, StyleGAN's lazy R1, Puzzle-GAN's generator every 2nd step) and
an EMA."""

import importlib
import pkgutil

import pytest

import configs
from jaxgen import data
from jaxgen.data.derived import captions
from jaxgen.training import experiment

NAMES = sorted(m.name for m in pkgutil.iter_modules(configs.__path__))
PHASED = {'aae', 'cyclegan', 'puzzlegan', 'stargan', 'stylegan'}  # the README's exceptions


# The descriptions of the derived sets whose training splits take minutes to build
# (Morpho-MNIST's 60,000 measured digits): the configs are built against these.
DESCRIBED = {
    'thin_thick': {'kind': 'unpaired', 'shape': [28, 28, 1], 'scale': 'tanh'},
    'morpho_perturbed': {'kind': 'images', 'shape': [28, 28, 1], 'scale': 'tanh',
                         'num_classes': 10,
                         'domain_names': ['none', 'thin', 'thick', 'swell', 'fracture']},
    'edges2fashion': {'kind': 'paired', 'shape': [28, 28, 1], 'scale': 'tanh',
                      'num_classes': 10, 'name': 'edges2fashion'},
    'captioned_mnist': {'kind': 'images', 'shape': [28, 28, 1], 'scale': 'tanh',
                        'num_classes': 10, 'name': 'captioned_mnist',
                        'char_vocabulary': list(captions.CHARS),
                        'max_chars': captions.MAX_CHARS},
}


def built(name: str, **overrides):
    config = importlib.import_module(f'configs.{name}').get_config()
    if config.data.name in ('mnist', 'fashion_mnist'):
        config.data.name = 'digits'  # no files needed; the same shapes
    for key, value in overrides.items():
        section, field = key.split('.')
        config[section][field] = value
    info = DESCRIBED.get(config.data.name) or data.load(config.data, 'train').info
    exp = experiment.build(config, info)
    exp.abstract_state()  # the rule and the EMA initialise over the model's players
    return exp


def test_every_config_is_covered():
    assert len(NAMES) >= 10 and 'dcgan' in NAMES and 'aae' in NAMES


@pytest.mark.parametrize('name', NAMES)
def test_every_config_takes_an_ema(name):
    exp = built(name, **{'ema.decay': 0.999})
    decay, players = exp.ema
    assert decay == 0.999 and players and set(players) <= set(exp.model.players)
    assert set(exp.abstract_state().ema) == set(players)


@pytest.mark.parametrize('rule', ['optimistic', 'extragradient'])
@pytest.mark.parametrize('name', sorted(set(NAMES) - PHASED))
def test_every_config_but_the_phased_ones_takes_the_game_dynamics_rules(name, rule):
    assert built(name, **{'rule.name': rule}).rule.num_batches >= 1
