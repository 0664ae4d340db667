"""``config.init_from``: a player starts from another run's weights (a frozen text
encoder trained first, a fine-tuned generator), exactly, and every way to get it wrong
is one line that leaves the new workdir untouched."""

import os
import shutil

import jax
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.models.gan import mlp
from jaxgen.training import restore, train
from tests.test_train import ring_config


def _params(workdir, player):
    _, state, _ = restore.load(workdir)
    return jax.device_get(state.params[player])


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in
               zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    """A finished ring-GAN run to take a generator from."""
    workdir = str(tmp_path_factory.mktemp('source') / 'run')
    train(ring_config(num_steps=2, seed=7), workdir)
    return workdir


def test_a_frozen_player_starts_from_the_source_run_and_never_moves(source, tmp_path):
    config = ring_config(num_steps=4)
    config.init_from = {'generator': source}
    config.frozen = ('generator',)
    del config.optimizers['generator']
    workdir = str(tmp_path / 'run')
    train(config, workdir)
    fresh = str(tmp_path / 'fresh')
    plain = ring_config(num_steps=4)
    train(plain, fresh)
    want = _params(source, 'generator')
    assert _same(_params(workdir, 'generator'), want)  # taken over, then never moved
    assert not _same(_params(fresh, 'generator'), want)  # not what a fresh start gives
    # The discriminator trained against the loaded generator, not the fresh one.
    assert not _same(_params(workdir, 'discriminator'), _params(fresh, 'discriminator'))


def test_a_loaded_player_that_trains_on_resumes_without_its_source(source, tmp_path):
    config = ring_config(num_steps=4)
    config.init_from = {'generator': source}
    whole = str(tmp_path / 'whole')
    train(config, whole)
    copy = str(tmp_path / 'copy')
    shutil.copytree(source, copy)
    config.init_from = {'generator': copy}
    config.num_steps = 2
    part = str(tmp_path / 'part')
    train(config, part)
    shutil.rmtree(copy)  # a resume reads its own checkpoint, not the source
    config.num_steps = 4
    train(config, part)
    for player in ('generator', 'discriminator'):
        assert _same(_params(part, player), _params(whole, player))
    assert not _same(_params(whole, 'generator'), _params(source, 'generator'))  # it trained


def _refused(config, tmp_path, match):
    workdir = tmp_path / 'refused'
    with pytest.raises(JaxgenError, match=match) as e:
        train(config, str(workdir))
    assert '\n' not in str(e.value)
    assert not workdir.exists() or not os.listdir(workdir)
    return e


def test_a_player_the_model_lacks_is_one_line(source, tmp_path):
    config = ring_config()
    config.init_from = {'encoder': source}
    _refused(config, tmp_path, r"init_from names \['encoder'\].*not players")


def test_a_source_without_a_checkpoint_is_one_line(tmp_path):
    config = ring_config()
    config.init_from = {'generator': str(tmp_path / 'nothing')}
    _refused(config, tmp_path, 'init_from.generator: .*config.json not found')


def test_a_source_of_another_architecture_is_one_line(source, tmp_path):
    config = ring_config()
    config.model.g_hidden = (32,)
    config.init_from = {'generator': source}
    _refused(config, tmp_path, r'init_from.generator: .*shape \(.*\) in .* but \(.*\) here')


def test_a_required_pretrained_player_without_a_source_is_one_line(tmp_path, monkeypatch):
    original = mlp.build

    def build(model_config, data_info):  # a model whose generator must come pretrained
        model = original(model_config, data_info)
        object.__setattr__(model, 'pretrained', ('generator',))
        return model
    monkeypatch.setattr(mlp, 'build', build)
    _refused(ring_config(), tmp_path,
             r"needs its generator trained first: set config.init_from.generator")
