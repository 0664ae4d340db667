"""The translation objectives (pix2pix, CycleGAN, StarGAN) against the official
code's formulas written out in NumPy: junyanz/pytorch-CycleGAN-and-pix2pix
``pix2pix_model.py``/``cycle_gan_model.py`` (``GANLoss``: BCE-with-logits or MSE,
averaged over every patch) and yunjey/stargan ``solver.py``; and one-line errors."""

import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.objectives import cyclegan, pix2pix, stargan
from tests.test_objective_values import FixedModel, close, run

RNG = np.random.default_rng(0)


def patches(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def bce(logits, target):  # torch.nn.BCEWithLogitsLoss, mean over all elements
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))


def mse(x, target):
    return float(np.mean((x.astype(np.float64) - target) ** 2))


def l1(a, b):
    return float(np.mean(np.abs(a.astype(np.float64) - b)))


def gan_losses(mode, real, fake, d_fake=None):
    """The official (loss_D, loss_G adversarial part) for gan_mode ``mode``."""
    d_fake = fake if d_fake is None else d_fake
    crit = bce if mode == 'vanilla' else mse
    return 0.5 * (crit(real, 1.0) + crit(d_fake, 0.0)), crit(fake, 1.0)


PIX = {'real_logits': patches(3, 2, 2), 'fake_logits': patches(3, 2, 2),
       'translation': patches(3, 4, 4, 1), 'target': patches(3, 4, 4, 1)}


@pytest.mark.parametrize('loss, mode', [('minimax', 'vanilla'), ('least_squares', 'lsgan')])
def test_pix2pix_is_the_official_cgan_plus_100_l1(loss, mode):
    model = FixedModel(PIX, translate=True)
    losses, metrics = run(pix2pix.pix2pix_objective(model, loss=loss), model)
    loss_d, loss_g_gan = gan_losses(mode, PIX['real_logits'], PIX['fake_logits'])
    assert close(losses['discriminator'], loss_d)
    assert close(losses['generator'], loss_g_gan + 100.0 * l1(PIX['translation'], PIX['target']))
    assert close(metrics['l1'], l1(PIX['translation'], PIX['target']))


def test_pix2pix_ablations_drop_a_term_and_both_dropped_is_one_line():
    model = FixedModel(PIX, translate=True)
    l1_only, _ = run(pix2pix.pix2pix_objective(model, gan_weight=0.0), model)
    assert close(l1_only['generator'], 100.0 * l1(PIX['translation'], PIX['target']))
    gan_only, _ = run(pix2pix.pix2pix_objective(model, l1=0.0), model)
    assert close(gan_only['generator'], bce(PIX['fake_logits'], 1.0))
    with pytest.raises(JaxgenError, match='both 0'):
        pix2pix.pix2pix_objective(model, l1=0.0, gan_weight=0.0)


def cycle_outputs():
    out = {}
    for x in 'ab':
        out.update({f'real_logits_{x}': patches(2, 3, 3), f'fake_logits_{x}': patches(2, 3, 3),
                    f'history_logits_{x}': patches(2, 3, 3), f'real_{x}': patches(2, 4, 4, 1),
                    f'cycle_{x}': patches(2, 4, 4, 1), f'identity_{x}': patches(2, 4, 4, 1)})
    return out


def test_cyclegan_is_the_official_lsgan_cycle_and_identity_sum():
    out = cycle_outputs()
    model = FixedModel(out, players=cyclegan.PLAYERS)
    losses, _ = run(cyclegan.cyclegan_objective(model), model)
    g = 0.0
    for x in 'ab':  # D_x judges domain x; its loss reads the pooled fakes
        loss_d, loss_g = gan_losses('lsgan', out[f'real_logits_{x}'], out[f'fake_logits_{x}'],
                                    out[f'history_logits_{x}'])
        assert close(losses[f'discriminator_{x}'], loss_d)
        g += (loss_g + 10.0 * l1(out[f'cycle_{x}'], out[f'real_{x}'])
              + 10.0 * 0.5 * l1(out[f'identity_{x}'], out[f'real_{x}']))
    assert close(losses['generators'], g)
    # Table 4's "GAN + forward cycle": no backward cycle (and its identity) term.
    forward, metrics = run(cyclegan.cyclegan_objective(model, cycle_b=0.0), model)
    assert 'cycle_b' not in metrics and 'identity_b' not in metrics
    assert close(forward['generators'], g - 10.0 * l1(out['cycle_b'], out['real_b'])
                 - 5.0 * l1(out['identity_b'], out['real_b']))


def stargan_outputs(labels):
    k = 4
    return {'real_logits': patches(3, 2, 2), 'fake_logits': patches(3, 2, 2),
            'real_class_logits': patches(3, k), 'fake_class_logits': patches(3, k),
            'labels': labels[0], 'target_labels': labels[1],
            'reconstruction': patches(3, 4, 4, 1), 'real': patches(3, 4, 4, 1)}


def ce(logits, labels):
    logits = logits.astype(np.float64)
    log_p = logits - np.log(np.sum(np.exp(logits), -1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(labels)), labels]))


@pytest.mark.parametrize('multi_label', [False, True])
def test_stargan_is_the_official_wgan_classification_and_reconstruction_sum(multi_label):
    if multi_label:  # CelebA-style attributes: BCE summed over attributes / batch
        labels = (RNG.uniform(size=(3, 4)) > 0.5).astype(np.float32), \
            (RNG.uniform(size=(3, 4)) > 0.5).astype(np.float32)
        cls = lambda x, y: 4 * bce(x, y)  # noqa: E731  (sum over 4 attributes)
    else:
        labels = np.array([0, 2, 3], np.int32), np.array([1, 0, 3], np.int32)
        cls = ce
    out = stargan_outputs(labels)
    model = FixedModel(out, num_domains=4)
    losses, _ = run(stargan.stargan_objective(model, gradient_penalty=0.0), model)
    r, f = out['real_logits'].astype(np.float64), out['fake_logits'].astype(np.float64)
    assert close(losses['discriminator'], -np.mean(r) + np.mean(f)
                 + cls(out['real_class_logits'], out['labels']))
    assert close(losses['generator'], -np.mean(f) + cls(out['fake_class_logits'],
                                                         out['target_labels'])
                 + 10.0 * l1(out['reconstruction'], out['real']))


@pytest.mark.parametrize('make, kwargs, message', [
    (pix2pix.pix2pix_objective, {'loss': 'hinge'}, r"loss in \('minimax'"),
    (cyclegan.cyclegan_objective, {'cycle_a': -1.0}, 'cycle_a must be a number >= 0'),
    (stargan.stargan_objective, {'reconstruction': 'ten'}, 'reconstruction must be'),
])
def test_bad_options_are_one_line(make, kwargs, message):
    with pytest.raises(JaxgenError, match=message) as info:
        make(FixedModel({}, players=cyclegan.PLAYERS), **kwargs)
    assert '\n' not in str(info.value)


def test_each_objective_refuses_a_model_it_cannot_train():
    import ml_collections
    config = ml_collections.ConfigDict({'name': 'x'})
    gan_model = FixedModel({})  # generator + discriminator, no translation
    for module in (pix2pix, cyclegan, stargan):
        with pytest.raises(JaxgenError, match=f'objective {module.__name__.split(".")[-1]} '
                                              'needs model.name'):
            module.build(config, gan_model)
