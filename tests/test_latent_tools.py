"""Interpolation, latent arithmetic and unit ablation."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import latent_tools
from jaxgen.errors import JaxgenError


def test_interpolations_start_and_end_at_the_latents():
    a, b = jnp.array([[3.0, 0.0]]), jnp.array([[0.0, 3.0]])
    for mode in ('lerp', 'slerp'):
        path = latent_tools.interpolation_latents(a, b, 5, mode)
        assert path.shape == (1, 5, 2)
        np.testing.assert_allclose(path[0, 0], a[0], atol=1e-6)
        np.testing.assert_allclose(path[0, -1], b[0], atol=1e-6)
    spherical = latent_tools.interpolation_latents(a, b, 5, 'slerp')[0]
    np.testing.assert_allclose(jnp.linalg.norm(spherical, axis=-1), 3.0, rtol=1e-6)
    linear = latent_tools.interpolation_latents(a, b, 5, 'lerp')[0]
    assert float(jnp.linalg.norm(linear[2])) < 3.0 * 0.75  # the chord cuts inside
    parallel = latent_tools.slerp(a, 2 * a, jnp.array(0.5))
    np.testing.assert_allclose(parallel, 1.5 * a, rtol=1e-6)
    with pytest.raises(JaxgenError, match="'lerp' or 'slerp'"):
        latent_tools.interpolation_latents(a, b, 5, 'cubic')


def test_group_means_and_arithmetic():
    z = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    means = latent_tools.group_means(z, np.array([0, 0, 1]))
    np.testing.assert_allclose(means[0], [2.0, 0.0])
    np.testing.assert_allclose(latent_tools.arithmetic(means[0], means[1], z[0]), [3.0, -2.0])
    thick = np.full((1, 4, 4, 1), 1.0)
    thin = -np.ones((1, 4, 4, 1))
    thin[0, 0, 0, 0] = 1.0
    assert latent_tools.stroke_thickness(np.concatenate([thick, thin])).tolist() == [1.0, 1 / 16]


class _Two(nn.Module):
    @nn.compact
    def __call__(self, x):
        hidden = nn.Dense(4)(x)  # Dense_0
        return nn.Dense(3)(hidden)


def test_ablation_zeroes_exactly_one_channel_of_the_named_layer():
    module, x = _Two(), jnp.ones((2, 5))
    variables = module.init(jax.random.key(0), x)

    def generate(v, x):
        return module.apply(v, x)
    ablated = latent_tools.ablate(generate, 'Dense_0', 2)(variables, x)
    p = variables['params']
    hidden = x @ p['Dense_0']['kernel'] + p['Dense_0']['bias']
    expected = hidden.at[:, 2].set(0.0) @ p['Dense_1']['kernel'] + p['Dense_1']['bias']
    np.testing.assert_allclose(ablated, expected, rtol=1e-6)
    assert not np.allclose(ablated, generate(variables, x))
    with pytest.raises(JaxgenError, match='has 4 channels'):
        latent_tools.ablate(generate, 'Dense_0', 4)(variables, x)


def test_changed_pixels_are_marked_red():
    before = -np.ones((1, 4, 4, 1))
    after = before.copy()
    after[0, 1, 2, 0] = 1.0
    marked = latent_tools.changed_pixels(before, after)
    assert marked.shape == (1, 4, 4, 3)
    red = np.all(marked == np.array([1.0, -1.0, -1.0]), axis=-1)
    assert red.sum() == 1 and red[0, 1, 2]


def test_latent_tools_refuse_a_model_without_a_gaussian_image_generator():
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    from jaxgen.training import experiment  # pylint: disable=import-outside-toplevel
    from tests.test_train import ring_config  # pylint: disable=import-outside-toplevel
    config = ring_config()
    model = experiment.build(config, data.load(config.data).info).model
    with pytest.raises(JaxgenError, match='need a Gaussian-latent image generator'):
        latent_tools.check_generator(model, 'mlp')
