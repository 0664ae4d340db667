"""The translation metrics (jaxgen/metrics/translation.py) on constructed cases with
known answers: a perfect pix2pix (L1 0, SSIM 1, content at its ceiling), an
input-copying one, SSIM against scikit-image, CycleGAN's cycle error for identity
generators, and StarGAN's domain accuracy."""

import dataclasses

import jax
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from jaxgen import models
from jaxgen.metrics import translation
from tests.test_cyclegan import INFO as CYCLE_INFO, Identity, tiny_config

RNG = np.random.default_rng(0)
N, SHAPE = 40, (16, 16, 1)


class Brightness:
    """A stand-in classifier: class k is an image of mean brightness -1 + 2k/9."""
    def logits(self, images):
        mean = np.asarray(images).reshape(len(images), -1).mean(1)
        return -np.abs(mean[:, None] - (-1 + 2 * np.arange(10) / 9))

    def features(self, images):
        flat = np.asarray(images).reshape(len(images), -1)
        return np.stack([flat.mean(1), flat.std(1)], 1)


def classified(labels, noise=0.02):
    """Images a Brightness classifier reads as ``labels``."""
    base = (-1 + 2 * np.asarray(labels) / 9)[:, None, None, None]
    return np.clip(base + noise * RNG.normal(size=(len(labels), *SHAPE)), -1, 1).astype(
        np.float32)


@dataclasses.dataclass
class Stub:
    """A pix2pix-like model whose outputs are ``make(inputs)``."""
    make: object
    targets = ('output',)
    source_fields = {'output': 'image_a'}
    output_fields = truth_fields = {'output': 'image_b'}

    def inputs_for(self, images, target):
        return {'image': images}

    def generate(self, variables, inputs, key):
        return self.make(inputs['image'])


def pairs():
    labels = RNG.integers(0, 10, N)
    b = classified(labels)
    return {'image_a': -b, 'image_b': b, 'label': labels}


def test_a_perfect_translation_scores_l1_0_ssim_1_and_content_at_its_ceiling():
    arrays = pairs()
    truth = dict(zip(map(bytes, arrays['image_a']), arrays['image_b']))
    perfect = Stub(lambda x: np.stack([truth[bytes(np.asarray(i))] for i in x]))
    r = translation.translation_metrics(perfect, None, arrays, jax.random.key(0), N,
                                        lambda field, target: Brightness())
    assert r['l1_output'] == 0.0 and r['ssim_output'] == pytest.approx(1.0, abs=1e-6)
    assert r['content_output'] == r['content_real_output'] == 1.0
    assert r['fd_output'] == pytest.approx(0.0, abs=1e-4)
    collapsed = Stub(lambda x: -np.ones_like(x))  # one black output for every input
    r = translation.translation_metrics(collapsed, None, arrays, jax.random.key(0), N,
                                        lambda field, target: Brightness())
    assert r['content_output'] == pytest.approx(np.mean(arrays['label'] == 0))
    assert r['l1_output'] > 0.5 and r['fd_output'] > 0.1


def test_ssim_equals_scikit_image_with_the_papers_window():
    a = RNG.uniform(-1, 1, (3, 24, 24, 1)).astype(np.float32)
    b = np.clip(a + 0.3 * RNG.normal(size=a.shape), -1, 1).astype(np.float32)
    ours = translation.ssim(a, b)
    theirs = [structural_similarity((x[..., 0] + 1) / 2, (y[..., 0] + 1) / 2, data_range=1.0,
                                    gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False) for x, y in zip(a, b)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_cyclegan_cycle_error_is_zero_for_identity_generators_and_content_is_read():
    model = dataclasses.replace(models.build(tiny_config().model, CYCLE_INFO),
                                generator=Identity())
    variables = model.init(jax.random.key(0))
    labels = RNG.integers(0, 10, N)
    arrays = {'image_a': classified(labels), 'label_a': labels,
              'image_b': classified(labels), 'label_b': labels}
    r = translation.translation_metrics(model, variables, arrays, jax.random.key(0), N,
                                        lambda field, target: Brightness())
    assert r['cycle_AtoB'] == 0.0 and r['cycle_BtoA'] == 0.0 and r['cycle'] == 0.0
    assert r['content_AtoB'] == 1.0 and r['content'] == 1.0  # identity keeps the class


def test_stargan_domain_accuracy_reads_the_target_domain():
    @dataclasses.dataclass
    class Domains:  # outputs of domain d have brightness class d
        targets = ('d0', 'd1', 'd2')
        source_fields = {t: 'image' for t in ('d0', 'd1', 'd2')}
        num_domains = 3

        def inputs_for(self, images, target):
            return {'image': images, 'domain': np.full(len(images), int(target[1]))}

        def generate(self, variables, inputs, key):
            return classified(inputs['domain'])
    labels = RNG.integers(0, 3, N)
    arrays = {'image': classified(labels), 'label': labels, 'domain': labels}
    r = translation.translation_metrics(Domains(), None, arrays, jax.random.key(0), N,
                                        lambda field, target: Brightness())
    assert r['domain_d0'] == r['domain_d2'] == r['domain'] == 1.0
    assert r['domain_real'] == 1.0
    assert r['content_d1'] == pytest.approx(np.mean(labels == 1))  # content not kept


def strokes(widths):
    """28x28 [-1, 1] images of a vertical bar of each width (px): known thickness."""
    images = -np.ones((len(widths), 28, 28, 1), np.float32)
    for image, width in zip(images, widths):
        image[6:22, 14 - width // 2:14 - width // 2 + width] = 1.0
    return images


def test_the_domain_attribute_moves_into_the_target_domain_when_outputs_are_its_images():
    """thin <-> thick: outputs that ARE the target domain's images measure as it exactly
    (KS 0, the same mean); untranslated sources score the source's KS; the measured
    thickness (Morpho-MNIST's definition) grows with a bar's width."""
    thin, thick = strokes([2, 2, 3, 2, 3, 2]), strokes([6, 7, 6, 8, 7, 6])
    names = ['area', 'length', 'thickness', 'slant', 'width', 'height']
    column = names.index('thickness')
    measured = {k: translation.measured_attribute(v, 'thickness') for k, v in
                (('thin', thin), ('thick', thick))}
    assert measured['thin'].max() < measured['thick'].min()
    assert measured['thick'][0] < measured['thick'][1] < measured['thick'][3]  # 6 < 7 < 8 px
    attributes = lambda m: np.eye(6)[column][None] * m[:, None]  # noqa: E731
    arrays = {'attributes_a': attributes(measured['thin']),
              'attributes_b': attributes(measured['thick'])}
    info = {'domain_attribute': 'thickness', 'attribute_names': names}
    perfect = translation.attribute_shift(thick, arrays, info, 'image_a', 'image_b', 6)
    assert perfect['thickness_ks'] == 0.0 and perfect['thickness_ks_source'] == 1.0
    assert perfect['thickness_mean'] == pytest.approx(perfect['thickness_mean_target'])
    copied = translation.attribute_shift(thin, arrays, info, 'image_a', 'image_b', 6)
    assert copied['thickness_ks'] == copied['thickness_ks_source'] == 1.0
    assert translation.attribute_shift(thin, arrays, {}, 'image_a', 'image_b', 6) == {}


def test_attribute_accuracy_reads_each_side_of_the_train_medians():
    """Thick upright bars and thin right-leaning ones against medians between them: a
    target rule is met exactly when the bars are on its side; the all-at-once accuracy
    is the conjunction; the target domain is found by name for both kinds of data."""
    thick_upright = strokes([6, 7, 6, 8])
    thin_slanted = -np.ones_like(thick_upright)
    for image in thin_slanted:
        for row in range(4, 24):
            image[row, 10 + (24 - row) // 2:12 + (24 - row) // 2] = 1.0
    values = {k: translation.measured(v) for k, v in (('a', thick_upright),
                                                       ('b', thin_slanted))}
    assert values['a']['slant'].max() < 0.05 < 0.3 < values['b']['slant'].min()
    medians = {'thickness': 4.0, 'slant': 0.15}
    rule = {'thickness': 'high', 'slant': 'low'}  # thick and upright
    assert translation.attribute_accuracy(thick_upright, rule, medians) == {
        'thickness_acc': 1.0, 'slant_acc': 1.0, 'attributes_acc': 1.0}
    assert translation.attribute_accuracy(thin_slanted, rule, medians) == {
        'thickness_acc': 0.0, 'slant_acc': 0.0, 'attributes_acc': 0.0}
    mixed = np.concatenate([thick_upright[:2], thin_slanted[:2]])
    half = translation.attribute_accuracy(mixed, {'thickness': 'high'}, medians)
    assert half == {'thickness_acc': 0.5, 'attributes_acc': 0.5}
    assert translation.target_domain({'domain_names': {'a': 'x', 'b': 'y'}}, 'AtoB',
                                     'image_b') == 'y'
    assert translation.target_domain({'domain_names': ['x', 'y']}, 'y', 'image') == 'y'
    assert translation.target_domain({}, 'output', 'image_b') is None
