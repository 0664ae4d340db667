"""A run's folder, anywhere ``etils.epath`` reaches: local, ``gs://``, ``s3://``.

Every file a run writes (config, logs, pictures, TensorBoard events, checkpoints,
the lock) goes through ``epath``, so ``--workdir gs://bucket/run`` writes to the
bucket instead of creating a local folder named ``gs:``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import uuid

from etils import epath

from jaxgen.errors import JaxgenError

# What each remote scheme needs besides epath: Orbax asks google-cloud-storage about
# gs:// buckets, and epath reaches them through TensorFlow's gfile or fsspec's gcsfs.
NEEDS = {'gs': (('google.cloud.storage', 'google-cloud-storage'),),
         's3': (('s3fs', 's3fs'),)}


def is_remote(path: str | os.PathLike) -> bool:
    return '://' in os.fspath(path)


def resolve(path: str | os.PathLike) -> epath.Path:
    """``path`` as an ``epath.Path``; local paths made absolute (Orbax needs that)."""
    if isinstance(path, epath.Path) and is_remote(str(path)):
        return path
    text = os.fspath(path)
    return epath.Path(text if is_remote(text) else os.path.abspath(os.path.expanduser(text)))


def outputs(path: str | os.PathLike, seed_index: int | None = None) -> epath.Path:
    """Where a run's outputs go: the workdir, or its ``seed_<i>`` folder for seed ``i`` of
    a many-seed run (``config.num_seeds`` > 1), beside that seed's pictures and logs."""
    where = resolve(path)
    if seed_index is not None and (where / f'seed_{seed_index}').is_dir():
        return where / f'seed_{seed_index}'
    return where


def write_whole(path: epath.Path, text: str, aside: epath.Path | None = None) -> None:
    """Writes ``text`` beside ``path`` (to ``aside``, default a fresh name) and renames it
    into place: a reader, or the next run after a kill mid-write, finds the old file or
    the new one, never a truncated one."""
    aside = aside or path.parent / f'.tmp-{uuid.uuid4().hex}-{path.name}'
    try:
        aside.write_text(text)
        aside.replace(path)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise


def log_record(path: epath.Path, record: dict) -> None:
    """Adds ``record`` (which has a ``step``) to a JSON-lines log such as ``eval.jsonl``.

    The file is rewritten whole (``write_whole``; no append, which a bucket may not
    offer), so a kill never leaves half a line. Records of ``record``'s step or later
    are dropped first: a run killed after logging them resumes from an earlier
    checkpoint and logs them again, and the file reads as an uninterrupted run's. A
    line torn by a writer of an older version, killed mid-append, is dropped too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = []
    for line in (path.read_text().splitlines() if path.exists() else ()):
        try:
            if json.loads(line)['step'] < record['step']:
                kept.append(line)
        except (ValueError, KeyError, TypeError):  # torn, or not a record
            continue
    write_whole(path, ''.join(f'{line}\n' for line in [*kept, json.dumps(record)]))


def missing_modules(path: str | os.PathLike) -> list[str]:
    """The pip packages a workdir at ``path`` needs that are not installed."""
    text = os.fspath(path)
    scheme = text.split('://', 1)[0] if is_remote(text) else ''
    missing = [package for module, package in NEEDS.get(scheme, ()) if not _has(module)]
    if scheme == 'gs' and not (_has('tensorflow') or _has('gcsfs')):
        missing.append('tensorflow or gcsfs')
    return missing


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def check(path: str | os.PathLike) -> None:
    """One-line JaxgenError when a remote workdir cannot be reached from here."""
    missing = missing_modules(path)
    if missing:
        raise JaxgenError(f'--workdir {os.fspath(path)} needs {" and ".join(missing)}; '
                          f'pip install {" ".join(m.split(" or ")[-1] for m in missing)}')
