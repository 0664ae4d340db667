"""Preemption: SIGTERM and SIGINT become a flag that the training loop checks after
every step, then saves a checkpoint and returns (``loop.train``)."""

from __future__ import annotations

import signal


class StopSignals:
    """Turns SIGTERM/SIGINT into a flag the loop checks after every step."""

    def __init__(self):
        self.received: int | None = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals stay as they were
                pass
        return self

    def _handle(self, signum, frame):
        del frame
        self.received = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
