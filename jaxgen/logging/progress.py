"""One-line progress reports (rate, ETA, metrics) for the training loop."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping


def format_duration(seconds: float) -> str:
    """Format a duration as ``1h02m``, ``18m35s`` or ``42s``."""
    if not math.isfinite(seconds):
        return "?"
    total = max(0, int(round(seconds)))
    hours, rem = divmod(total, 3600)
    minutes, secs = divmod(rem, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_metrics(metrics: Mapping[str, float]) -> str:
    """Format metrics as ``name value`` pairs with 4 significant digits."""
    return "  ".join(f"{name} {float(value):.4g}" for name, value in metrics.items())


class Progress:
    """Progress reporter producing lines such as::

        step  1200/5000  24%  | 3.41 steps/s | ETA 18m35s | d_loss 1.204  g_loss 0.873

    The rate is measured over the interval since the previous :meth:`update`
    (or since construction, for the first call); the ETA is the remaining
    steps at that rate.

    Args:
      total_steps: Step at which training ends.
      start_step: Step training starts (or resumes) from.
      clock: Monotonic clock in seconds; injectable for tests.
    """

    def __init__(
        self,
        total_steps: int,
        start_step: int = 0,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.total_steps = int(total_steps)
        self._clock = clock
        self._last_step = int(start_step)
        self._last_time = clock()
        self.steps_per_sec: float = float("nan")
        self.eta_seconds: float = float("nan")

    def update(self, step: int, metrics: Mapping[str, float] | None = None) -> str:
        """Record that ``step`` was reached and return the formatted line."""
        now = self._clock()
        elapsed = now - self._last_time
        done = int(step) - self._last_step
        if elapsed > 0 and done > 0:
            self.steps_per_sec = done / elapsed
            self.eta_seconds = max(0, self.total_steps - int(step)) / self.steps_per_sec
        else:
            self.steps_per_sec = float("nan")
            self.eta_seconds = 0.0 if step >= self.total_steps else float("nan")
        self._last_step, self._last_time = int(step), now

        width = len(str(self.total_steps))
        pct = int(100 * step / self.total_steps) if self.total_steps > 0 else 100
        rate = "?" if math.isnan(self.steps_per_sec) else f"{self.steps_per_sec:.2f}"
        parts = [
            f"step {int(step):>{width + 1}}/{self.total_steps} {pct:>3d}%",
            f"{rate} steps/s",
            f"ETA {format_duration(self.eta_seconds)}",
        ]
        if metrics:
            parts.append(format_metrics(metrics))
        return " | ".join(parts)
