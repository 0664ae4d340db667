"""DCGAN trains on every derived dataset by config alone (two steps each).

The derived datasets are built here from a small stand-in for MNIST and Fashion-MNIST
(sklearn's digits, 120 train / 40 test images; glyphs of 4 characters in 4 fonts), so that the builders, the registry, the
draw and the trainer are exercised together in seconds; the builders' own tests check
their values on real and constructed images.
"""

import chex
import jax
import numpy as np
import pytest

from configs import dcgan
from jaxgen import data
from jaxgen.data.derived import glyphs
from jaxgen.data.sources import digits
from jaxgen.training import loop

PAIRED_OR_UNPAIRED = ('edges2fashion', 'edges2mnist', 'mnist2digits', 'thin_thick')


@pytest.fixture
def small_base(monkeypatch):
    """``base(name, split)`` of every base dataset: a slice of sklearn's digits."""
    def base_arrays(config):
        def base(name, split):
            arrays = digits.load_arrays('train')[0]
            part = slice(0, 120) if split == 'train' else slice(120, 160)
            return {k: v[part] for k, v in arrays.items()}
        return base
    monkeypatch.setattr(data, 'base_arrays', base_arrays)
    # Glyphs need no base: render 4 characters of 4 fonts instead of 36 of 22.
    render = glyphs.render
    monkeypatch.setattr(glyphs, 'render', lambda split: render(
        split, paths=[p for p in glyphs.font_paths() if 'DejaVu' in p][:4], characters='AB01'))


def config_for(name, cache_dir):
    c = dcgan.get_config(name)
    c.data.cache_dir = str(cache_dir)
    if name in PAIRED_OR_UNPAIRED:
        c.data.image_field = 'image_b'
    c.num_steps, c.batch_size = 2, 8
    c.model.features, c.model.latent_dim = 4, 4
    c.log_every = c.checkpoint_every = 1
    c.sample_every = 10 ** 6
    return c


# Trained for two steps: a colour 32x32 set and an unpaired one (the loop is the same for
# all); the others are built and drawn, and their step is compiled (everything that can
# fail before training).
TRAINED = ('colour_mnist', 'mnist2digits')  # colour 32x32; two streams, one trained on


@pytest.mark.parametrize('name', sorted(data.DERIVED))
def test_dcgan_trains_on_each_derived_dataset(name, small_base, tmp_path):
    c = config_for(name, tmp_path / 'cache')
    ds = data.load(c.data, 'train')
    batch = jax.jit(ds.draw, static_argnums=3)(ds.arrays, jax.random.key(0), 0, 8)
    h, w, ch = ds.info['shape']
    chex.assert_shape(batch['image'], (8, h, w, ch))
    chex.assert_type(batch['image'], np.float32)
    assert float(batch['image'].min()) >= -1.0 and float(batch['image'].max()) <= 1.0
    if name not in TRAINED:
        prepared = loop.prepare(c, str(tmp_path / 'run'))
        assert set(prepared.steps) == {1} and not (tmp_path / 'run').exists()
        return
    result = loop.train(c, str(tmp_path / 'run'))
    assert result.step == 2
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(result.state.params))
    assert (tmp_path / 'run' / 'config.json').exists()


def test_a_size_the_model_cannot_take_is_one_line_and_leaves_no_workdir(tmp_path):
    """30x30 images (digits resized) halve to 15, which DCGAN cannot start from."""
    from jaxgen.errors import JaxgenError  # pylint: disable=import-outside-toplevel
    c = config_for('digits', tmp_path / 'cache')
    c.data.resize = 30
    workdir = tmp_path / 'run'
    with pytest.raises(JaxgenError, match='DCGAN cannot build images of side 30') as error:
        loop.train(c, str(workdir))
    assert '\n' not in str(error.value)
    assert not workdir.exists()
