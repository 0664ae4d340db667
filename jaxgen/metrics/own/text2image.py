"""Text–image consistency of a text-to-image GAN on captioned_mnist: does an image drawn
from a test caption show what the caption says?

For test captions of held-in combinations and of the held-out ones (``captions.HELD_OUT``,
never in the train split: zero-shot), one image per caption is drawn and measured:

* ``class_acc``: the domain classifier (``metrics/classifier.py``, MNIST's digit classifier,
  trained once and cached) predicts the caption's digit;
* ``thickness_acc``, ``slant_acc``: Morpho-MNIST's thickness and slant of the image
  (``data/derived/morpho.py``), binned as the captions bin them (``captions.bins``), give
  the caption's word; ``all_acc``: class and both attributes at once.

Each is suffixed ``_heldin`` or ``_heldout``; ``real_*`` are the same measurements of the
test images themselves (their attribute agreement is 1 by construction; their class
agreement is the classifier's accuracy), the ceiling to read the model's against.
"""

from __future__ import annotations

import numpy as np

from jaxgen.data.derived import captions

BATCH = 250


def _measure(images, labels, extractor) -> dict[str, np.ndarray]:
    from jaxgen.metrics.translation import measured  # pylint: disable=import-outside-toplevel
    values = measured(images)
    attributes = np.zeros((len(images), 6), np.float32)
    from jaxgen.data.derived import morpho  # pylint: disable=import-outside-toplevel
    for i, name in enumerate(morpho.ATTRIBUTE_NAMES):
        attributes[:, i] = values[name]
    thickness, slant = captions.bins(attributes)
    right = {'thickness': thickness, 'slant': slant}
    if extractor is not None:
        right['class'] = np.argmax(np.asarray(extractor.logits(images)), -1) == labels
    return right


def consistency(model, variables, arrays, key, num_samples: int = 1000, extractor=None,
                real: bool = True) -> dict[str, float]:
    """The agreement rates above, over at most ``num_samples`` test captions of each kind."""
    import jax  # pylint: disable=import-outside-toplevel
    label = np.asarray(arrays['label'])
    want_t, want_s = captions.bins(arrays['attributes'])
    held = captions.held_out_mask(label, want_t, want_s)
    results = {}
    for part, mask in (('heldin', ~held), ('heldout', held)):
        index = np.flatnonzero(mask)[:num_samples]
        if not len(index):
            continue
        made = np.concatenate([
            np.asarray(model.generate(variables, {'chars': arrays['chars'][index[i:i + BATCH]]},
                                      jax.random.fold_in(key, i)))
            for i in range(0, len(index), BATCH)])
        sources = {'': made}
        if real:
            image = np.asarray(arrays['image'][index])
            sources['real_'] = image.astype(np.float32) / 127.5 - 1.0 if \
                image.dtype == np.uint8 else image
        for prefix, images in sources.items():
            got = _measure(images, label[index], extractor)
            rates = {'thickness': got['thickness'] == want_t[index],
                     'slant': got['slant'] == want_s[index]}
            if 'class' in got:
                rates['class'] = got['class']
            everything = np.all(list(rates.values()), axis=0)
            for name, right in {**rates, 'all': everything}.items():
                results[f'{prefix}{name}_acc_{part}'] = float(np.mean(right))
        results[f'num_{part}'] = float(len(index))
    return results


def evaluation(model):
    """Consistency on captioned_mnist; nothing of its own for other data."""
    if model.data_info.get('name') != 'captioned_mnist':
        return None

    def evaluate(variables, arrays, key, num_samples: int = 1000, classifier: bool = True,
                 real: bool = False) -> dict[str, float]:
        extractor = None
        if classifier:
            from jaxgen.data import data_dirs  # pylint: disable=import-outside-toplevel
            from jaxgen.metrics import classifier as classifier_lib  # pylint: disable=import-outside-toplevel
            data_dir, cache_dir = data_dirs({})
            extractor = classifier_lib.for_data('mnist', cache_dir, data_dir)
        return consistency(model, variables, arrays, key, num_samples, extractor, real)
    return evaluate
