"""The evaluation suite on a conditional model (text-to-image, Puzzle-GAN): its samples
are its outputs for the test examples' own conditions, its diversity is the distance
between two outputs for one condition, and it has no latent path for PPL."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.metrics import conditions, perceptual, suite

N, P, S = 7, 2, 3


@dataclasses.dataclass(frozen=True)
class PartsModel:
    """A stand-in for Puzzle-GAN: the image is the mean of the key patches' pixels plus
    the row of the first box, plus ``noise`` times a draw from the key."""
    noise: float = 0.0
    conditions = ('patches',)
    latent_dim = 4
    data_info = {'kind': 'images', 'shape': (8, 8, 1), 'scale': 'signed'}

    def generate(self, variables, inputs, key):
        del variables
        assert set(inputs) == {'patches', 'boxes'}, inputs
        patches = jnp.asarray(inputs['patches'])
        level = patches.mean(axis=(1, 2, 3, 4)) + inputs['boxes'][:, 0, 0]
        draw = jax.random.normal(key, (len(patches), 8, 8, 1))
        return level[:, None, None, None] + self.noise * draw


def arrays():
    rng = np.random.default_rng(0)
    return {'image': rng.integers(0, 256, (N, 8, 8, 1), dtype=np.uint8),
            'patches': rng.integers(0, 256, (N, P, S, S, 1), dtype=np.uint8),
            'boxes': rng.integers(0, 5, (N, P, 4)).astype(np.int32),
            'label': np.arange(N, dtype=np.int32)}


def test_samples_are_the_outputs_for_the_test_examples_own_conditions(monkeypatch):
    monkeypatch.setattr(suite, 'BATCH', 3)  # 5 examples: batches of 3 and 2
    data = arrays()
    fake = suite.conditional_samples(PartsModel(), {}, data, jax.random.key(0), 5)
    assert fake.shape == (5, 8, 8, 1)
    signed = data['patches'][:5].astype(np.float64) / 127.5 - 1.0  # uint8 -> [-1, 1]
    want = signed.mean(axis=(1, 2, 3, 4)) + data['boxes'][:5, 0, 0]
    np.testing.assert_allclose(fake[:, 0, 0, 0], want, rtol=1e-6)
    # More samples asked than test examples: one per example.
    assert suite.conditional_samples(PartsModel(), {}, data, jax.random.key(0), 50).shape[0] == N


def _distance(a, b):
    return jnp.mean((a - b) ** 2, axis=(1, 2, 3))


@pytest.mark.parametrize('noise', [0.0, 0.5])
def test_diversity_compares_two_outputs_for_one_condition(noise):
    data = arrays()
    model = PartsModel(noise=noise)
    real = fake = np.zeros((16, 16, 16, 3), np.float32)  # SWD's smallest input
    out = perceptual.model_metrics(model, {}, real, fake, _distance, jax.random.key(1),
                                   pairs=38, ppl_samples=10, test_arrays=data)
    assert out['num_groups'] == 2 and out['num_pairs'] == 2 * perceptual.PAIRS_PER_INPUT
    assert 'ppl' not in out  # z alone does not make an image
    if noise == 0:
        # Different conditions give different images, but never enter a pair.
        assert out['diversity'] == 0.0
    else:  # E (a - b)^2 = 2 noise^2 for independent normal draws
        assert out['diversity'] == pytest.approx(2 * noise ** 2, rel=0.15)


def test_a_conditional_model_has_no_latent_path():
    assert perceptual.latent_generator(PartsModel(), {}) is None


def test_test_data_without_the_condition_is_one_line():
    data = {k: v for k, v in arrays().items() if k != 'boxes'}
    with pytest.raises(JaxgenError, match=r"generates from 'patches'.*no 'boxes' field") as e:
        conditions.inputs_from(PartsModel(), data, slice(0, 2))
    assert '\n' not in str(e.value)
