"""jaxgen's data layer: one :func:`load` for image datasets and 2-D Gaussian mixtures.

A :class:`Dataset` keeps its data in numpy ``arrays``; the trainer puts them on device once and
passes them to the jitted step, which calls ``draw(arrays, key, step, batch_size)``. All draw
functions share one convention: ``key`` is a data key that is the SAME at every step and
``step`` is the (traced int32) step number; ``batch_size`` is a static Python int.

Images ('mnist', 'fashion_mnist', 'digits') draw ``{'image': float32 [B,28,28,1],
'label': int32 [B]}`` epoch by epoch without replacement; mixtures ('ring', 'grid') draw
``{'x': float32 [B,2]}`` afresh at every step.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

from absl import logging

from jaxgen.data import digits, images, mixtures
from jaxgen.data.mixtures import mixture_centers
from jaxgen.errors import JaxgenError

__all__ = ['Dataset', 'NAMES', 'data_dirs', 'load', 'mixture_centers', 'unused_settings']

NAMES = images.NAMES + ('digits',) + mixtures.NAMES
# The config.data fields each kind of dataset reads; the others are ignored by it.
MIXTURE_SETTINGS = ('name', 'radius', 'std', 'num_modes')
IMAGE_SETTINGS = ('name', 'data_dir', 'cache_dir', 'fallback', 'scale', 'binarize')


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded dataset split.

    Attributes:
      name: 'mnist', 'fashion_mnist', 'digits', 'ring' or 'grid' (the data actually loaded:
        'digits' when MNIST fell back; ``info['requested']`` then names what was asked for).
      arrays: numpy arrays, to be put on device once and passed to the jitted step.
      draw: pure, jit-compatible ``draw(arrays, key, step, batch_size) -> batch dict``; ``key``
        must be constant across steps, ``batch_size`` static.
      info: JSON-serialisable provenance ('name', 'source', 'num_examples', 'fallback',
        'shape', ...).
    """
    name: str
    arrays: dict
    draw: Callable
    info: dict


def _get(config: Any, field: str, default: Any = None) -> Any:
    """``config.get(field, default)``, treating None and '' as missing."""
    value = config.get(field, default)
    return default if value is None or value == '' else value


def _resolve_dirs(config: Any) -> tuple[str | None, str]:
    """(data_dir, cache_dir): config first, then JAXGEN_DATA_DIR / JAXGEN_CACHE_DIR."""
    data_dir = _get(config, 'data_dir') or os.environ.get('JAXGEN_DATA_DIR') or None
    cache_dir = (_get(config, 'cache_dir') or os.environ.get('JAXGEN_CACHE_DIR')
                 or os.path.join('~', '.cache', 'jaxgen'))
    data_dir = os.path.expanduser(str(data_dir)) if data_dir else None
    return data_dir, os.path.expanduser(str(cache_dir))


def data_dirs(config: Any) -> tuple[str | None, str]:
    """(data folder, cache folder) for a data config, as :func:`load` resolves them."""
    return _resolve_dirs(config)


def _load_images(config: Any, name: str, split: str) -> tuple[str, dict, dict]:
    """(name, arrays, info) for an image dataset, falling back to digits if allowed."""
    data_dir, cache_dir = _resolve_dirs(config)
    loaded = images.load_arrays(name, split, data_dir, cache_dir)
    if loaded is not None:
        return name, *loaded
    if not _get(config, 'fallback', True):
        raise JaxgenError(
            f'{name} was not found: no cache in {cache_dir} and no data folder configured; '
            f'set JAXGEN_DATA_DIR or --config.data.data_dir to a folder holding the original '
            f'{name} .gz files, or pass --config.data.fallback=True to use sklearn digits')
    logging.warning('\n%s', images.fallback_banner(name, cache_dir))
    arrays, info = digits.load_arrays(split)
    return 'digits', arrays, {**info, 'fallback': True, 'requested': name}


def load(data_config: Any, split: str = 'train') -> Dataset:
    """Loads ``split`` ('train' or 'test') of the dataset that ``data_config`` describes.

    ``data_config`` (an ``ml_collections.ConfigDict`` or a dict) has ``name`` and optionally
    ``data_dir``, ``cache_dir``, ``fallback`` (default True), ``scale`` ('tanh' or 'unit'), and
    for mixtures ``radius``, ``std`` and ``num_modes``. Raises JaxgenError on bad input.
    """
    name = _get(data_config, 'name')
    if name not in NAMES:
        raise JaxgenError(f'unknown dataset {name!r}; set config.data.name to one of {NAMES}')
    if split not in images.SPLITS:
        raise JaxgenError(f'unknown split {split!r}; use one of {images.SPLITS}')
    if name in mixtures.NAMES:
        arrays, info = mixtures.load_arrays(
            name, float(_get(data_config, 'radius', 2.0)), _get(data_config, 'std'),
            _get(data_config, 'num_modes', 8))
        return Dataset(name=name, arrays=arrays, draw=mixtures.draw, info=info)
    scale = _get(data_config, 'scale', 'tanh')
    binarize = _get(data_config, 'binarize')
    draw = images.image_draw(scale, binarize)
    if name == 'digits':
        arrays, info = digits.load_arrays(split)
    else:
        name, arrays, info = _load_images(data_config, name, split)
    if binarize == 'static':
        arrays = {**arrays, 'image': images.binarize_static(arrays['image'])}
    return Dataset(name=name, arrays=arrays, draw=draw,
                   info={**info, 'scale': scale, 'binarize': binarize})


def unused_settings(data_config: Any) -> dict[str, Any]:
    """The ``config.data`` fields set away from their defaults that the named
    dataset does not read (``radius`` on MNIST, ``binarize`` on the ring)."""
    from jaxgen.config import base_config  # pylint: disable=import-outside-toplevel
    defaults = base_config().data
    used = MIXTURE_SETTINGS if _get(data_config, 'name') in mixtures.NAMES else IMAGE_SETTINGS
    return {k: v for k, v in dict(data_config).items()
            if k not in used and k in defaults and v != defaults[k]}
