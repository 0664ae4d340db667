"""Unpaired domains from two real handwriting sources: MNIST (a) and sklearn's digits (b).

``mnist2digits`` holds two independent streams (``info['streams']``): ``a`` is MNIST's
split (``image_a``, ``label_a``) and ``b`` scikit-learn's 8x8 digits, upscaled to 28x28 as
:mod:`jaxgen.data.sources.digits` does (``image_b``, ``label_b``; 1,500 train and 297 test
images). ``info['num_examples']`` is the smaller stream's size (the largest batch both
can give), ``info['stream_sizes']`` both. The streams differ in size and are shuffled
independently, as CycleGAN's ``trainA``/``trainB``; the labels are kept for measuring
class-preserving translation.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from jaxgen.data.derived import cache
from jaxgen.data.sources import digits


def mnist2digits(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """MNIST (domain a) and sklearn's upscaled digits (domain b), unpaired."""
    def build():
        a, b = base('mnist', split), base('digits', split)
        arrays = {'image_a': np.asarray(a['image'], np.uint8),
                  'label_a': np.asarray(a['label'], np.int32),
                  'image_b': np.asarray(b['image'], np.uint8),
                  'label_b': np.asarray(b['label'], np.int32)}
        sizes = {s: int(arrays[f'label_{s}'].shape[0]) for s in 'ab'}
        info = {
            'name': 'mnist2digits', 'kind': 'unpaired', 'split': split,
            'streams': {'a': ['image_a', 'label_a'], 'b': ['image_b', 'label_b']},
            'domain_names': ['mnist', 'digits'],
            'source': f'mnist ({split}) and {digits.SOURCE} ({split})',
            'recipe': 'two unpaired domains, each split kept whole',
            'parameters': {'digits_num_train': digits.NUM_TRAIN}, 'seed': None,
            'stream_sizes': sizes, 'num_examples': min(sizes.values()),
            'num_classes': 10, 'class_names': [str(d) for d in range(10)],
            'shape': list(arrays['image_a'].shape[1:]),
        }
        return arrays, info
    return cache.cached(cache.cache_dir_of(config), 'mnist2digits', split, build)
