"""Build a derived dataset split once and cache it: ``<cache_dir>/derived/<name>-<split>.npz``
with its provenance beside it (``.json``), written atomically under a lock."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any, Callable

import numpy as np

from jaxgen.errors import JaxgenError

# Bump when a builder's output changes, so that old caches are rebuilt.
VERSION = 1


def paths(cache_dir: str, name: str, split: str) -> tuple[str, str]:
    stem = os.path.join(cache_dir, 'derived', f'{name}-{split}-v{VERSION}')
    return stem + '.npz', stem + '.json'


def _write(path: str, arrays: dict, info: dict) -> None:
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.npz', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, **arrays)
        with open(path[:-4] + '.json', 'w') as f:
            json.dump(info, f, indent=1, sort_keys=True, default=str)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # the npz last: its presence means both are complete
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def cached(cache_dir: str, name: str, split: str,
           build: Callable[[], tuple[dict, dict]]) -> tuple[dict, dict]:
    """``(arrays, info)`` of ``name``'s ``split``: read from the cache, or ``build()`` and
    cached. ``info`` must be JSON-serialisable; ``info['cache_path']`` is added."""
    from jaxgen.data.sources.mnist import build_once, unwritable  # pylint: disable=C0415
    npz, meta = paths(cache_dir, name, split)

    def make():
        arrays, info = build()
        try:
            _write(npz, {k: np.asarray(v) for k, v in arrays.items()}, info)
        except OSError as e:
            raise unwritable(npz, e) from e

    build_once(npz, make, os.path.join(cache_dir, 'derived', f'{name}.lock'))
    try:
        with np.load(npz) as f:
            arrays = {k: f[k] for k in f.files}
        with open(meta) as f:
            info = json.load(f)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise JaxgenError(f'the data cache {npz} is unreadable ({type(e).__name__}); delete '
                          f'it and run again to rebuild it') from e
    return arrays, {**info, 'cache_path': npz}


def cache_dir_of(config: Any) -> str:
    from jaxgen.data import data_dirs  # pylint: disable=import-outside-toplevel
    return data_dirs(config)[1]
