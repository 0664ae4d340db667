"""Paired edges -> image (pix2pix's edges2shoes recipe) from Fashion-MNIST and MNIST.

Isola et al. (2017) paired each photo of a shoe or a bag with its edge map: HED edges, then
post-processed, black lines on white. Here the edge map is the Canny detector of
``skimage.feature.canny`` with a fixed Gaussian ``SIGMA`` and fixed hysteresis thresholds
(``LOW``/``HIGH``, on the gradient magnitude of the image scaled to [0, 1]), drawn as in
edges2shoes: ``image_a`` is 255 (white) everywhere but 0 (black) on an edge pixel;
``image_b`` is the original image and ``label`` its class. Canny is deterministic, so two
builds are identical.

``edges2fashion`` keeps all ten Fashion-MNIST classes by default. With
``config.data.edges.classes='shoes_bags'`` it keeps only pix2pix's own subjects, the shoes
and bags (sandal 5, bag 8, sneaker 7, ankle boot 9), with their original labels; that
subset is cached under its own name (``edges2fashion_shoes_bags``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from jaxgen.data.derived import cache
from jaxgen.errors import JaxgenError

SIGMA = 1.0
LOW = 0.2
HIGH = 0.4
SHOES_BAGS = (5, 7, 8, 9)
FASHION_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
                   'Sneaker', 'Bag', 'Ankle boot')
SUBSETS = ('all', 'shoes_bags')


def edge_maps(images: np.ndarray, sigma: float = SIGMA, low: float = LOW,
              high: float = HIGH) -> np.ndarray:
    """uint8 ``[N, H, W, 1]`` edge maps of uint8 ``[N, H, W, 1]`` images: 0 on an edge,
    255 elsewhere."""
    from skimage.feature import canny  # pylint: disable=import-outside-toplevel
    images = np.asarray(images)
    out = np.full(images.shape, 255, np.uint8)
    for i, image in enumerate(images):
        edges = canny(image[..., 0].astype(np.float64) / 255.0, sigma=sigma,
                      low_threshold=low, high_threshold=high)
        out[i, edges, 0] = 0
    return out


def _build(name: str, base_name: str, split: str, base: Callable, classes: tuple | None,
           class_names: tuple[str, ...]) -> tuple[dict, dict]:
    raw = base(base_name, split)
    image, label = np.asarray(raw['image']), np.asarray(raw['label'], np.int32)
    if classes is not None:
        keep = np.isin(label, classes)
        image, label = image[keep], label[keep]
    arrays = {'image_a': edge_maps(image), 'image_b': image, 'label': label}
    info = {
        'name': name, 'kind': 'paired', 'split': split,
        'source': f'{base_name} ({split} split, {int(np.asarray(raw["label"]).shape[0])} rows)',
        'recipe': 'edges2shoes (pix2pix): image_a = Canny edge map of image_b '
                  '(skimage.feature.canny), black edges (0) on white (255)',
        'parameters': {'sigma': SIGMA, 'low_threshold': LOW, 'high_threshold': HIGH,
                       'classes': list(classes) if classes is not None else 'all'},
        'seed': None, 'deterministic': True,
        'num_examples': int(label.shape[0]), 'num_classes': len(class_names),
        'class_names': list(class_names), 'shape': list(image.shape[1:]),
    }
    return arrays, info


def edges2fashion(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """Fashion-MNIST's edge maps (``image_a``) paired with its images (``image_b``)."""
    subset = (config.get('edges') or {}).get('classes') or 'all'
    if subset not in SUBSETS:
        raise JaxgenError(f'config.data.edges.classes={subset!r}; use one of {SUBSETS}')
    classes = SHOES_BAGS if subset == 'shoes_bags' else None
    name = 'edges2fashion' + ('_shoes_bags' if classes else '')
    return cache.cached(cache.cache_dir_of(config), name, split, lambda: _build(
        name, 'fashion_mnist', split, base, classes, FASHION_CLASSES))


def edges2mnist(config: Any, split: str, base: Callable) -> tuple[dict, dict]:
    """MNIST's edge maps (``image_a``) paired with its digits (``image_b``)."""
    return cache.cached(cache.cache_dir_of(config), 'edges2mnist', split, lambda: _build(
        'edges2mnist', 'mnist', split, base, None, tuple(str(d) for d in range(10))))
