"""Perceptual path length (jaxgen/metrics/ppl.py) and LPIPS diversity
(jaxgen/metrics/diversity.py) on constructed generators whose answers are known."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.metrics import diversity, ppl
from jaxgen.metrics.diversity import squared_l2

D_LATENT, RNG = 6, np.random.default_rng(0)
M = RNG.standard_normal((D_LATENT, D_LATENT))        # mapping z -> w
A = RNG.standard_normal((2, D_LATENT, 16)) / 4.0     # synthesis: one matrix per w "layer"


def mapping(z):  # [B, d] -> [B, 2, d]: per-layer copies, like StyleGAN's dlatents
    w = z @ jnp.asarray(M, z.dtype)
    return jnp.stack([w, 2.0 * w], axis=1)


def synthesis(w):  # linear: image = A0 w0 + A1 w1, as [B, 4, 4, 1]
    a = jnp.asarray(A, w.dtype)
    return (w[:, 0] @ a[0] + w[:, 1] @ a[1]).reshape(-1, 4, 4, 1)


def image_of(z):  # the identity generator: the latent as a 1 x d image
    return z.reshape(-1, 1, D_LATENT, 1)


def ref_filtered_mean(values):
    """Keep [1st percentile (lower), 99th (higher)] of the sorted values, by index."""
    s, n = np.sort(values), len(values)
    lo, hi = s[int(np.floor(0.01 * (n - 1)))], s[int(np.ceil(0.99 * (n - 1)))]
    return values[(values >= lo) & (values <= hi)].mean()


def test_slerp_known_cases():
    a, b = jnp.array([[2.0, 0.0]]), jnp.array([[0.0, 3.0]])
    for t, angle in ((0.0, 0.0), (1 / 3, np.pi / 6), (0.5, np.pi / 4), (1.0, np.pi / 2)):
        np.testing.assert_allclose(ppl.slerp(a, b, jnp.array([[t]])),
                                   [[np.cos(angle), np.sin(angle)]], atol=1e-6)


@pytest.mark.parametrize('sampling', ['full', 'end'])
def test_linear_generator_in_w_equals_its_analytic_value(sampling):
    """G(w) = A w, d = |a - b|^2: each sample's PPL in W is |A (w1 - w0)|^2 whatever t."""
    key, n = jax.random.key(7), 300
    with jax.enable_x64(True):
        values = ppl.path_lengths(squared_l2, key, n, latent_dim=D_LATENT, space='w',
                                  sampling=sampling, mapping=mapping, synthesis=synthesis,
                                  batch_size=128)
        z0, z1, t = (np.asarray(x) for x in ppl.path_samples(key, jnp.arange(n), D_LATENT,
                                                               sampling))
    assert (t == 0).all() == (sampling == 'end')
    dw = (z1 - z0) @ M
    want = np.sum((dw @ A[0] + 2 * dw @ A[1]) ** 2, axis=1)
    np.testing.assert_allclose(values, want, rtol=1e-6)
    result = ppl.filtered_mean(values)
    np.testing.assert_allclose(result['ppl'], ref_filtered_mean(want), rtol=1e-6)
    assert result['num_kept'] == n - 4  # sorted indices 0, 1 below the 1st pct., 298, 299 above
    # float32, as it runs by default (other draws: x64 samples float64 latents)
    float32 = ppl.path_lengths(squared_l2, key, n, latent_dim=D_LATENT, space='w',
                               sampling=sampling, mapping=mapping, synthesis=synthesis)
    z0, z1, _ = (np.float64(x) for x in ppl.path_samples(key, jnp.arange(n), D_LATENT,
                                                           sampling))
    dw = (z1 - z0) @ M
    want = np.sum((dw @ A[0] + 2 * dw @ A[1]) ** 2, axis=1)
    np.testing.assert_allclose(float32, want, rtol=1e-2)  # measured: at most 0.4%
    np.testing.assert_allclose(ppl.filtered_mean(float32)['ppl'], ref_filtered_mean(want),
                               rtol=1e-3)


def test_slerp_in_z_walks_the_great_circle():
    """For the identity generator the slerp path moves at speed theta, the angle
    between z0 and z1: PPL per sample = theta^2. With keep_norm, the radius
    r(t) = (1 - t)|z0| + t|z1| adds its own change: (|z1| - |z0|)^2 + r(t)^2 theta^2."""
    key, n = jax.random.key(3), 64
    with jax.enable_x64(True):
        plain = ppl.path_lengths(squared_l2, key, n, latent_dim=D_LATENT, generator=image_of,
                                 batch_size=n)
        kept = ppl.path_lengths(squared_l2, key, n, latent_dim=D_LATENT, generator=image_of,
                                keep_norm=True, batch_size=n)
        z0, z1, t = (np.asarray(x) for x in ppl.path_samples(key, jnp.arange(n), D_LATENT,
                                                               'full'))
    r0, r1 = np.linalg.norm(z0, axis=1), np.linalg.norm(z1, axis=1)
    theta = np.arccos(np.sum(z0 * z1, axis=1) / (r0 * r1))
    np.testing.assert_allclose(plain, theta ** 2, rtol=1e-4)
    mid = t + ppl.EPSILON / 2  # the chord's direction is the path's at the step's middle
    radius = (1 - mid) * r0 + mid * r1
    np.testing.assert_allclose(kept, (r1 - r0) ** 2 + radius ** 2 * theta ** 2, rtol=1e-4)


def test_z_with_mapping_and_synthesis_is_the_composed_generator():
    key, kwargs = jax.random.key(4), dict(latent_dim=D_LATENT, batch_size=16)
    whole = ppl.path_lengths(squared_l2, key, 16, generator=lambda z: synthesis(mapping(z)),
                             **kwargs)
    parts = ppl.path_lengths(squared_l2, key, 16, mapping=mapping, synthesis=synthesis, **kwargs)
    np.testing.assert_array_equal(whole, parts)


def test_ppl_batch_size_invariance():
    """The same paths for any batch size (in float64: in float32 the eps = 1e-4 difference
    magnifies rounding, and other batch shapes round differently, ~0.2% per value)."""
    kwargs = dict(latent_dim=D_LATENT, space='w', mapping=mapping, synthesis=synthesis)
    with jax.enable_x64(True):
        one = ppl.path_lengths(squared_l2, jax.random.key(5), 40, batch_size=40, **kwargs)
        split = ppl.path_lengths(squared_l2, jax.random.key(5), 40, batch_size=7, **kwargs)
    np.testing.assert_allclose(one, split, rtol=1e-9)


def test_percentile_filter_by_hand():
    result = ppl.filtered_mean(np.arange(1.0, 201.0))
    # 1st percentile (lower) of 1..200 is 2, the 99th (higher) 199: keep 2..199
    assert (result['lo'], result['hi'], result['num_kept'], result['ppl']) == (2, 199, 198,
                                                                                100.5)


@pytest.mark.parametrize('kwargs,message', [
    (dict(space='x', generator=image_of), "space must be 'z' or 'w'"),
    (dict(sampling='middle', generator=image_of), "sampling must be 'full' or 'end'"),
    (dict(space='w', synthesis=synthesis), 'PPL in W needs mapping'),
    (dict(space='z'), 'PPL in Z needs a generator'),
    (dict(generator=image_of, distance=lambda a, b: a - b), 'one value per pair'),
    (dict(generator=lambda z: image_of(z) * jnp.nan), 'not finite'),
])
def test_ppl_one_line_errors(kwargs, message):
    distance = kwargs.pop('distance', squared_l2)
    with pytest.raises(JaxgenError, match=message) as err:
        ppl.perceptual_path_length(distance, jax.random.key(0), 8, latent_dim=D_LATENT,
                                   **kwargs)
    assert '\n' not in str(err.value)


# ---- diversity -----------------------------------------------------------------------

def noisy(inputs, keys):
    """x + sigma * N(0, 1) noise from each row's key: E d = 2 sigma^2 (pixels)."""
    noise = jax.vmap(lambda k: jax.random.normal(k, (4, 4, 1)))(keys)
    return inputs['image'] + inputs['sigma'][:, None, None, None] * noise


def conditional_inputs(n):
    return {'image': jnp.asarray(RNG.uniform(-0.5, 0.5, (n, 4, 4, 1)), jnp.float32),
            'sigma': jnp.linspace(0.0, 0.3, n)}


def test_diversity_compares_outputs_of_the_same_input_only():
    inputs = conditional_inputs(6)
    result = diversity.lpips_diversity(lambda x, k: x['image'], inputs, squared_l2,
                                       jax.random.key(0), num_pairs=3)
    assert result['diversity'] == 0.0 and result['num_pairs'] == 18


def test_diversity_equals_the_pairs_computed_one_by_one():
    """The documented keys, pair by pair, and the analytic expectation 2 sigma^2 * 16."""
    inputs, key, pairs = conditional_inputs(8), jax.random.key(1), 19
    result = diversity.lpips_diversity(noisy, inputs, squared_l2, key, num_pairs=pairs,
                                       batch_size=32)
    want = []
    for i in range(8):
        one = jax.tree_util.tree_map(lambda x: x[i:i + 1], inputs)
        for p in range(pairs):
            k = jax.random.fold_in(jax.random.fold_in(key, i), p)
            a = noisy(one, jax.random.fold_in(k, 0)[None])
            b = noisy(one, jax.random.fold_in(k, 1)[None])
            want.append(float(squared_l2(a, b)[0]))
    np.testing.assert_allclose(result['diversity'], np.mean(want), rtol=1e-5)
    expected = np.mean(2 * np.asarray(inputs['sigma']) ** 2 * 16)
    assert abs(result['diversity'] / expected - 1) < 0.1
    again = diversity.lpips_diversity(noisy, inputs, squared_l2, key, num_pairs=pairs,
                                      batch_size=5)  # other batches, one padded
    np.testing.assert_allclose(again['diversity'], result['diversity'], rtol=1e-6)
    np.testing.assert_allclose(again['diversity_error'], result['diversity_error'], rtol=1e-5)


def test_unconditional_diversity():
    key, sigma = jax.random.key(2), 0.25
    def sample(keys):
        return sigma * jax.vmap(lambda k: jax.random.normal(k, (4, 4, 1)))(keys)
    result = diversity.unconditional_diversity(sample, squared_l2, key, num_pairs=400,
                                               batch_size=64)
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(400))
    want = squared_l2(sample(jax.vmap(lambda k: jax.random.fold_in(k, 0))(keys)),
                      sample(jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)))
    np.testing.assert_allclose(result['diversity'], float(jnp.mean(want)), rtol=1e-5)
    assert abs(result['diversity'] / (2 * sigma ** 2 * 16) - 1) < 0.1
    assert result['num_groups'] == 10 and result['num_pairs'] == 400


@pytest.mark.parametrize('call,message', [
    (lambda: diversity.lpips_diversity(noisy, {'image': jnp.zeros((3, 4, 4, 1)),
                                               'sigma': jnp.zeros(2)}, squared_l2,
                                       jax.random.key(0)), 'one leading batch size'),
    (lambda: diversity.lpips_diversity(noisy, conditional_inputs(2), squared_l2,
                                       jax.random.key(0), num_pairs=0), 'num_pairs >= 1'),
    (lambda: diversity.lpips_diversity(noisy, conditional_inputs(2), lambda a, b: a - b,
                                       jax.random.key(0)), 'one value per pair'),
    (lambda: diversity.unconditional_diversity(lambda k: jnp.zeros((len(k), 2, 2, 1)),
                                               squared_l2, jax.random.key(0), num_pairs=15),
     'multiple of num_groups'),
])
def test_diversity_one_line_errors(call, message):
    with pytest.raises(JaxgenError, match=message) as err:
        call()
    assert '\n' not in str(err.value)
