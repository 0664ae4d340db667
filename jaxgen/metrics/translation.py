"""What a translation model is measured by (issue 30), from the test split.

For each target the model names (``model.targets``: pix2pix ``output``, CycleGAN
``AtoB``/``BtoA``, StarGAN each domain), the first ``num`` test images of its source
field are translated, and:

* with a ground truth (pix2pix's aligned ``image_b``): ``l1`` (mean absolute
  difference in [-1, 1]) and ``ssim`` (``dm_pix.ssim``, Gaussian window 11, σ 1.5,
  on [0, 1] images: Wang et al., 2004);
* ``content``: the accuracy with which the classifier of the output's domain reads
  the source image's class from the output (the FCN-score's analogue of the pix2pix
  paper, and CycleGAN's and StarGAN's "content preserved"); ``content_real`` is that
  classifier on real images of the output's domain, the ceiling;
* ``fd``: the Fréchet distance between the outputs and the real images of the
  output's domain, in that classifier's features;
* CycleGAN: ``cycle``, the L1 error of translating there and back;
* where the dataset names the attribute that separates its domains
  (``info['domain_attribute']``: thin <-> thick's ``thickness``) and holds each
  domain's measured ``attributes``: that Morpho-MNIST morphometric measured on the
  outputs (``<attr>_mean``, beside ``<attr>_mean_target`` of the real target
  domain), and the two-sample Kolmogorov-Smirnov statistic of the outputs against
  the real target domain (``<attr>_ks``: 0 when the distributions match), next to
  the same statistic for the untranslated sources (``<attr>_ks_source``);
* where the dataset defines its domains by sides of measured attributes
  (``info['domain_rules']``, ``morpho_attributes``): how often the outputs' measured
  attributes lie on the target domain's side of the train median (``<attr>_acc``,
  and all of them at once, ``attributes_acc``);
* StarGAN: ``domain``, the accuracy with which a domain classifier recognises the
  target domain in the outputs (``domain_real`` on real images).

Metrics are named ``<metric>_<target>`` and, over several targets, averaged as
``<metric>``. A classifier is any ``Extractor`` (``classifier.py``); ``classifiers``
maps (image field, target) to one, so the tests can pass stand-ins.
"""

from __future__ import annotations

from typing import Callable, Mapping

import dm_pix
import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from jaxgen.metrics import distances

Classifiers = Callable[[str, str], object]  # (image field, 'label' | 'domain') -> Extractor


def to_signed(images) -> np.ndarray:
    images = np.asarray(images)
    return images.astype(np.float32) / 127.5 - 1.0 if images.dtype == np.uint8 else images


def ssim(a, b) -> np.ndarray:
    """Per-image SSIM of two [-1, 1] batches, computed on [0, 1]."""
    return np.asarray(dm_pix.ssim((jnp.asarray(a) + 1) / 2, (jnp.asarray(b) + 1) / 2))


def fd(extractor, real, fake) -> float:
    stats = [distances.gaussian_stats([extractor.features(x)]) for x in (real, fake)]
    return float(distances.frechet_distance(*stats))


def accuracy(extractor, images, labels) -> float:
    return float(np.mean(np.argmax(extractor.logits(images), -1) == np.asarray(labels)))


def _suffix(field: str) -> str:
    return field[len('image'):]  # 'image_b' -> '_b'


def measured(images) -> dict[str, np.ndarray]:
    """Morpho-MNIST's morphometrics of [-1, 1] images (as uint8), by name."""
    from jaxgen.data.derived import morpho  # pylint: disable=import-outside-toplevel
    pixels = np.clip(np.round((np.asarray(images) + 1) * 127.5), 0, 255).astype(np.uint8)
    values = np.asarray([morpho.measure(p) for p in pixels]).reshape(-1, 6)
    return dict(zip(morpho.ATTRIBUTE_NAMES, values.T))


def measured_attribute(images, name: str) -> np.ndarray:
    return measured(images)[name]


def attribute_accuracy(out, rules: Mapping[str, str], medians: Mapping[str, float]
                       ) -> dict[str, float]:
    """How often the outputs lie on the target domain's side (``rules``: attribute ->
    'low' | 'high') of each attribute's train median: ``<attr>_acc`` and, for all at
    once, ``attributes_acc``."""
    values = measured(out)
    right = {a: (values[a] < medians[a]) == (side == 'low') for a, side in rules.items()}
    results = {f'{a}_acc': float(r.mean()) for a, r in right.items()}
    results['attributes_acc'] = float(np.mean(np.all(list(right.values()), axis=0)))
    return results


def target_domain(info: Mapping, target: str, into: str) -> str | None:
    """The name of the domain a target translates into, where the data names it."""
    names = info.get('domain_names')
    if isinstance(names, Mapping):  # two unpaired streams a and b
        return names.get(_suffix(into)[1:])
    return target if names and target in [str(n) for n in names] else None


def attribute_shift(out, arrays: Mapping, info: Mapping, source_field: str, into: str,
                    num: int) -> dict[str, float]:
    """How far the outputs moved into the target domain's ``info['domain_attribute']``."""
    name = info.get('domain_attribute')
    fields = ['attributes' + _suffix(f) for f in (source_field, into)]
    if not name or any(f not in arrays for f in fields):
        return {}
    column = list(info['attribute_names']).index(name)
    source, target = (np.asarray(arrays[f][:num])[:, column] for f in fields)
    measured = measured_attribute(out, name)
    return {f'{name}_mean': float(measured.mean()), f'{name}_mean_target': float(target.mean()),
            f'{name}_ks': float(stats.ks_2samp(measured, target).statistic),
            f'{name}_ks_source': float(stats.ks_2samp(source, target).statistic)}


def target_metrics(model, variables, arrays: Mapping, target: str, key, num: int,
                   classifiers: Classifiers) -> dict[str, float]:
    """The metrics of one target (see the module's docstring)."""
    source_field = model.source_fields[target]
    source = to_signed(arrays[source_field][:num])
    out = np.asarray(model.generate(variables, model.inputs_for(source, target), key))
    label_of = lambda field: arrays.get('label' + _suffix(field), arrays.get('label'))  # noqa
    results = {}
    truth_field = getattr(model, 'truth_fields', {}).get(target)
    if truth_field:  # an aligned ground truth
        truth = to_signed(arrays[truth_field][:num])
        results['l1'] = float(np.mean(np.abs(out - truth)))
        results['ssim'] = float(np.mean(ssim(out, truth)))
    into = getattr(model, 'output_fields', {}).get(target, source_field)
    labels = label_of(source_field)
    if labels is not None:
        classifier = classifiers(into, 'label')
        results['content'] = accuracy(classifier, out, labels[:num])
        real = to_signed(arrays[into][:num])
        results['content_real'] = accuracy(classifier, real, label_of(into)[:num])
        results['fd'] = fd(classifier, real, out)
    info = getattr(model, 'data_info', {})
    results.update(attribute_shift(out, arrays, info, source_field, into, num))
    domain_name = target_domain(info, target, into)
    if info.get('domain_rules') and domain_name in info['domain_rules']:
        results.update(attribute_accuracy(out, info['domain_rules'][domain_name],
                                          info['attribute_medians']))
    if hasattr(model, 'cycle_error'):
        results['cycle'] = float(model.cycle_error(variables, source, target))
    if 'domain' in arrays and hasattr(model, 'num_domains'):
        domain = classifiers(into, 'domain')
        index = list(model.targets).index(target)
        results['domain'] = accuracy(domain, out, np.full(len(out), index))
        results['domain_real'] = accuracy(domain, to_signed(arrays[into][:num]),
                                          arrays['domain'][:num])
    return results


def translation_metrics(model, variables, arrays: Mapping, key: jax.Array, num: int,
                        classifiers: Classifiers) -> dict[str, float]:
    """Every target's metrics, ``<metric>_<target>``, and their means ``<metric>``."""
    per_target = {t: target_metrics(model, variables, arrays, t, jax.random.fold_in(key, i),
                                    num, classifiers)
                  for i, t in enumerate(model.targets)}
    results = {f'{name}_{t}': v for t, r in per_target.items() for name, v in r.items()}
    if len(per_target) > 1:
        for name in sorted({n for r in per_target.values() for n in r}):
            results[name] = float(np.mean([r[name] for r in per_target.values() if name in r]))
    return results
