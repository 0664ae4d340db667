"""VAE / IWAE math: KLs vs Monte Carlo, densities vs scipy, exact ELBO / IWAE on pPCA.

The probabilistic-PCA model ``z ~ N(0, I_d)``, ``x | z ~ N(W z + b, s^2 I_D)`` has
an exact marginal ``p(x) = N(b, W W^T + s^2 I)`` and a Gaussian posterior, so the
bounds can be compared with the true ``log p(x)``. ``W = Q diag(scales)`` has
orthogonal columns, which makes the posterior covariance diagonal.
"""

import functools
import inspect
import math
import types

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxgen.losses import vae

NUM_MC = 200_000


def _jitted(fn):
    static = {'event_ndims', 'num_samples', 'axis'} & set(inspect.signature(fn).parameters)
    return jax.jit(fn, static_argnames=tuple(static))


# The functions under test, jitted: one compilation per signature rather than one per eager op
# keeps this file fast. Keyword-only-ness is checked on the plain functions.
V = types.SimpleNamespace(**{name: _jitted(getattr(vae, name)) for name in (
    'gaussian_kl_standard_normal', 'gaussian_kl', 'gaussian_log_density',
    'standard_normal_log_density', 'bernoulli_log_likelihood', 'reparameterize', 'elbo',
    'log_importance_weights', 'iwae_bound')})


# --------------------------------------------------------------------------- KL vs Monte Carlo

@jax.jit
def _mc_kl(key, mean, log_var, prior_mean, prior_log_var):
    """Mean and standard error over NUM_MC samples of ``log q(z) - log p(z)``, z ~ q."""
    z = vae.reparameterize(key, mean=mean, log_var=log_var, num_samples=NUM_MC)
    log_ratio = (vae.gaussian_log_density(x=z, mean=mean, log_var=log_var, event_ndims=1)
                 - vae.gaussian_log_density(x=z, mean=prior_mean, log_var=prior_log_var,
                                            event_ndims=1))
    return jnp.mean(log_ratio, axis=0), jnp.std(log_ratio, axis=0) / math.sqrt(NUM_MC)


def _random_gaussian(seed, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=shape).astype(np.float32),
            rng.uniform(-1.0, 1.0, size=shape).astype(np.float32))


def test_kl_standard_normal_matches_monte_carlo():
    mean, log_var = _random_gaussian(0)
    kl = V.gaussian_kl_standard_normal(mean=mean, log_var=log_var)
    chex.assert_shape(kl, (4,))
    zeros = np.zeros_like(mean)
    mc, se = _mc_kl(jax.random.PRNGKey(1), mean, log_var, zeros, zeros)
    assert np.all(np.abs(mc - kl) < 3 * se), (kl, mc, se)
    np.testing.assert_allclose(mc, kl, rtol=0.02)
    # The standard-normal prior is a special case of the general KL.
    np.testing.assert_allclose(
        V.gaussian_kl(mean=mean, log_var=log_var, prior_mean=zeros, prior_log_var=zeros),
        kl, rtol=1e-6)


def test_general_kl_matches_monte_carlo():
    mean, log_var = _random_gaussian(2)
    prior_mean, prior_log_var = _random_gaussian(3)
    kl = V.gaussian_kl(mean=mean, log_var=log_var, prior_mean=prior_mean,
                       prior_log_var=prior_log_var)
    chex.assert_shape(kl, (4,))
    mc, se = _mc_kl(jax.random.PRNGKey(4), mean, log_var, prior_mean, prior_log_var)
    assert np.all(np.abs(mc - kl) < 3 * se), (kl, mc, se)
    np.testing.assert_allclose(mc, kl, rtol=0.02)


def test_kl_is_zero_iff_q_equals_p():
    mean, log_var = _random_gaussian(5)
    zeros = np.zeros_like(mean)
    np.testing.assert_array_equal(V.gaussian_kl_standard_normal(mean=zeros, log_var=zeros), 0.0)
    np.testing.assert_allclose(V.gaussian_kl(mean=mean, log_var=log_var, prior_mean=mean,
                                             prior_log_var=log_var), 0.0, atol=1e-7)
    assert np.all(V.gaussian_kl_standard_normal(mean=mean, log_var=log_var) > 0)
    # Differing only in the mean, or only in the variance, is enough.
    assert np.all(V.gaussian_kl(mean=mean + 0.1, log_var=log_var, prior_mean=mean,
                                prior_log_var=log_var) > 0)
    assert np.all(V.gaussian_kl(mean=mean, log_var=log_var - 0.1, prior_mean=mean,
                                prior_log_var=log_var) > 0)


# --------------------------------------------------------------------------- densities

def test_gaussian_log_densities_match_scipy():
    rng = np.random.default_rng(0)
    x, mean = rng.normal(size=(2, 4, 2, 3)).astype(np.float32)  # image-like [B, H, W]
    log_var = rng.uniform(-1, 1, size=(4, 2, 3)).astype(np.float32)
    got = V.gaussian_log_density(x=x, mean=mean, log_var=log_var)
    chex.assert_shape(got, (4,))
    assert got.dtype == jnp.float32
    want = [stats.multivariate_normal(mean[i].ravel(), np.diag(np.exp(log_var[i].ravel())))
            .logpdf(x[i].ravel()) for i in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(
        got, stats.norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(V.standard_normal_log_density(x=x),
                               stats.norm.logpdf(x).sum(axis=(1, 2)), rtol=1e-5)
    # event_ndims=1 keeps the leading axes: [4, 2, 3] -> [4, 2].
    np.testing.assert_allclose(V.standard_normal_log_density(x=x, event_ndims=1),
                               stats.norm.logpdf(x).sum(axis=2), rtol=1e-5)


def test_bernoulli_log_likelihood_matches_naive_formula_and_is_stable():
    rng = np.random.default_rng(1)
    logits = rng.uniform(-6, 6, size=(3, 4, 5))
    targets = rng.uniform(0, 1, size=(3, 4, 5))  # grey levels, not only {0, 1}
    targets[0] = rng.integers(0, 2, size=(4, 5))
    p = 1 / (1 + np.exp(-logits))
    want = (targets * np.log(p) + (1 - targets) * np.log(1 - p)).sum(axis=(1, 2))
    got = V.bernoulli_log_likelihood(logits=logits.astype(np.float32),
                                     targets=targets.astype(np.float32))
    chex.assert_shape(got, (3,))
    np.testing.assert_allclose(got, want, rtol=1e-5)

    big = np.array([[200.0, -200.0], [-200.0, 200.0]], np.float32)
    ones = np.ones((2, 2), np.float32)
    value = V.bernoulli_log_likelihood(logits=big, targets=ones)
    chex.assert_tree_all_finite(value)
    np.testing.assert_allclose(value, [-200.0, -200.0], rtol=1e-6)
    np.testing.assert_allclose(V.bernoulli_log_likelihood(logits=big, targets=big > 0),
                               [0.0, 0.0], atol=1e-6)
    grad = jax.jit(jax.grad(
        lambda l: V.bernoulli_log_likelihood(logits=l, targets=ones).sum()))(big)
    chex.assert_tree_all_finite(grad)
    np.testing.assert_allclose(grad, [[0.0, 1.0], [1.0, 0.0]], atol=1e-6)  # 1 - sigmoid(l)


def test_functions_are_keyword_only():
    with pytest.raises(TypeError):
        vae.elbo(jnp.zeros(2), jnp.zeros(2))  # pylint: disable=too-many-function-args
    with pytest.raises(TypeError):
        vae.iwae_bound(jnp.zeros((2, 2)))  # pylint: disable=too-many-function-args


# --------------------------------------------------------------------------- pPCA

def _make_ppca():
    rng = np.random.default_rng(42)
    d, dim, sigma, batch = 2, 5, 0.5, 3
    q, _ = np.linalg.qr(rng.normal(size=(dim, d)))
    w = q * np.array([2.0, 0.8])  # orthogonal columns
    b = rng.normal(size=dim)
    x = rng.normal(size=(batch, d)) @ w.T + b + sigma * rng.normal(size=(batch, dim))
    log_px = stats.multivariate_normal(b, w @ w.T + sigma ** 2 * np.eye(dim)).logpdf(x)
    m = w.T @ w + sigma ** 2 * np.eye(d)
    assert np.allclose(m, np.diag(np.diag(m)), atol=1e-12)  # diagonal posterior
    post_mean = (x - b) @ w @ np.linalg.inv(m)  # rows of M^-1 W^T (x - b)
    post_log_var = np.broadcast_to(np.log(sigma ** 2 / np.diag(m)), post_mean.shape)
    return dict(w=w, b=b, sigma=sigma, x=x, log_px=log_px, post_mean=post_mean,
                post_log_var=post_log_var.copy())


@pytest.fixture(scope='session')
def ppca():
    return _make_ppca()


@jax.jit
def _analytic_elbo(x, w, b, sigma, mean, log_var):
    """E_q[log p(x|z)] - KL(q || N(0, I)) for q = N(mean, diag exp(log_var))."""
    obs_log_var = jnp.full_like(x, 2 * jnp.log(sigma))
    # E_q log N(x; Wz + b, s^2 I) = log N(x; W m + b, s^2 I) - tr(W^T W S) / (2 s^2).
    expected_ll = (vae.gaussian_log_density(x=x, mean=mean @ w.T + b, log_var=obs_log_var)
                   - jnp.sum(jnp.diag(w.T @ w) * jnp.exp(log_var), axis=-1) / (2 * sigma ** 2))
    return vae.elbo(log_likelihood=expected_ll,
                    kl=vae.gaussian_kl_standard_normal(mean=mean, log_var=log_var))


def _as(p, dtype):
    """The pPCA model's arrays as jnp arrays of ``dtype``."""
    return {k: jnp.asarray(p[k], dtype) for k in ('x', 'w', 'b', 'sigma', 'post_mean',
                                                  'post_log_var')}


def test_elbo_is_tight_at_the_true_posterior_and_the_gap_is_the_posterior_kl(ppca):
    with jax.enable_x64(True):
        a = _as(ppca, jnp.float64)
        model = (a['x'], a['w'], a['b'], a['sigma'])
        mean, log_var = a['post_mean'], a['post_log_var']
        np.testing.assert_allclose(_analytic_elbo(*model, mean, log_var), ppca['log_px'],
                                   atol=1e-4)
        for shift, log_scale in [(0.5, 0.0), (0.0, math.log(2.0)), (0.0, -math.log(3.0)),
                                 (-0.3, 0.5), (1e-2, 0.0)]:
            q_mean, q_log_var = mean + shift, log_var + log_scale
            value = _analytic_elbo(*model, q_mean, q_log_var)
            assert np.all(value < ppca['log_px']), (shift, log_scale)
            gap = V.gaussian_kl(mean=q_mean, log_var=q_log_var, prior_mean=mean,
                                prior_log_var=log_var)
            np.testing.assert_allclose(ppca['log_px'] - value, gap, rtol=1e-6, atol=1e-9)


@functools.partial(jax.jit, static_argnames='num_samples')
def _ppca_log_weights(key, x, w, b, sigma, q_mean, q_log_var, *, num_samples):
    """log w = log p(x|z) + log p(z) - log q(z|x) for z ~ q: [num_samples, B]."""
    z = vae.reparameterize(key, mean=q_mean, log_var=q_log_var, num_samples=num_samples)
    return vae.log_importance_weights(
        log_px_given_z=vae.gaussian_log_density(
            x=x, mean=z @ w.T + b, log_var=jnp.full_like(x, 2 * jnp.log(sigma)), event_ndims=1),
        log_pz=vae.standard_normal_log_density(x=z, event_ndims=1),
        log_qz=vae.gaussian_log_density(x=z, mean=q_mean, log_var=q_log_var, event_ndims=1))


R, KS = 200, (1, 5, 50, 500)


@jax.jit
def _iwae_bounds(log_weights):
    """log_weights [R, max(KS), B] -> {k: L_k [R, B]} from the first k samples of each row."""
    return {k: vae.iwae_bound(log_weights=log_weights[:, :k], axis=1) for k in KS}


def test_iwae_bound_increases_with_k_towards_log_px(ppca):
    a = _as(ppca, jnp.float32)
    sd = np.exp(0.5 * ppca['post_log_var'])
    q_mean, q_log_var = ppca['post_mean'] + sd, ppca['post_log_var'] + math.log(2.0)
    lw = _ppca_log_weights(jax.random.PRNGKey(7), a['x'], a['w'], a['b'], a['sigma'],
                           jnp.asarray(q_mean, jnp.float32), jnp.asarray(q_log_var, jnp.float32),
                           num_samples=R * KS[-1])
    assert lw.dtype == jnp.float32
    lw = lw.reshape(R, KS[-1], -1)  # R iid repetitions of K_max samples
    bounds = {k: np.asarray(v, np.float64) for k, v in _iwae_bounds(lw).items()}
    se = lambda v: v.std(axis=0, ddof=1) / math.sqrt(R)  # noqa: E731
    for k1, k2 in zip(KS[:-1], KS[1:]):
        diff = bounds[k2] - bounds[k1]
        assert np.all(diff.mean(axis=0) >= -3 * se(diff)), (k1, k2)
    log_px = ppca['log_px']
    assert np.all(np.abs(bounds[500].mean(axis=0) - log_px) < 0.05), bounds[500].mean(0) - log_px
    assert np.all(bounds[1].mean(axis=0) < log_px - 0.1)
    # L_1 is the ELBO: log p(x) - KL(q || posterior).
    elbo = log_px - np.asarray(V.gaussian_kl(
        mean=q_mean, log_var=q_log_var, prior_mean=ppca['post_mean'],
        prior_log_var=ppca['post_log_var']))
    assert np.all(np.abs(bounds[1].mean(axis=0) - elbo) < 3 * se(bounds[1]))
    # On a [k, B] input the default axis is the sample axis.
    np.testing.assert_allclose(V.iwae_bound(log_weights=lw[0, :50]), bounds[50][0], rtol=1e-6)


def test_iwae_weights_are_constant_at_the_true_posterior(ppca):
    with jax.enable_x64(True):
        a = _as(ppca, jnp.float64)
        lw = _ppca_log_weights(jax.random.PRNGKey(3), a['x'], a['w'], a['b'], a['sigma'],
                               a['post_mean'], a['post_log_var'], num_samples=50)
        assert lw.dtype == jnp.float64
        chex.assert_shape(lw, (50, 3))
        lw = np.asarray(lw)
        np.testing.assert_allclose(lw, np.broadcast_to(ppca['log_px'], (50, 3)), atol=1e-4)
        for k in (1, 5, 50):
            np.testing.assert_allclose(V.iwae_bound(log_weights=lw[:k]), ppca['log_px'],
                                       atol=1e-4)


# --------------------------------------------------------------------------- reparameterize

def test_reparameterize_shapes_moments_and_gradients():
    mean = np.array([[0.0, 1.0, -2.0], [3.0, 0.5, -0.5]], np.float32)
    log_var = np.array([[0.0, -1.0, 1.0], [0.5, -2.0, 0.2]], np.float32)
    key = jax.random.PRNGKey(0)
    for num_samples, shape in [(None, (2, 3)), (1, (1, 2, 3)), (7, (7, 2, 3))]:
        out = jax.eval_shape(functools.partial(vae.reparameterize, mean=mean, log_var=log_var,
                                               num_samples=num_samples), key)
        assert out.shape == shape and out.dtype == jnp.float32
    n = 20_000
    zs = np.asarray(V.reparameterize(key, mean=mean, log_var=log_var, num_samples=n))
    var = np.exp(log_var)
    assert np.all(np.abs(zs.mean(0) - mean) < 4 * np.sqrt(var / n))
    np.testing.assert_allclose(zs.var(0), var, rtol=0.05)  # SE of the variance ~1%
    assert not np.allclose(zs[0], zs[1])  # samples along the new axis are independent

    @jax.jit
    def sample_and_grads(m, lv):
        sample = lambda m, lv: vae.reparameterize(key, mean=m, log_var=lv)  # noqa: E731
        return (sample(m, lv),
                jax.grad(lambda m, lv: sample(m, lv).sum(), argnums=(0, 1))(m, lv),
                jax.grad(lambda m, lv: jnp.sin(sample(m, lv)).sum(), argnums=(0, 1))(m, lv))

    z, (g_mean, g_log_var), g_sin = sample_and_grads(mean, log_var)
    assert z.shape == (2, 3)
    # d z / d mean = 1 and d z / d log_var = 0.5 (z - mean), exactly.
    np.testing.assert_allclose(g_mean, 1.0)
    np.testing.assert_allclose(g_log_var, 0.5 * (np.asarray(z) - mean), rtol=1e-5, atol=1e-7)
    chex.assert_tree_all_finite(g_sin)
    assert np.all(np.abs(g_sin[0]) > 0) and np.all(np.abs(g_sin[1]) > 0)
