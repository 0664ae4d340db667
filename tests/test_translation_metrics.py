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
