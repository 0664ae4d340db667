"""jaxgen's data layer: one :func:`load` for every dataset, batches of named fields.

``config.data.name`` is one of

* a built-in name: 'mnist', 'fashion_mnist', 'digits' (sklearn's 8x8 digits), the 2-D
  mixtures 'ring' and 'grid', or a derived dataset built offline from MNIST and
  Fashion-MNIST (:data:`DERIVED`; ``jaxgen/data/derived/``);
* ``tfds:<name>[/<config>]``: any TensorFlow Datasets dataset (``config.data.tfds`` names
  the feature keys and splits);
* ``folder:<path>``: a folder of images in class subfolders, pix2pix's aligned pairs, or
  CycleGAN's ``trainA``/``trainB`` (``config.data.folder``).

A :class:`Dataset` holds its split as numpy ``arrays`` of named fields (``image``,
``label``, ``attributes``, ``image_a``/``image_b``, ``tokens``, ``patches``/``boxes``;
:mod:`jaxgen.data.draw`). Two paths feed the step with identical batches: the on-device
path (default; ``config.data.path='device'``) puts the arrays on device once and calls
``draw(arrays, key, step, batch_size)`` inside the jitted step; the streaming path
(``'stream'``, :mod:`jaxgen.data.stream`) gathers the same rows on the host with grain.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Any, Callable

from absl import logging

from jaxgen.data import draw as draw_lib
from jaxgen.data import pixels
from jaxgen.data.sources import digits, mixtures
from jaxgen.data.sources import mnist as images
from jaxgen.data.sources.mixtures import mixture_centers
from jaxgen.errors import JaxgenError

__all__ = ['Dataset', 'NAMES', 'data_dirs', 'load', 'mixture_centers', 'unused_settings']

SPLITS = ('train', 'test')
# Derived datasets: name -> 'module:function', imported only when asked for. The function
# takes (data_config, split, base) and returns (arrays, info); ``base(name, split)`` gives
# the raw arrays of 'mnist', 'fashion_mnist' or 'digits'.
DERIVED: dict[str, str] = {
    'morpho_mnist': 'jaxgen.data.derived.morpho_sets:morpho_mnist',
    'morpho_perturbed': 'jaxgen.data.derived.morpho_sets:morpho_perturbed',
    'thin_thick': 'jaxgen.data.derived.morpho_sets:thin_thick',
    'morpho_attributes': 'jaxgen.data.derived.morpho_sets:morpho_attributes',
    'captioned_mnist': 'jaxgen.data.derived.captions:captioned_mnist',
    'edges2fashion': 'jaxgen.data.derived.edges:edges2fashion',
    'edges2mnist': 'jaxgen.data.derived.edges:edges2mnist',
    'mnist2digits': 'jaxgen.data.derived.domains:mnist2digits',
    'mnist32': 'jaxgen.data.derived.padded:mnist32',
    'fashion_mnist32': 'jaxgen.data.derived.padded:fashion_mnist32',
    'colour_mnist': 'jaxgen.data.derived.padded:colour_mnist',
    'glyphs': 'jaxgen.data.derived.glyphs:glyphs',
    'captioned_glyphs': 'jaxgen.data.derived.glyph_captions:captioned_glyphs',
}
PREFIXES = ('tfds:', 'folder:')
NAMES = images.NAMES + ('digits',) + mixtures.NAMES
# The config.data fields each kind of dataset reads; the others are ignored by it.
MIXTURE_SETTINGS = ('name', 'mixture')
IMAGE_SETTINGS = ('name', 'data_dir', 'cache_dir', 'fallback', 'download', 'scale', 'binarize',
                  'path', 'resize', 'crop', 'flip', 'channels', 'image_field', 'patches',
                  'patch_size', 'edges', 'classifier_target', 'pair_domains')
PATHS = ('device', 'stream')


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded dataset split.

    Attributes:
      name: the data actually loaded ('digits' when MNIST fell back; ``info['requested']``
        then names what was asked for).
      arrays: numpy arrays of named fields, stored as they are kept (uint8 images).
      draw: pure, jit-compatible ``draw(arrays, key, step, batch_size) -> batch dict``;
        ``key`` must be constant across steps, ``batch_size`` static.
      info: JSON-serialisable provenance ('name', 'kind', 'source', 'num_examples',
        'shape', 'streams', ...).
      transform: ``transform(raw, key, step) -> batch``, what ``draw`` applies to the stored
        rows; the streaming path applies it in the step. ``None`` for data drawn afresh
        (the 2-D mixtures), which only the on-device path serves.
      sources: ``{stream: random-access source}`` that the streaming path reads when the
        split is not held in ``arrays`` (``tfds:`` with ``path='stream'``, whose
        ``arrays`` are then its first examples only); ``None``: stream from ``arrays``.
    """
    name: str
    arrays: dict
    draw: Callable
    info: dict
    transform: Callable | None = None
    sources: dict | None = None


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
    download = _get(config, 'download', True)
    loaded = images.load_arrays(name, split, data_dir, cache_dir, download)
    if loaded is not None:
        return name, *loaded
    if not _get(config, 'fallback', True):
        raise JaxgenError(images.not_found(name, cache_dir, download))
    logging.warning('\n%s', images.fallback_banner(name, cache_dir, download))
    arrays, info = digits.load_arrays(split)
    return 'digits', arrays, {**info, 'fallback': True, 'requested': name}


def base_arrays(config: Any) -> Callable[[str, str], dict]:
    """``base(name, split)``: raw arrays of 'mnist', 'fashion_mnist' or 'digits', as the
    derived datasets build on them. Never the fallback: a derived set is cached under its
    own name, and one built on the digits would outlive the arrival of the real data."""
    def base(name: str, split: str) -> dict:
        if name == 'digits':
            return digits.load_arrays(split)[0]
        loaded, arrays, _ = _load_images({**dict(config), 'fallback': False}, name, split)
        del loaded
        return arrays
    return base


def _call(target: str, *args):
    module, function = target.split(':')
    return getattr(importlib.import_module(module), function)(*args)


def _source(config: Any, name: str, split: str) -> tuple[str, dict, dict]:
    """(name, arrays, info) of any image-like dataset, before resizing."""
    if name == 'digits':
        arrays, info = digits.load_arrays(split)
        return name, arrays, info
    if name in images.NAMES:
        return _load_images(config, name, split)
    if name.startswith('tfds:'):
        arrays, info = _call('jaxgen.data.sources.tfds:load_arrays', name[5:], config, split)
        return name, arrays, info
    if name.startswith('folder:'):
        arrays, info = _call('jaxgen.data.sources.folder:load_arrays', name[7:], config, split)
        return name, arrays, info
    arrays, info = _call(DERIVED[name], config, split, base_arrays(config))
    return name, arrays, info


def known(name: Any) -> bool:
    return isinstance(name, str) and (name in NAMES or name in DERIVED
                                      or name.startswith(PREFIXES))


def load(data_config: Any, split: str = 'train') -> Dataset:
    """Loads ``split`` ('train' or 'test') of the dataset that ``data_config`` describes.

    ``data_config`` (an ``ml_collections.ConfigDict`` or a dict) has ``name`` and optionally
    ``data_dir``, ``cache_dir``, ``fallback`` (default True), ``scale`` ('tanh' or 'unit'),
    ``binarize``, ``resize``/``crop``/``flip``/``channels`` for images, and for mixtures
    ``radius``, ``std`` and ``num_modes``. Raises JaxgenError on bad input.
    """
    name = _get(data_config, 'name')
    if not known(name):
        raise JaxgenError(
            f'unknown dataset {name!r}; set config.data.name to one of '
            f'{NAMES + tuple(sorted(DERIVED))}, tfds:<name>[/<config>] or folder:<path>')
    if split not in SPLITS:
        raise JaxgenError(f'unknown split {split!r}; use one of {SPLITS}')
    path = _get(data_config, 'path', 'device')
    if path not in PATHS:
        raise JaxgenError(f'config.data.path={path!r}; use one of {PATHS}')
    if name in mixtures.NAMES:
        if path != 'device':
            raise JaxgenError(f"dataset {name!r} is drawn afresh at every step, on device; "
                              f"set config.data.path='device'")
        mixture = data_config.get('mixture') or {}
        arrays, info = mixtures.load_arrays(
            name, float(_get(mixture, 'radius', 2.0)), _get(mixture, 'std'),
            _get(mixture, 'num_modes', 8))
        return Dataset(name=name, arrays=arrays, draw=mixtures.draw,
                       info={**info, 'kind': 'points'})
    scale = _get(data_config, 'scale', 'tanh')
    binarize = _get(data_config, 'binarize')
    pixels.check_scale(scale)
    pixels.check_binarize(scale, binarize)
    sources = None
    if path == 'stream' and name.startswith('tfds:'):  # read by random access, not held
        for field in ('image_field', 'patches', 'binarize', 'pair_domains'):
            if _get(data_config, field):
                raise JaxgenError(f'config.data.{field} is not available when tfds: data is '
                                  f"streamed; unset it or use config.data.path='device'")
        arrays, info, sources = _call('jaxgen.data.sources.tfds:load_stream', name[5:],
                                      data_config, split)
    else:
        name, arrays, info = _source(data_config, name, split)
    if _get(data_config, 'pair_domains'):
        from jaxgen.data import domain_pairs  # pylint: disable=import-outside-toplevel
        arrays, info = domain_pairs.pair_domains(_get(data_config, 'pair_domains'), arrays,
                                                 info)
    arrays, info = _select_image(data_config, arrays, info)
    arrays, info = _shape_images(data_config, arrays, info)
    arrays, info = _add_patches(data_config, arrays, info)
    if binarize == 'static':
        arrays = {**arrays, **{f: pixels.binarize_static(arrays[f])
                               for f in draw_lib.IMAGE_FIELDS if f in arrays}}
    streams = draw_lib.stream_fields(info, arrays)
    crop = _get(data_config, 'crop', 0)
    transform = draw_lib.make_transform(
        streams, scale, binarize, crop=(crop, crop) if crop else None,
        flip=bool(_get(data_config, 'flip', False)), train=split == 'train')
    info = {**info, 'scale': scale, 'binarize': binarize, 'path': path,
            'kind': info.get('kind', 'images')}
    if crop:
        info['shape'] = [crop, crop, info['shape'][-1]]
    return Dataset(name=name, arrays=arrays, draw=draw_lib.make_draw(info, transform),
                   info=info, transform=transform, sources=sources)


def _select_image(config: Any, arrays: dict, info: dict) -> tuple[dict, dict]:
    """With ``config.data.image_field`` (e.g. 'image_b' of a paired set), that field's
    stream alone, the field renamed ``image``: any image model trains on it."""
    field = _get(config, 'image_field')
    if not field:
        return arrays, info
    if field not in arrays or field not in draw_lib.IMAGE_FIELDS:
        have = [f for f in arrays if f in draw_lib.IMAGE_FIELDS]
        raise JaxgenError(f'config.data.image_field={field!r} is not an image field of this '
                          f'dataset; use one of {have}')
    streams = draw_lib.stream_fields(info, arrays)
    fields = next(f for f in streams.values() if field in f)
    suffix = field[len('image'):]  # '_b' keeps label_b as label
    rename = {f: (f[:-len(suffix)] if suffix and f.endswith(suffix) else f) for f in fields}
    arrays = {rename[f]: arrays[f] for f in fields}
    info = {k: v for k, v in info.items() if k != 'streams'}
    return arrays, {**info, 'kind': 'images', 'image_field': field}


def _add_patches(config: Any, arrays: dict, info: dict) -> tuple[dict, dict]:
    """With ``config.data.patches`` > 0, that many key patches of ``patch_size`` per image
    (``patches``, ``boxes``), for part-to-whole models."""
    num = _get(config, 'patches', 0)
    if not num:
        return arrays, info
    if 'image' not in arrays or info.get('streams'):
        raise JaxgenError('config.data.patches needs a dataset of single images; set '
                          'config.data.image_field to pick one field of a paired set')
    from jaxgen.data.derived import patches  # pylint: disable=import-outside-toplevel
    size = int(_get(config, 'patch_size', 8))
    arrays = patches.add_patches(arrays, int(num), size, seed=0)
    return arrays, {**info, 'patches': {'num': int(num), 'size': size, 'seed': 0}}


def _shape_images(config: Any, arrays: dict, info: dict) -> tuple[dict, dict]:
    """Resizes to ``config.data.resize`` and converts to ``config.data.channels``; checks a
    ``crop`` fits. Stored images stay uint8."""
    resize, channels = _get(config, 'resize', 0), _get(config, 'channels', 0)
    crop = _get(config, 'crop', 0)
    if resize or channels:
        from jaxgen.data import preprocess  # pylint: disable=import-outside-toplevel
        arrays = preprocess.shape_fields(arrays, draw_lib.IMAGE_FIELDS, resize, channels)
    fields = [f for f in ('image', 'image_a', 'image_b') if f in arrays]
    if fields:
        shape = list(arrays[fields[0]].shape[1:])
        info = {**info, 'shape': shape}
        if crop and (crop > shape[0] or crop > shape[1]):
            raise JaxgenError(f'config.data.crop={crop} is larger than the {shape[0]}x'
                              f'{shape[1]} images; set config.data.resize to at least {crop} '
                              f'or lower the crop')
    return arrays, info


def unused_settings(data_config: Any) -> dict[str, Any]:
    """The ``config.data`` fields set away from their defaults that the named
    dataset does not read (``mixture.radius`` on MNIST, ``binarize`` on the ring), by
    dotted name: a family's sub-dict is reported field by field."""
    from jaxgen.config import base_config  # pylint: disable=import-outside-toplevel
    defaults = base_config().data
    name = str(_get(data_config, 'name', ''))
    used = MIXTURE_SETTINGS if name in mixtures.NAMES else IMAGE_SETTINGS
    used += tuple(p[:-1] for p in PREFIXES if name.startswith(p))  # 'tfds', 'folder'
    unused = {}
    for k, v in dict(data_config).items():
        if k in used or k not in defaults:
            continue
        if hasattr(defaults[k], 'items') and hasattr(v, 'items'):
            unused.update({f'{k}.{f}': x for f, x in dict(v).items()
                           if x != defaults[k].get(f)})
        elif v != defaults[k]:
            unused[k] = v
    return unused
