"""Objectives' losses and logged metrics, as numbers, against references written here.

Each objective runs over a stand-in model whose ``forward`` returns fixed outputs,
so what is checked is the objective's own arithmetic: which term goes to which
player with which weight, batch means, bounds and their ceilings, schedules. The
references are numpy and SciPy (``scipy.stats.norm.logpdf``,
``scipy.special.log_softmax``, ``logsumexp``), never the library's functions.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from jaxgen.errors import JaxgenError
from jaxgen.models.gan.latents import LatentCodes
from jaxgen.objectives import aae, fgan, gan, iwae, vae
from jaxgen.objectives.base import empty
from jaxgen.objectives.infogan import infogan_objective
from tests.test_loss_values import F_GAN, REFERENCE, ref_minimax_d, sigmoid

RNG = np.random.default_rng(0)
B = 6
REAL = RNG.normal(size=B) * 2.0
FAKE = RNG.normal(size=B) * 2.0 - 0.5


class FixedModel:
    """A model bundle whose ``forward`` returns the same outputs whatever it is given,
    and records the ``train`` flag it was called with."""

    def __init__(self, outputs, players=('generator', 'discriminator'), **attributes):
        self.outputs, self.players, self.calls = outputs, tuple(players), []
        self.__dict__.update(attributes)

    def forward(self, variables, batch, key, train=True):
        del variables, batch, key
        self.calls.append(train)
        return ({k: (jnp.asarray(v) if isinstance(v, np.ndarray) else v)
                 for k, v in self.outputs.items()}, {p: {} for p in self.players})


def run(objective, model, batch=None):
    empty_tree = {p: {} for p in model.players}
    losses, aux = objective(empty_tree, empty_tree, batch or {}, None)
    return {k: float(v) for k, v in losses.items()}, {k: float(v) for k, v in aux.metrics.items()}


def close(value, expected):
    return value == pytest.approx(float(expected), rel=1e-5, abs=1e-5)


# -- the GAN objective --------------------------------------------------------------

@pytest.mark.parametrize('family,kind', [('minimax', 'non_saturating'), ('minimax', 'saturating'),
                                         ('hinge', None), ('least_squares', None),
                                         ('wasserstein', None)])
def test_gan_objective_gives_each_player_the_batch_mean_of_its_family_loss(family, kind):
    model = FixedModel({'real_logits': REAL, 'fake_logits': FAKE})
    objective = gan.gan_objective(model, loss=family, generator_loss=kind or 'non_saturating')
    losses, metrics = run(objective, model)
    d_ref, g_ref = REFERENCE[family]
    if kind == 'saturating':
        g_ref = lambda f: np.log(1.0 - sigmoid(f))  # noqa: E731
    assert close(losses['discriminator'], np.mean(d_ref(REAL, FAKE)))
    assert close(losses['generator'], np.mean(g_ref(FAKE)))
    assert close(metrics['d_loss'], losses['discriminator'])
    assert close(metrics['g_loss'], losses['generator'])
    # D's mean output, named for what it is: a probability for the minimax game only
    expected = {'minimax': {'D(x)': np.mean(sigmoid(REAL)), 'D(G(z))': np.mean(sigmoid(FAKE))},
                'wasserstein': {'critic_real': np.mean(REAL), 'critic_fake': np.mean(FAKE),
                                'critic_gap': np.mean(REAL) - np.mean(FAKE)}}.get(
        family, {'real_logit': np.mean(REAL), 'fake_logit': np.mean(FAKE)})
    logged = {k[len('d_loss/'):]: v for k, v in metrics.items() if k.startswith('d_loss/')}
    assert logged.keys() == expected.keys()
    assert all(close(logged[k], v) for k, v in expected.items())
    assert model.calls == [True]  # the objective runs the model in train mode


def test_gan_objective_passes_label_smoothing_to_the_discriminator_loss():
    model = FixedModel({'real_logits': REAL, 'fake_logits': FAKE})
    losses, _ = run(gan.gan_objective(model, label_smoothing=0.25), model)
    assert close(losses['discriminator'], np.mean(ref_minimax_d(REAL, FAKE, 0.25)))
    assert close(losses['generator'], np.mean(-np.log(sigmoid(FAKE))))


def test_penalties_are_added_to_the_discriminator_times_their_weights():
    """A linear critic D(x) = x . w with |w| = 3: the gradient penalty is (3 - 1)^2 = 4 and
    R1 is |w|^2 / 2 = 4.5 at every point; weights 10 and 0.5 add 40 and 2.25."""
    w = jnp.array([1.8, 2.4])   # |w| = 3
    x = RNG.normal(size=(B, 2))
    outputs = {'real_logits': REAL, 'fake_logits': FAKE, 'real': x, 'fake': x[::-1] + 1.0,
               'mix': np.linspace(0.1, 0.9, B), 'critic': lambda data: data @ w}
    model = FixedModel(outputs)
    losses, metrics = run(gan.gan_objective(model, loss='wasserstein', gradient_penalty=10.0,
                                            r1=0.5), model)
    assert close(metrics['gradient_penalty'], 4.0)
    assert close(metrics['gradient_penalty/grad_norm'], 3.0)
    assert close(metrics['r1'], 4.5)
    assert close(losses['discriminator'], np.mean(FAKE - REAL) + 10.0 * 4.0 + 0.5 * 4.5)
    assert close(losses['generator'], np.mean(-FAKE))


def test_weighted_terms_add_up_per_loss_and_unweighted_ones_are_metrics_only():
    model = FixedModel({})
    objective = (empty(model)
                 .with_term('a', lambda o: (jnp.float32(2.0), {'detail': jnp.float32(7.0)}),
                            generator=0.5, discriminator=-1.0)
                 .with_term('b', lambda o: (jnp.float32(3.0), {}), generator=2.0)
                 .with_term('c', lambda o: (jnp.float32(11.0), {}), discriminator=0.0)
                 .with_term('metric', lambda o: (jnp.float32(5.0), {})))
    losses, metrics = run(objective, model)
    assert losses == {'generator': 0.5 * 2.0 + 2.0 * 3.0, 'discriminator': -2.0}
    assert metrics == {'a': 2.0, 'a/detail': 7.0, 'b': 3.0, 'c': 11.0, 'metric': 5.0}


# -- f-GAN ---------------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(F_GAN))
@pytest.mark.parametrize('kind', ['non_saturating', 'saturating'])
def test_f_gan_objective_values_and_the_logged_bound(name, kind):
    g, conjugate = F_GAN[name]
    real, fake = np.clip(REAL, -2.5, 2.5), np.clip(FAKE, -2.5, 2.5)
    model = FixedModel({'real_logits': real, 'fake_logits': fake})
    losses, metrics = run(fgan.fgan_objective(model, divergence=name, generator_loss=kind), model)
    bound = np.mean(g(real)) - np.mean(conjugate(g(fake)))
    assert close(losses['discriminator'], -bound)
    assert close(metrics['d_loss/bound'], bound)
    g_loss = -g(fake) if kind == 'non_saturating' else -conjugate(g(fake))
    assert close(losses['generator'], np.mean(g_loss))


# -- InfoGAN ---------------------------------------------------------------------------

CODES = LatentCodes(noise_dim=2, categorical=(3, 4), continuous=2)


def infogan_outputs():
    outputs = {'real_logits': REAL, 'fake_logits': FAKE,
               'q_cat_logits': RNG.normal(size=(B, 7)) * 2.0,
               'q_cont_mean': RNG.uniform(-1, 1, size=(B, 2)),
               'q_cont_log_std': RNG.normal(size=(B, 2)) * 0.5,
               'codes': {'cat': np.stack([RNG.integers(0, 3, B), RNG.integers(0, 4, B)], 1),
                         'cont': RNG.uniform(-1, 1, size=(B, 2))}}
    return outputs


def reference_bounds(o, std=None):
    """``L_I`` of the categorical codes (Cat(3) and Cat(4)) and of the two Uniform(-1, 1)
    codes under Q, by SciPy."""
    logits, cat = o['q_cat_logits'], o['codes']['cat']
    rows = np.arange(B)
    log_q_cat = (special.log_softmax(logits[:, :3], axis=1)[rows, cat[:, 0]]
                 + special.log_softmax(logits[:, 3:], axis=1)[rows, cat[:, 1]])
    scale = np.exp(o['q_cont_log_std']) if std is None else std
    log_q_cont = stats.norm.logpdf(o['codes']['cont'], loc=o['q_cont_mean'], scale=scale).sum(1)
    return (math.log(3) + math.log(4) + np.mean(log_q_cat),
            2 * math.log(2) + np.mean(log_q_cont))


@pytest.mark.parametrize('learn_std,fixed_std', [(False, 0.5), (False, 2.0), (True, 1.0)])
@pytest.mark.parametrize('train_trunk', [False, True])
def test_infogan_information_terms_match_scipy_and_reach_their_players(learn_std, fixed_std,
                                                                       train_trunk):
    o = infogan_outputs()
    model = FixedModel(o, players=('generator', 'discriminator', 'q'), codes=CODES)
    objective = infogan_objective(model, lambda_categorical=0.7, lambda_continuous=1.3,
                                  learn_std=learn_std, fixed_std=fixed_std,
                                  train_trunk=train_trunk)
    losses, metrics = run(objective, model)
    l_cat, l_cont = reference_bounds(o, None if learn_std else fixed_std)
    assert close(metrics['info_cat/L_I'], l_cat)
    assert close(metrics['info_cat/H(c)'], math.log(12.0))
    assert close(metrics['info_cat'], -l_cat)
    assert close(metrics['info_cont/L_I'], l_cont)
    assert close(metrics['info_cont/H(c)'], 2 * math.log(2.0))
    assert close(metrics['info_cont'], -l_cont)
    std = np.exp(o['q_cont_log_std']) if learn_std else fixed_std
    assert close(metrics['info_cont/std'], np.mean(std))
    info = 0.7 * -l_cat + 1.3 * -l_cont
    assert close(losses['generator'], np.mean(-np.log(sigmoid(FAKE))) + info)
    assert close(losses['q'], info)
    d_loss = np.mean(ref_minimax_d(REAL, FAKE))
    assert close(losses['discriminator'], d_loss + (info if train_trunk else 0.0))


def test_infogan_schedule_scales_the_terms_not_their_logged_bounds():
    """info_start 10, info_ramp 4: at step 11 the scale is (11 - 10 + 1) / 4 = 1/2."""
    o = infogan_outputs()
    model = FixedModel(o, players=('generator', 'discriminator', 'q'), codes=CODES)
    objective = infogan_objective(model, lambda_categorical=2.0, lambda_continuous=3.0,
                                  learn_std=True, info_start=10, info_ramp=4)
    losses, metrics = run(objective, model, {'step': np.asarray(11)})
    l_cat, l_cont = reference_bounds(o)
    assert close(metrics['info_cat/L_I'], l_cat) and close(metrics['info_cont/L_I'], l_cont)
    assert close(metrics['info_cat/scale'], 0.5)
    assert close(metrics['info_cat'], -0.5 * l_cat)
    assert close(losses['q'], 0.5 * (2.0 * -l_cat + 3.0 * -l_cont))


# -- VAE, IWAE, AAE -------------------------------------------------------------------------

K, D = 3, 2


def vae_outputs():
    return {'log_px_z': RNG.normal(size=(K, B)) * 5.0 - 50.0,
            'mean': RNG.normal(size=(B, D)), 'log_var': RNG.normal(size=(B, D)) * 0.5,
            'z': RNG.normal(size=(K, B, D))}


def reference_kl(o):
    """KL(N(m, e^lv) || N(0, 1)) = 1/2 sum(e^lv + m^2 - 1 - lv) (Kingma & Welling, App. B)."""
    m, lv = o['mean'], o['log_var']
    return 0.5 * np.sum(np.exp(lv) + m ** 2 - 1.0 - lv, axis=1)


@pytest.mark.parametrize('beta,warmup,step,scale', [(1.0, 0, 0, 1.0), (4.0, 0, 0, 4.0),
                                                    (4.0, 100, 25, 1.0), (2.0, 100, 300, 2.0)])
def test_vae_objective_is_reconstruction_plus_scaled_kl_and_logs_the_elbo(beta, warmup, step,
                                                                          scale):
    o = vae_outputs()
    model = FixedModel(o, players=('encoder', 'decoder'))
    losses, metrics = run(vae.vae_objective(model, beta=beta, warmup_steps=warmup), model,
                          {'step': np.asarray(step)})
    recon, kl = -np.mean(o['log_px_z']), np.mean(reference_kl(o))
    assert close(metrics['reconstruction'], recon)
    assert close(metrics['kl/KL'], kl) and close(metrics['kl/beta'], beta)
    assert close(metrics.get('kl/scale', 1.0), scale / beta)  # the warm-up, when scheduled
    assert close(metrics['kl'], scale * kl)
    assert close(metrics['elbo'], np.mean(np.mean(o['log_px_z'], 0) - reference_kl(o)))
    assert close(losses['encoder'], recon + scale * kl)
    assert close(losses['decoder'], recon + scale * kl)


def test_iwae_term_is_the_log_mean_importance_weight():
    o = vae_outputs()
    log_p = stats.norm.logpdf(o['z']).sum(-1)
    log_q = stats.norm.logpdf(o['z'], loc=o['mean'], scale=np.exp(0.5 * o['log_var'])).sum(-1)
    bound = special.logsumexp(o['log_px_z'] + log_p - log_q, axis=0) - math.log(K)
    value, metrics = iwae.iwae_term({k: jnp.asarray(v) for k, v in o.items()})
    assert close(float(value), -np.mean(bound))
    assert close(float(metrics['bound']), np.mean(bound))


def test_aae_objective_names_three_losses_and_fills_each():
    o = {**vae_outputs(), 'real_logits': REAL, 'fake_logits': FAKE}
    model = FixedModel(o, players=('encoder', 'decoder', 'discriminator'))
    losses, _ = run(aae.aae_objective(model, label_smoothing=0.1), model)
    assert close(losses['reconstruction'], -np.mean(o['log_px_z']))
    assert close(losses['discriminator'], np.mean(ref_minimax_d(REAL, FAKE, 0.1)))
    assert close(losses['generator'], np.mean(-np.log(sigmoid(FAKE))))
    with pytest.raises(JaxgenError, match='label_smoothing applies to loss=minimax only'):
        gan.gan_objective(model, loss='hinge', label_smoothing=0.1, losses=aae.LOSSES)
