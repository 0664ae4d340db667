"""Fréchet distance, KID, precision/recall and the classifier score, against
reference computations and known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.metrics import distances, manifold, scores


def _gaussian(rng, n, dim, shift=0.0, scale=1.0):
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    return (rng.normal(size=(n, dim)) @ mix * scale + shift).astype(np.float32)


@pytest.mark.parametrize('dim, shift, scale', [(8, 0.3, 1.0), (32, 1.0, 2.0), (64, 0.0, 0.5)])
def test_frechet_distance_matches_scipy_in_float64(dim, shift, scale):
    rng = np.random.default_rng(dim)
    x, y = _gaussian(rng, 2000, dim), _gaussian(rng, 1500, dim, shift, scale)
    ours = distances.frechet_distance(distances.gaussian_stats([x]),
                                      distances.gaussian_stats([y]))
    np.testing.assert_allclose(ours, distances.frechet_distance_scipy(x, y), rtol=1e-3)


def test_frechet_distance_stays_accurate_in_float32_for_ill_conditioned_features():
    """Real feature covariances (ReLU units, 256-d) have a few large and many
    near-zero eigenvalues, and two sets from one distribution give a small FD
    beside traces in the thousands. Square roots of eigenvalues of S1^1/2 S2 S1^1/2
    turn float32 rounding into errors of several units here (the earlier formula
    gave -14.0 for a true 8.09); the singular values of S1^1/2 S2^1/2 do not."""
    rng = np.random.default_rng(11)
    dim, n = 128, 6000
    basis = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    spectrum = np.concatenate([np.logspace(3, -1, 32), np.full(dim - 32, 1e-4)])
    mix = basis * np.sqrt(spectrum)
    x = (rng.normal(size=(n, dim)) @ mix.T + 5.0).astype(np.float32)
    y = (rng.normal(size=(n, dim)) @ mix.T + 5.0).astype(np.float32)
    ours = distances.frechet_distance(distances.gaussian_stats(np.array_split(x, 6)),
                                      distances.gaussian_stats(np.array_split(y, 6)))
    np.testing.assert_allclose(ours, distances.frechet_distance_scipy(x, y), rtol=1e-3)


def test_frechet_distance_closed_form_for_known_gaussians():
    """Commuting covariances: |m1 - m2|^2 + sum (sqrt a_i - sqrt b_i)^2."""
    a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 1.0])
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    c1, c2 = rot @ np.diag(a) @ rot.T, rot @ np.diag(b) @ rot.T
    m1, m2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = distances.frechet_distance_from_moments(*(jnp.asarray(v, jnp.float32)
                                                    for v in (m1, c1, m2, c2)))
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    same = distances.frechet_distance_from_moments(*(jnp.asarray(v, jnp.float32)
                                                     for v in (m1, c1, m1, c1)))
    assert abs(float(same)) < 1e-4


def test_streaming_stats_equal_one_batch_in_any_order_and_batching():
    rng = np.random.default_rng(1)
    x, y = _gaussian(rng, 3000, 16, 2.0), _gaussian(rng, 3000, 16)
    whole = distances.frechet_distance(distances.gaussian_stats([x]),
                                       distances.gaussian_stats([y]))
    shuffled = x[rng.permutation(len(x))]
    uneven = [shuffled[:7], shuffled[7:1000], shuffled[1000:2999], shuffled[2999:]]
    streamed = distances.frechet_distance(distances.gaussian_stats(uneven),
                                          distances.gaussian_stats(np.array_split(y, 30)))
    np.testing.assert_allclose(streamed, whole, rtol=1e-4)
    stats = distances.gaussian_stats(uneven)
    np.testing.assert_allclose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-4,
                               atol=1e-5)


def test_kid_is_about_zero_for_a_set_with_itself_and_positive_for_different_sets():
    rng = np.random.default_rng(2)
    x = _gaussian(rng, 1000, 16)
    kid, error = distances.kernel_inception_distance(x, x, jax.random.key(0),
                                                     num_subsets=50, subset_size=200)
    assert abs(kid) < 3 * error + 1e-6
    y = _gaussian(rng, 1000, 16, shift=0.5)
    kid, error = distances.kernel_inception_distance(x, y, jax.random.key(0),
                                                     num_subsets=50, subset_size=200)
    assert kid > 10 * error > 0


def test_kid_is_unbiased_where_the_plain_mmd_is_not():
    """Many small independent samples of one distribution: the unbiased estimate
    averages to 0 within its standard error; the biased (V-statistic) one does not."""
    rng = np.random.default_rng(3)
    unbiased, biased = [], []
    for _ in range(300):
        x, y = rng.normal(size=(20, 4)).astype(np.float32), \
            rng.normal(size=(20, 4)).astype(np.float32)
        unbiased.append(float(distances.mmd2_unbiased(x, y)))
        k = lambda a, b: (a @ b.T / 4 + 1) ** 3  # noqa: E731
        biased.append(float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()))
    unbiased, biased = np.array(unbiased), np.array(biased)
    error = unbiased.std() / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * error
    assert biased.mean() > 10 * biased.std() / np.sqrt(len(biased))


def test_gaussian_mmd_matches_its_definition_and_is_unbiased():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(20, 2)) + 0.5
    def k(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * s * s)) for s in (0.25, 0.5, 1.0, 2.0))
    kxx, kyy = k(x, x), k(y, y)
    expected = ((kxx.sum() - np.trace(kxx)) / (30 * 29) + (kyy.sum() - np.trace(kyy)) / (20 * 19)
                - 2 * k(x, y).mean())
    np.testing.assert_allclose(float(distances.gaussian_mmd2(
        x.astype(np.float32), y.astype(np.float32))), expected, rtol=1e-4, atol=1e-6)
    same = np.array([float(distances.gaussian_mmd2(*rng.normal(size=(2, 40, 2)).astype(
        np.float32))) for _ in range(200)])
    assert abs(same.mean()) < 3 * same.std() / np.sqrt(len(same))


def test_gaussian_mmd_sees_what_the_cubic_kernel_cannot():
    """N(0, 1) against a uniform with the same first three moments: the cubic
    kernel's MMD^2 is a sum over those moments (0 in expectation); the Gaussian
    kernels' is not."""
    rng = np.random.default_rng(7)
    gaussian, cubic = [], []
    for _ in range(10):
        x = rng.normal(size=(2000, 1)).astype(np.float32)
        y = rng.uniform(-np.sqrt(3), np.sqrt(3), size=(2000, 1)).astype(np.float32)
        gaussian.append(float(distances.gaussian_mmd2(x, y)))
        cubic.append(float(distances.mmd2_unbiased(x, y)))
    gaussian, cubic = np.array(gaussian), np.array(cubic)
    assert gaussian.mean() > 10 * gaussian.std() / np.sqrt(10)
    assert abs(cubic.mean()) < 3 * cubic.std() / np.sqrt(10)


def test_kid_with_whole_sets_is_invariant_to_order():
    rng = np.random.default_rng(4)
    x, y = _gaussian(rng, 300, 8), _gaussian(rng, 300, 8, 0.2)
    a = distances.kernel_inception_distance(x, y, jax.random.key(0), 1, 300)[0]
    b = distances.kernel_inception_distance(x[::-1], y[rng.permutation(300)],
                                            jax.random.key(5), 1, 300)[0]
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_precision_recall_one_for_identical_sets_and_falling_with_a_shift(monkeypatch):
    monkeypatch.setattr(manifold, 'BLOCK', 256)  # several blocks, a padded last one
    rng = np.random.default_rng(5)
    real = rng.normal(size=(700, 8)).astype(np.float32)
    assert manifold.precision_recall(real, real) == (1.0, 1.0)
    last = (1.0, 1.0)
    for shift in (0.5, 1.5, 10.0):
        pr = manifold.precision_recall(real, rng.normal(size=(700, 8)).astype(np.float32)
                                       + shift)
        assert pr[0] < last[0] and pr[1] < last[1]
        last = pr
    assert last == (0.0, 0.0)
    # Mode dropping: a generator that covers one of two far-apart clusters is
    # precise, but recalls only that cluster's share of the data.
    clusters = np.concatenate([real[:400], real[400:] + 50.0])
    precision, recall = manifold.precision_recall(clusters, clusters[:400])
    assert precision == 1.0 and recall == 400 / 700


def test_knn_radii_match_a_sorted_float64_reference_with_duplicates(monkeypatch):
    monkeypatch.setattr(manifold, 'BLOCK', 64)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(150, 5)).astype(np.float32)
    x[100:110] = x[0]  # ties: eleven copies of one point, so its 3rd neighbour is at 0
    d2 = ((x[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1)
    for k in (1, 3, 5):
        expected = np.sort(d2, axis=1)[:, k]
        np.testing.assert_allclose(manifold.knn_radii(x, k), expected, rtol=1e-4, atol=1e-4)
    assert manifold.knn_radii(x, 3)[0] == 0.0


def test_precision_recall_invariant_to_order():
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) + 0.7
    assert manifold.precision_recall(real, fake) == manifold.precision_recall(
        real[::-1], fake[rng.permutation(300)])


def test_classifier_score_bounds():
    confident = np.eye(10)[np.arange(1000) % 10] * 50.0   # sharp and every class
    one_class = np.eye(10)[np.zeros(1000, int)] * 50.0    # sharp, one class
    unsure = np.zeros((1000, 10))                          # flat
    assert scores.classifier_score(confident)[0] == pytest.approx(10.0, rel=1e-4)
    assert scores.classifier_score(one_class)[0] == pytest.approx(1.0, rel=1e-4)
    assert scores.classifier_score(unsure)[0] == pytest.approx(1.0, rel=1e-4)


def test_too_few_samples_are_one_clear_line():
    with pytest.raises(JaxgenError, match='at least 2 feature vectors'):
        distances.gaussian_stats([np.zeros((1, 3))])
    with pytest.raises(JaxgenError, match='needs more than 3 points'):
        manifold.precision_recall(np.zeros((3, 2)), np.zeros((10, 2)))
    with pytest.raises(JaxgenError, match='at least 10 samples'):
        scores.classifier_score(np.zeros((5, 10)))
