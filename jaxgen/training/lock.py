"""One run per workdir: a lock file that names its owner and proves it is alive.

``<workdir>/run.lock`` holds JSON ``{host, pid, start, heartbeat}``: the process
that trains there, its start time (from ``/proc``, so a recycled PID is not
taken for the owner) and the last time it said it was alive. A second run on
the same workdir is refused with one line naming the owner, while the owner
lives. A lock left behind by a killed run never blocks a resume:

* on the owner's host, a lock whose process is gone (or is another process
  that got the same PID) is stale at once;
* from another host (a shared ``gs://`` workdir), a lock whose heartbeat is
  older than ``stale_after`` seconds is stale: a live owner rewrites its
  heartbeat from a background thread every ``stale_after / 5`` seconds.

Every write goes to a file beside the lock and is renamed over it, so a reader
sees a whole record or the previous one, never an empty file. A stale lock is
taken over with a warning line saying whose it was. All I/O
goes through ``etils.epath``, so the lock works on any workdir the run can
write to. Only process 0 of a multi-process run holds the lock.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

from absl import logging
from etils import epath

from jaxgen.errors import JaxgenError
from jaxgen.training import workdir as workdir_lib

LOCK_FILE = 'run.lock'
STALE_AFTER = 300.0  # seconds without a heartbeat before another host may take over


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), None if unknown."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, start: str | None) -> bool:
    """Whether process ``pid`` exists on this host and is the one that started at ``start``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    return start is None or _process_start(pid) in (None, start)


class WorkdirLock:
    """``acquire()`` before writing to a workdir, ``release()`` when done (or use ``with``)."""

    def __init__(self, workdir: str | os.PathLike, stale_after: float = STALE_AFTER):
        self.path = epath.Path(workdir) / LOCK_FILE
        self.stale_after = stale_after
        self.me = {'host': socket.gethostname(), 'pid': os.getpid(),
                   'start': _process_start(os.getpid())}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (ValueError, OSError):  # corrupt or unreadable (writes are atomic): nobody's
            return {}

    def _aside(self, record: dict) -> epath.Path:
        return self.path.parent / f'{LOCK_FILE}.{record.get("host")}.{record.get("pid")}.tmp'

    def _write(self) -> None:
        # Written aside and renamed into place: a reader never sees the truncated file
        # that an in-place write shows for a moment, which it would take for nobody's.
        # The aside file is named for its writer, so a takeover can remove it.
        workdir_lib.write_whole(self.path, json.dumps({**self.me, 'heartbeat': time.time()}),
                                aside=self._aside(self.me))

    def owner(self) -> dict | None:
        """The live owner's record, or None when the workdir is free (or its lock is stale)."""
        record = self._read()
        if not record:
            return None
        if record.get('host') == self.me['host']:
            if record.get('pid') == self.me['pid']:
                return None  # ours (a second train() in this process)
            return record if _alive(int(record.get('pid', -1)), record.get('start')) else None
        age = time.time() - float(record.get('heartbeat', 0))
        return record if age < self.stale_after else None

    def check_free(self) -> None:
        """Raises a one-line JaxgenError naming the live owner, if there is one.
        Writes nothing: call it before reading a workdir that a live run may be
        changing (its checkpoint manager deletes old steps as it goes)."""
        owner = self.owner()
        if owner is not None:
            raise JaxgenError(
                f'workdir {self.path.parent} is in use by process {owner.get("pid")} on host '
                f'{owner.get("host")}; wait for that run to end or stop it, or pass another '
                '--workdir')

    def acquire(self) -> None:
        """Takes the lock, or raises a one-line JaxgenError naming the live owner."""
        self.check_free()
        stale = self._read()
        if stale and (stale.get('host'), stale.get('pid')) != (self.me['host'], self.me['pid']):
            logging.warning('taking over the lock of process %s on host %s, which is no longer '
                            'running (%s)', stale.get('pid'), stale.get('host'), self.path)
            self._aside(stale).unlink(missing_ok=True)  # if it was killed mid-beat
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()
        back = self._read() or {}
        if (back.get('host'), back.get('pid')) != (self.me['host'], self.me['pid']):
            raise JaxgenError(f'another run took the lock {self.path} at the same moment; '
                              'wait for it to end, or pass another --workdir')
        self._thread = threading.Thread(target=self._beat, daemon=True, name='workdir-lock')
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.stale_after / 5):
            try:
                self._write()
            except OSError as e:  # a flaky remote filesystem: try again next beat
                logging.warning('could not refresh %s (%s)', self.path, e)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        record = self._read()
        if record and (record.get('host'), record.get('pid')) == (self.me['host'],
                                                                   self.me['pid']):
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> WorkdirLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
