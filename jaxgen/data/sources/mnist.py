"""MNIST and Fashion-MNIST: verified IDX files -> TFDS -> npz cache -> jit-able batches.

Loading order for one split of ``mnist`` or ``fashion_mnist``:

1. ``<cache_dir>/<name>-<split>.npz`` if it exists (plain numpy; TensorFlow is never imported).
2. Otherwise the four original ``.gz`` files in the data folder are checked (presence, byte size,
   SHA-256) and prepared through ``tensorflow_datasets``, which is imported only then; both splits
   are written to the cache.
3. If no data folder is configured, TFDS's standard download and preparation is tried (into
   ``<cache_dir>/tfds``), after a connection check that answers within seconds; both splits are
   written to the cache. It can be switched off (``config.data.download=False`` or
   ``JAXGEN_DOWNLOAD=0``). If it is off or fails, :func:`load_arrays` returns ``None`` (the reason
   is in :data:`FAILED`) and the caller decides whether to fall back to sklearn's digits.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import tempfile
import zipfile
from typing import Callable

import numpy as np
from absl import logging

from jaxgen.data.sources.network import unreachable
from jaxgen.errors import JaxgenError

SPLITS = ('train', 'test')
IMAGE_SHAPE = (28, 28, 1)

# file name -> (byte size, SHA-256) of the files the datasets' creators published.
PUBLISHED: dict[str, dict[str, tuple[int, str]]] = {
    'mnist': {
        'train-images-idx3-ubyte.gz': (
            9912422, '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609'),
        'train-labels-idx1-ubyte.gz': (
            28881, '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c'),
        't10k-images-idx3-ubyte.gz': (
            1648877, '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6'),
        't10k-labels-idx1-ubyte.gz': (
            4542, 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6'),
    },
    'fashion_mnist': {
        'train-images-idx3-ubyte.gz': (
            26421880, '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84'),
        'train-labels-idx1-ubyte.gz': (
            29515, 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845'),
        't10k-images-idx3-ubyte.gz': (
            4422102, '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073'),
        't10k-labels-idx1-ubyte.gz': (
            5148, '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5'),
    },
}
NAMES = tuple(PUBLISHED)
# Where TFDS's standard download fetches each dataset (tensorflow_datasets' mnist.py).
SOURCES = {
    'mnist': 'https://storage.googleapis.com/cvdf-datasets/mnist/',
    'fashion_mnist': 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
}
# name -> why TFDS's standard download failed; not retried in this process.
FAILED: dict[str, str] = {}
FROM_FILES = 'tensorflow_datasets {} built from the original IDX files'
DOWNLOADED = 'tensorflow_datasets standard download'


def cache_path(cache_dir: str, name: str, split: str) -> str:
    """Where the prepared ``split`` of ``name`` is cached."""
    return os.path.join(cache_dir, f'{name}-{split}.npz')


def find_folder(data_dir: str, name: str) -> str:
    """Returns ``<data_dir>/<name>`` if that folder exists, else ``data_dir`` itself."""
    if not os.path.isdir(data_dir):
        raise JaxgenError(
            f'data folder {data_dir} does not exist; set JAXGEN_DATA_DIR or '
            f'config.data.data_dir to a folder holding the original {name} .gz files '
            f'(directly or in a subfolder named {name!r}), or unset both to use the fallback')
    sub = os.path.join(data_dir, name)
    return sub if os.path.isdir(sub) else data_dir


def sha256(path: str) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(folder: str, name: str) -> None:
    """Checks that ``folder`` holds the four published files of ``name``, byte for byte."""
    for fname in PUBLISHED[name]:
        if not os.path.isfile(os.path.join(folder, fname)):
            raise JaxgenError(
                f'{fname} is missing from {folder}; set JAXGEN_DATA_DIR or config.data.data_dir '
                f'to a folder holding the four original {name} .gz files (directly or in a '
                f'subfolder named {name!r}), or unset both and pass --config.data.fallback=True '
                f'to train on sklearn digits instead')
    for fname, (size, digest) in PUBLISHED[name].items():
        path = os.path.join(folder, fname)
        got_size, got_digest = os.path.getsize(path), sha256(path)
        if (got_size, got_digest) != (size, digest):
            raise JaxgenError(
                f'{path} is corrupt or truncated ({got_size} bytes, sha256 {got_digest[:12]}…; '
                f'expected {size} bytes, sha256 {digest[:12]}…); '
                f'replace it with the original file')


def unwritable(path: str, error: OSError) -> JaxgenError:
    return JaxgenError(f'cannot write the data cache {path} ({error.strerror}); set '
                       f'JAXGEN_CACHE_DIR or config.data.cache_dir to a writable folder')


def _write_npz(path: str, image: np.ndarray, label: np.ndarray, source: str = '') -> None:
    """Writes ``path`` atomically: a temporary file in the same folder, then ``os.replace``;
    ``source`` records where the arrays came from."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.npz', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as f:
                np.savez(f, image=image, label=label, source=np.array(source))
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except OSError as e:
        raise unwritable(path, e) from e


def build_once(path: str, build: Callable[[], None], lock_path: str) -> None:
    """Runs ``build`` (which writes ``path``) unless ``path`` exists, holding an exclusive
    lock on ``lock_path``: runs started together (seeds side by side, the processes of one
    host) build the cache once instead of racing in TFDS's folders."""
    if os.path.exists(path):
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lock = open(lock_path, 'a')  # pylint: disable=consider-using-with
    except OSError as e:
        raise unwritable(path, e) from e
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not os.path.exists(path):
            build()


def prepare(name: str, folder: str | None, cache_dir: str) -> None:
    """Builds both splits of ``name`` from the verified files in ``folder`` (``None``: TFDS's
    standard download from the dataset's source) and caches them."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    try:
        import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise JaxgenError(
            f'preparing {name} needs tensorflow_datasets, which is not installed; run '
            f'pip install tensorflow-cpu tensorflow-datasets, or copy the prepared files '
            f'{name}-train.npz and {name}-test.npz into {cache_dir}') from e
    tfds.disable_progress_bar()
    builder = tfds.builder(name, data_dir=os.path.join(cache_dir, 'tfds'))
    # One download folder per dataset: MNIST and Fashion-MNIST share file names, and in a
    # shared folder TFDS would build the second from the first one's extracted files.
    downloads = os.path.join(cache_dir, 'tfds', 'downloads', name)
    if folder is None:
        builder.download_and_prepare(download_dir=downloads)
    else:
        builder.download_and_prepare(download_dir=downloads,
                                     download_config=tfds.download.DownloadConfig(
                                         manual_dir=folder, try_download_gcs=False))
    source = DOWNLOADED if folder is None else FROM_FILES.format(name)
    for split in SPLITS:
        d = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        image = np.asarray(d['image'], np.uint8).reshape((-1,) + IMAGE_SHAPE)
        _write_npz(cache_path(cache_dir, name, split), image,
                   np.asarray(d['label'], np.int32), source)


def download_on(download: bool = True) -> bool:
    """Whether TFDS's standard download may be tried: ``config.data.download`` and not
    ``JAXGEN_DOWNLOAD=0`` (for CI and air-gapped machines)."""
    return bool(download) and os.environ.get('JAXGEN_DOWNLOAD', '1').strip() != '0'


def standard_download(name: str, path: str, cache_dir: str) -> bool:
    """Tries TFDS's standard download and preparation of ``name`` (both splits cached, once,
    under the lock). On failure logs why in one line, records it in :data:`FAILED` and
    returns False; an unwritable cache is still an error."""
    why = FAILED.get(name) or unreachable(SOURCES[name])
    if why is None and importlib.util.find_spec('tensorflow_datasets') is None:
        why = 'tensorflow_datasets is not installed (pip install tensorflow-cpu tensorflow-datasets)'
    if why is None:
        try:
            build_once(path, lambda: prepare(name, None, cache_dir),
                       os.path.join(cache_dir, f'{name}.lock'))
            return True
        except JaxgenError:
            raise
        except Exception as e:  # pylint: disable=broad-except  # any download error: fall back
            why = ' '.join(f'{type(e).__name__}: {e}'.split())[:300]
    if name not in FAILED:
        logging.warning('TFDS standard download of %s failed: %s', name, why)
    FAILED[name] = why
    return False


def read_cache(path: str) -> dict[str, np.ndarray]:
    """Reads a cached split with numpy only."""
    return _read(path)[0]


def _read(path: str) -> tuple[dict[str, np.ndarray], str]:
    """(arrays, source) of a cached split; caches written before sources were recorded
    were all built from the original files."""
    try:
        with np.load(path) as f:
            arrays = {'image': f['image'], 'label': f['label']}
            source = str(f['source']) if 'source' in f.files else ''
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise JaxgenError(
            f'the data cache {path} is unreadable ({type(e).__name__}); delete it and run '
            f'again to rebuild it') from e
    if arrays['image'].dtype != np.uint8 or arrays['image'].shape[1:] != IMAGE_SHAPE:
        raise JaxgenError(
            f'the data cache {path} holds images of dtype {arrays["image"].dtype} and shape '
            f'{arrays["image"].shape}, not uint8 [N,28,28,1]; delete it and run again')
    return {'image': arrays['image'], 'label': arrays['label'].astype(np.int32)}, source


def load_arrays(name: str, split: str, data_dir: str | None, cache_dir: str,
                download: bool = True) -> tuple[dict, dict] | None:
    """Returns ``(arrays, info)`` of one split; ``None`` if there is no cache, no data_dir and
    TFDS's standard download is off (:func:`download_on`) or failed (:data:`FAILED`)."""
    path = cache_path(cache_dir, name, split)
    # An explicitly configured folder must exist even when a cache makes it unneeded:
    # a mistyped path is reported, never silently ignored.
    folder = None if data_dir is None else find_folder(data_dir, name)
    if not os.path.exists(path):
        if folder is None:
            if not (download_on(download) and standard_download(name, path, cache_dir)):
                return None
        else:
            def build():
                verify_files(folder, name)
                prepare(name, folder, cache_dir)
            build_once(path, build, os.path.join(cache_dir, f'{name}.lock'))
    arrays, source = _read(path)
    if name == 'fashion_mnist' and len(set(np.bincount(arrays['label']).tolist())) != 1:
        raise JaxgenError(f'{path} is not Fashion-MNIST (its classes are not balanced; an '
                          f'older jaxgen built it from MNIST\'s files): delete it and rerun')
    info = {
        'name': name,
        'source': source or FROM_FILES.format(name),
        'cache_path': path,
        'split': split,
        'num_examples': int(arrays['image'].shape[0]),
        'num_classes': 10,
        'fallback': False,
        'shape': list(IMAGE_SHAPE),
    }
    return arrays, info


def _why_not(name: str, download: bool) -> str:
    if not download_on(download):
        return ('TFDS\'s standard download is switched off (config.data.download=False or '
                'JAXGEN_DOWNLOAD=0)')
    return f'TFDS\'s standard download failed: {FAILED.get(name, "reason unknown")}'


def not_found(name: str, cache_dir: str, download: bool = True) -> str:
    """The one-line error when ``name`` cannot be loaded and the fallback is off."""
    return (f'{name} was not found: no cache in {cache_dir}, no data folder configured, and '
            f'{_why_not(name, download)}; run again online with '
            f'--config.data.download=True (the default), or set JAXGEN_DATA_DIR or --config.data.data_dir '
            f'to a folder holding the original {name} .gz files, or pass '
            f'--config.data.fallback=True to use sklearn digits')


def fallback_banner(name: str, cache_dir: str, download: bool = True) -> str:
    """The loud multi-line warning logged when sklearn digits replace ``name``."""
    line = '*' * 70
    return '\n'.join([
        line,
        f'* {name} WAS NOT FOUND: no cache in {cache_dir}, no data folder configured,',
        f'* and {_why_not(name, download)}.',
        '* Using the FALLBACK instead: sklearn\'s 1,797 8x8 digits, upscaled to 28x28.',
        '* Results are NOT comparable with results on the real dataset.',
        f'* To use {name}: run again online with --config.data.download=True (the default;',
        f'*   TFDS downloads it into {os.path.join(cache_dir, "tfds")}), or set',
        '*   JAXGEN_DATA_DIR (or --config.data.data_dir) to a folder holding the four',
        f'*   original .gz files (or a subfolder {name!r} with them).',
        '* To make this an error instead: pass --config.data.fallback=False.',
        line,
    ])
