"""Any TensorFlow Datasets dataset as arrays of named fields: ``tfds:<name>[/<config>]``.

``config.data.tfds`` names the features and splits (defaults in ``jaxgen/config.py``):
``image_key`` (uint8 images), ``label_key`` (integer labels; '' for none), ``attributes_key``
(a dict of booleans, such as celeb_a's 40 attributes, becomes float32 ``[N, A]`` with the
names sorted in ``info['attribute_names']``; a vector feature is taken as it is),
``train_split``/``test_split``, and ``domains``: ``('A', 'B')`` reads the two unpaired
splits ``<split>A`` and ``<split>B`` (``cycle_gan/horse2zebra``'s ``trainA``/``trainB``) as
two independent streams ``image_a``/``image_b`` (with ``label_a``/``label_b``).

Data is downloaded and prepared as TFDS does (its standard download), stored as ArrayRecord
in the ``tfds`` folder of jaxgen's cache (:func:`jaxgen.data.data_dirs`), and read by random
access (``as_data_source``; tf.data only for data prepared in another format). Each
download first checks within seconds that its host answers, so an offline machine gets a
one-line error at once; ``config.data.download=False`` or ``JAXGEN_DOWNLOAD=0`` turn
downloads off. Images are resized to
``config.data.resize`` and converted to ``config.data.channels`` one at a time as they are
read (:mod:`jaxgen.data.preprocess`), so datasets whose images differ in size need
``resize``. :func:`source` gives the same examples by random access (``tfds.data_source``)
for the streaming path. ``tensorflow_datasets`` is imported only when a tfds: name is used.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Any

import numpy as np

from jaxgen.data import preprocess
from jaxgen.data.sources import mnist, network
from jaxgen.errors import JaxgenError

DEFAULTS = {'image_key': 'image', 'label_key': 'label', 'attributes_key': '',
            'train_split': 'train', 'test_split': 'test', 'domains': ()}
LIST_HINT = "python -c 'import tensorflow_datasets as tfds; print(tfds.list_builders())'"


def _tfds():
    import tensorflow_datasets  # pylint: disable=import-outside-toplevel
    return tensorflow_datasets


def settings(config: Any) -> dict:
    """``config.data.tfds`` over :data:`DEFAULTS`, plus ``resize`` and ``channels``."""
    given = dict(config.get('tfds') or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise JaxgenError(f'unknown config.data.tfds fields {unknown}; use {sorted(DEFAULTS)}')
    out = {**DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
    domains = out['domains']
    out['domains'] = tuple(domains.split(',') if isinstance(domains, str) and domains
                           else domains or ())
    if out['domains'] and len(out['domains']) != 2:
        raise JaxgenError(f'config.data.tfds.domains={domains!r}; name two split suffixes, '
                          f"e.g. ('A', 'B') for trainA/trainB, or () for one split")
    out['resize'], out['channels'] = preprocess.check(config.get('resize') or 0,
                                                      config.get('channels') or 0)
    return out


def data_dir(config: Any) -> str:
    from jaxgen.data import data_dirs  # pylint: disable=import-outside-toplevel
    return os.path.join(data_dirs(config)[1], 'tfds')


def builder(spec: str, config: Any):
    """The TFDS builder of ``spec``, prepared (downloaded on first use) as ArrayRecord,
    which both :func:`load_arrays` and the streaming path read by random access."""
    tfds = _tfds()
    folder = data_dir(config)
    try:
        b = tfds.builder(spec, data_dir=folder, file_format='array_record')
    except (tfds.core.registered.DatasetNotFoundError, ValueError) as e:
        raise JaxgenError(f'unknown TFDS dataset {spec!r} ({_first_line(e)}); set '
                          f'config.data.name to tfds:<name>[/<config>] with a name listed '
                          f'by tfds.list_builders(): {LIST_HINT}') from None
    try:
        with checked_downloads(mnist.download_on(config.get('download', True))):
            b.download_and_prepare()
    except Exception as e:  # pylint: disable=broad-except
        raise JaxgenError(f'TFDS could not download and prepare {spec!r} into {folder} '
                          f'({type(e).__name__}: {_first_line(e)}); connect to the internet, '
                          f'or prepare it there yourself: tfds build {spec} --data_dir='
                          f'{folder} --file_format=array_record') from None
    return b


@contextlib.contextmanager
def checked_downloads(allowed: bool = True):
    """Inside, each download TFDS starts first checks that its host answers within seconds
    (:func:`network.unreachable`), so an offline machine fails at once rather than after
    minutes of retries; with downloads off (``allowed`` False) none is tried."""
    manager = _tfds().download.DownloadManager
    original = manager.__dict__.get('_download')
    if original is None:  # another TFDS: no check, its own retries
        yield
        return

    def download(self, resource):
        url = getattr(resource, 'url', resource)
        why = (network.unreachable(url) if allowed else
               'downloads are off (config.data.download=False or JAXGEN_DOWNLOAD=0)')
        if why:
            raise ConnectionError(f'{url}: {why}')
        return original(self, resource)

    manager._download = download  # pylint: disable=protected-access
    try:
        yield
    finally:
        manager._download = original  # pylint: disable=protected-access


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [''])[0][:200]


def plan(b, keys: dict, split: str) -> tuple[list[tuple[str, str]], dict]:
    """``([(TFDS split, field suffix), ...], features used)``; checks keys and splits."""
    features = b.info.features
    available = sorted(features.keys())
    used = {}
    for field in ('image_key', 'label_key', 'attributes_key'):
        key = keys[field]
        if not key:
            continue
        if key in features:
            used[field] = key
        elif field == 'image_key' or key != DEFAULTS[field]:
            raise JaxgenError(f'TFDS dataset {b.info.full_name} has no feature {key!r}; set '
                              f'config.data.tfds.{field} to one of {available}')
    base = keys[f'{split}_split']
    names = ([(base, '')] if not keys['domains'] else
             [(f'{base}{d}', f'_{s}') for d, s in zip(keys['domains'], 'ab')])
    known = sorted(b.info.splits.keys()) if b.info.splits else []
    for name, _ in names:
        if known and re.split(r'[\[+]', name)[0] not in known:
            raise JaxgenError(f'TFDS dataset {b.info.full_name} has no split {name!r}; its '
                              f'splits are {known}: set config.data.tfds.{split}_split'
                              f'{" and .domains" if keys["domains"] else ""} to match')
    return names, used


def attribute_names(b, key: str) -> list[str]:
    feature = b.info.features[key]
    if hasattr(feature, 'keys'):
        return sorted(feature.keys())
    size = int(np.prod(feature.shape)) if feature.shape else 1
    return [str(i) for i in range(size)]


def example_fields(example: dict, used: dict, names: list[str], keys: dict,
                   suffix: str = '') -> dict:
    """One TFDS example (numpy) to jaxgen's fields, the image resized and converted."""
    image = np.asarray(example[used['image_key']])
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise JaxgenError(f'TFDS feature {used["image_key"]!r} holds {image.dtype} '
                          f'{image.shape} values, not uint8 images; set '
                          f'config.data.tfds.image_key to an image feature')
    image = image[..., None] if image.ndim == 2 else image
    out = {f'image{suffix}': preprocess.shape_image(image, keys['resize'], keys['channels'])}
    if 'label_key' in used:
        out[f'label{suffix}'] = np.int32(example[used['label_key']])
    if 'attributes_key' in used:
        value = example[used['attributes_key']]
        vector = ([value[n] for n in names] if isinstance(value, dict)
                  else np.ravel(value))
        out[f'attributes{suffix}'] = np.asarray(vector, np.float32)
    return out


def stack(rows: list[dict], where: str) -> dict:
    """Rows of fields to arrays; images of differing sizes are a one-line error."""
    if not rows:
        raise JaxgenError(f'{where} has no examples; choose a split that has some with '
                          f'config.data.tfds.train_split/test_split')
    image = next(f for f in rows[0] if f.startswith('image'))
    first = rows[0][image].shape
    for i, row in enumerate(rows):
        if row[image].shape != first:
            raise JaxgenError(f'{where} has images of different sizes ({first} at example 0, '
                              f'{row[image].shape} at example {i}); set config.data.resize '
                              f'to bring them to one size')
    return {f: np.stack([row[f] for row in rows]) for f in rows[0]}


def load_arrays(spec: str, config: Any, split: str) -> tuple[dict, dict]:
    """``(arrays, info)`` of split 'train' or 'test' of the TFDS dataset ``spec``."""
    keys = settings(config)
    b = builder(spec, config)
    names, used = plan(b, keys, split)
    attrs = attribute_names(b, used['attributes_key']) if 'attributes_key' in used else []
    arrays, readers = {}, []
    for name, suffix in names:
        examples, reader = read_split(b, name)
        rows = [example_fields(ex, used, attrs, keys, suffix) for ex in examples]
        arrays.update(stack(rows, f'TFDS {b.info.full_name} split {name!r}'))
        readers.append(reader)
    info = _info(spec, b, keys, split, names, used, attrs, arrays)
    return arrays, {**info, 'reader': readers[0]}


def read_split(b, name: str):
    """(numpy examples in order, 'data_source' or 'as_dataset'): random access when the
    data is stored as ArrayRecord (as :func:`builder` prepares it), else through tf.data."""
    try:
        examples = b.as_data_source(split=name)
        return (examples[i] for i in range(len(examples))), 'data_source'
    except NotImplementedError:  # prepared in a format without random access
        dataset = b.as_dataset(split=name, shuffle_files=False)
        return _tfds().as_numpy(dataset), 'as_dataset'


def _info(spec, b, keys, split, names, used, attrs, arrays) -> dict:
    tfds = _tfds()
    images = [arrays[f'image{s}'] for _, s in names]
    if len({x.shape[1:] for x in images}) > 1:
        raise JaxgenError(f'the A and B images of tfds:{spec} differ in size '
                          f'({images[0].shape[1:]} and {images[1].shape[1:]}); set '
                          f'config.data.resize (and .channels) to bring them to one size')
    info = {
        'name': f'tfds:{spec}',
        'source': f'tensorflow_datasets {tfds.__version__}: {b.info.full_name}',
        'split': split,
        'tfds_splits': [n for n, _ in names],
        'data_dir': str(b.data_dir),
        'num_examples': int(sum(len(x) for x in images)),
        'shape': list(images[0].shape[1:]),
        'features': dict(used),
        'resize': keys['resize'],
        'channels': keys['channels'],
        'kind': 'unpaired' if keys['domains'] else 'images',
    }
    if 'label_key' in used:
        num = getattr(b.info.features[used['label_key']], 'num_classes', None)
        labels = np.concatenate([arrays[f'label{s}'] for _, s in names])
        info['num_classes'] = int(num) if num else int(labels.max(initial=-1)) + 1
    if attrs:
        info['attribute_names'] = attrs
    if keys['domains']:
        info['domains'] = list(keys['domains'])
        info['streams'] = {s[1:]: sorted(f for f in arrays if f.endswith(s)) for _, s in names}
        info['stream_sizes'] = {s[1:]: int(len(arrays[f'image{s}'])) for _, s in names}
    return info


class Source:
    """Random access to one TFDS split: ``len``, ``[i]`` and ``gather(rows)`` give
    jaxgen's fields (images already resized and converted), as :func:`load_arrays`."""

    def __init__(self, data_source, used: dict, names: list[str], keys: dict,
                 suffix: str = ''):
        self.data_source, self.used, self.names = data_source, used, names
        self.keys, self.suffix = keys, suffix

    def __len__(self) -> int:
        return len(self.data_source)

    def __getitem__(self, index: int) -> dict:
        return example_fields(self.data_source[int(index)], self.used, self.names,
                              self.keys, self.suffix)

    def gather(self, rows) -> dict:
        return stack([self[i] for i in np.asarray(rows).ravel()], 'this TFDS source')


def load_stream(spec: str, config: Any, split: str,
                head: int = 512) -> tuple[dict, dict, dict[str, Source]]:
    """``(arrays, info, sources)`` for the streaming path: the sources of :func:`source`,
    and arrays of only the first ``head`` examples of each stream (for pictures and
    shapes), so the split itself is never held in memory."""
    sources = source(spec, config, split)
    keys, b = settings(config), builder(spec, config)
    names, used = plan(b, keys, split)
    attrs = attribute_names(b, used['attributes_key']) if 'attributes_key' in used else []
    arrays = {}
    for src in sources.values():
        arrays.update(src.gather(np.arange(min(head, len(src)))))
    info = _info(spec, b, keys, split, names, used, attrs, arrays)
    info['num_examples'] = int(sum(len(src) for src in sources.values()))
    if 'stream_sizes' in info:
        info['stream_sizes'] = {s: len(src) for s, src in sources.items()}
    return arrays, {**info, 'reader': 'data_source', 'in_memory': f'first {head}'}, sources


def source(spec: str, config: Any, split: str) -> dict[str, Source]:
    """``{stream: Source}`` (stream '' for one split; 'a' and 'b' with ``domains``) over
    ``tfds.data_source`` (ArrayRecord), the random-access reader of the streaming path."""
    keys = settings(config)
    b = builder(spec, config)
    names, used = plan(b, keys, split)
    attrs = attribute_names(b, used['attributes_key']) if 'attributes_key' in used else []
    return {suffix[1:]: Source(b.as_data_source(split=name), used, attrs, keys, suffix)
            for name, suffix in names}
