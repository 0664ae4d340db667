"""Text–image consistency of a text-to-image GAN: does an image drawn from a test caption
show what the caption says?

For test captions of held-in combinations and of the held-out ones (never in the train
split: zero-shot), one image per caption is drawn and a *judge* says, per thing the
caption names, whether the image shows it. The judge is chosen by the captioned set:

* :class:`MnistJudge` (captioned_mnist): ``class``, the domain classifier
  (``metrics/classifier.py``, MNIST's digit classifier, trained once and cached) predicts
  the caption's digit; ``thickness`` and ``slant``, Morpho-MNIST's measurements of the
  image (``data/derived/morpho.py``), binned as the captions bin them
  (``captions.bins``), give the caption's word.
* :class:`GlyphJudge` (captioned_glyphs): ``class``, a classifier of the 36 characters
  trained on the glyphs; ``family``, ``weight`` and ``style``, the font that a classifier
  of the 22 fonts (the glyphs' domains) predicts, read through the font attribute table
  the captions were written from (``glyph_captions.font_attributes``). A font classifier
  can only answer with a font that exists, so a bold mono image counts as bold and mono
  when the classifier's font is bold and mono.

``all`` is every named thing at once. Each rate is ``<name>_acc_<heldin|heldout>``;
``real_*`` are the same measurements of the test images themselves, the ceiling to read
the model's against (for MNIST the attribute agreement is 1 by construction; elsewhere
each rate is the judge's own accuracy).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from jaxgen.data.derived import captions, glyph_captions

BATCH = 250


def _predicted(extractor, images) -> np.ndarray:
    return np.argmax(np.asarray(extractor.logits(images)), -1)


class MnistJudge:
    """captioned_mnist: the digit by ``extractor`` (None: not judged), thickness and slant
    by Morpho-MNIST's measurements."""
    names = ('class', 'thickness', 'slant')

    def __init__(self, extractor=None):
        self.extractor = extractor

    def held_out(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return captions.held_out_mask(np.asarray(arrays['label']),
                                      *captions.bins(arrays['attributes']))

    @staticmethod
    def pick(index: np.ndarray, num: int) -> np.ndarray:
        """The first ``num`` (MNIST's test split is in no particular order)."""
        return index[:num]

    def right(self, images, arrays: Mapping[str, np.ndarray], index) -> dict[str, np.ndarray]:
        from jaxgen.data.derived import morpho  # pylint: disable=import-outside-toplevel
        from jaxgen.metrics.translation import measured  # pylint: disable=import-outside-toplevel
        values = measured(images)
        got = captions.bins(np.stack([values[n] for n in morpho.ATTRIBUTE_NAMES], -1))
        want = captions.bins(np.asarray(arrays['attributes'])[index])
        right = {'thickness': got[0] == want[0], 'slant': got[1] == want[1]}
        if self.extractor is not None:
            right['class'] = _predicted(self.extractor, images) == np.asarray(arrays['label'])[index]
        return right


class GlyphJudge:
    """captioned_glyphs: the character by ``label_extractor``; the family, weight and style
    of the font ``font_extractor`` predicts (its outputs index ``domain_names``), through
    ``font_attributes`` ({font: {'family': 'serif', ...}}, the dataset's info)."""
    names = ('class',) + tuple(glyph_captions.ATTRIBUTES)

    def __init__(self, label_extractor, font_extractor, class_names: Sequence[str],
                 domain_names: Sequence[str], font_attributes: Mapping[str, Mapping[str, str]]):
        self.label_extractor, self.font_extractor = label_extractor, font_extractor
        self.class_names = list(class_names)
        # [font, attribute]: each font's value index of family, weight and style
        self.table = np.array([[glyph_captions.ATTRIBUTES[a].index(font_attributes[f][a])
                                for a in glyph_captions.ATTRIBUTES] for f in domain_names],
                              np.int32)

    def held_out(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return glyph_captions.held_out_mask(
            np.asarray(arrays['label']),
            {a: np.asarray(arrays[a]) for a in glyph_captions.ATTRIBUTES}, self.class_names)

    @staticmethod
    def pick(index: np.ndarray, num: int) -> np.ndarray:
        """``num`` evenly spaced over ``index``: the glyphs' test split runs font by font, so
        its first 1,000 examples would hold only DejaVu Sans and Sans Mono faces."""
        if len(index) <= num:
            return index
        return index[np.linspace(0, len(index) - 1, num).round().astype(int)]

    def right(self, images, arrays: Mapping[str, np.ndarray], index) -> dict[str, np.ndarray]:
        font = _predicted(self.font_extractor, images)
        right = {'class': _predicted(self.label_extractor, images) == np.asarray(arrays['label'])[index]}
        for i, a in enumerate(glyph_captions.ATTRIBUTES):
            right[a] = self.table[font, i] == np.asarray(arrays[a])[index]
        return right


def judge_for(data_config, info: Mapping) -> MnistJudge | GlyphJudge | None:
    """The judge of the captioned set ``info['name']`` (None for other data), with its
    classifiers trained once and cached (``metrics/classifier.py``) on the underlying set at
    the images' size."""
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    from jaxgen.metrics import classifier  # pylint: disable=import-outside-toplevel
    name = info.get('name')
    if name == 'captioned_mnist':
        data_dir, cache_dir = data.data_dirs(data_config)
        return MnistJudge(classifier.for_data('mnist', cache_dir, data_dir))
    if name == 'captioned_glyphs':
        config = {**(data_config.to_dict() if hasattr(data_config, 'to_dict')
                     else dict(data_config)), 'name': 'glyphs'}
        return GlyphJudge(classifier.for_config(config, 'glyphs', 'label'),
                          classifier.for_config(config, 'glyphs', 'domain'),
                          info['class_names'], info['domain_names'], info['font_attributes'])
    return None


def _as_unit(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 127.5 - 1.0 if image.dtype == np.uint8 else image


def consistency(model, variables, arrays, key, num_samples: int = 1000, judge=None,
                real: bool = True) -> dict[str, float]:
    """The agreement rates above, over at most ``num_samples`` test captions of each kind,
    as the judge picks them (``judge`` default: :class:`MnistJudge` without a classifier)."""
    import jax  # pylint: disable=import-outside-toplevel
    judge = judge if judge is not None else MnistJudge()
    held = judge.held_out(arrays)
    field = model.text.field  # the captions as the model reads them: chars or tokens
    results = {}
    for part, mask in (('heldin', ~held), ('heldout', held)):
        index = judge.pick(np.flatnonzero(mask), num_samples)
        if not len(index):
            continue
        made = np.concatenate([
            np.asarray(model.generate(variables, {field: arrays[field][index[i:i + BATCH]]},
                                      jax.random.fold_in(key, i)))
            for i in range(0, len(index), BATCH)])
        sources = {'': made}
        if real:
            sources['real_'] = _as_unit(np.asarray(arrays['image'][index]))
        for prefix, images in sources.items():
            rates = judge.right(images, arrays, index)
            everything = np.all(list(rates.values()), axis=0)
            for name, right in {**rates, 'all': everything}.items():
                results[f'{prefix}{name}_acc_{part}'] = float(np.mean(right))
        results[f'num_{part}'] = float(len(index))
    return results


def evaluation(model):
    """Consistency on captioned_mnist and captioned_glyphs; nothing of its own elsewhere."""
    if model.data_info.get('name') not in ('captioned_mnist', 'captioned_glyphs'):
        return None

    def evaluate(variables, arrays, key, num_samples: int = 1000, classifier: bool = True,
                 real: bool = False) -> dict[str, float]:
        judge = None
        if classifier:
            shape = tuple(model.data_info['shape'])
            resize = {'resize': shape[0]} if shape[:2] != (28, 28) else {}
            judge = judge_for({'name': model.data_info['name'], **resize}, model.data_info)
        return consistency(model, variables, arrays, key, num_samples, judge, real)
    return evaluate
