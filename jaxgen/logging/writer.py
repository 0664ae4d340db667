"""TensorBoard + JSON-lines metric writer that never imports TensorFlow.

TensorBoard event files are written with the pure-Python pieces of the
``tensorboard`` package (``RecordWriter`` and the bundled protos), the same
approach PyTorch's ``SummaryWriter`` takes. ``tensorboard.compat.tf`` resolves
lazily to the real ``tensorflow`` when it is installed; :func:`_use_tf_stub`
registers TensorBoard's own ``tensorboard.compat.notf`` marker so that it
resolves to the bundled stub instead, keeping training free of TensorFlow.

Files are opened through ``etils.epath``, so a log directory may be local or
remote (``gs://``); the event records are TensorBoard's own ``RecordWriter``
format written synchronously into one file per writer.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import sys
import time
import types
from collections.abc import Iterator, Mapping

import numpy as np
from etils import epath
from PIL import Image


def _use_tf_stub() -> None:
    """Make ``tensorboard.compat.tf`` resolve to TensorBoard's TF stub.

    This is TensorBoard's documented ``compat:no_tensorflow`` switch. It is a
    no-op if TensorFlow is already imported (it is then free to use).
    """
    if "tensorflow" not in sys.modules:
        sys.modules.setdefault(
            "tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf")
        )


_use_tf_stub()

from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

METRICS_FILE = "metrics.jsonl"


def _encode_png(image: np.ndarray) -> summary_pb2.Summary.Image:
    """Encode a uint8 ``HxW`` / ``HxWxC`` (C in 1, 3, 4) array as a Summary.Image."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(f"expected HxW or HxWxC with C in (1, 3, 4), got {arr.shape}")
    channels = 1 if arr.ndim == 2 else arr.shape[-1]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return summary_pb2.Summary.Image(
        height=arr.shape[0],
        width=arr.shape[1],
        colorspace=channels,
        encoded_image_string=buf.getvalue(),
    )


class SummaryWriter:
    """Writes scalars and images to TensorBoard event files and ``metrics.jsonl``.

    Args:
      logdir: Output directory (created lazily, on the first enabled write).
      enabled: If False every method is a no-op and nothing is created; use
        this on non-zero JAX processes.
    """

    def __init__(self, logdir: str | os.PathLike, enabled: bool = True):
        self.logdir = epath.Path(logdir)
        self.enabled = enabled
        self._events: RecordWriter | None = None
        self._jsonl: io.TextIOBase | None = None

    def _open(self) -> RecordWriter:
        if self._events is None:
            self.logdir.mkdir(parents=True, exist_ok=True)
            name = f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}"
            self._events = RecordWriter((self.logdir / name).open("wb"))
            self._events.write(event_pb2.Event(wall_time=time.time(),
                                               file_version="brain.Event:2").SerializeToString())
            self._jsonl = (self.logdir / METRICS_FILE).open("a")
        return self._events

    def _add(self, step: int, values: list[summary_pb2.Summary.Value]) -> None:
        event = event_pb2.Event(
            wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values)
        )
        self._open().write(event.SerializeToString())
        self._events.flush()

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Log scalar ``values`` (as TensorBoard ``simple_value``) at ``step``."""
        if not self.enabled or not values:
            return
        floats = {str(k): float(v) for k, v in values.items()}
        self._add(step, [summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in floats.items()])
        assert self._jsonl is not None
        self._jsonl.write(json.dumps({"step": int(step), **floats}) + "\n")
        self._jsonl.flush()

    def images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Log uint8 images (``HxW`` or ``HxWxC``, C in 1, 3, 4) as PNGs at ``step``."""
        if not self.enabled or not images:
            return
        self._add(step, [summary_pb2.Summary.Value(tag=str(k), image=_encode_png(v)) for k, v in images.items()])

    def flush(self) -> None:
        """Flush pending events to disk."""
        if self._events is not None:
            self._events.flush()
        if self._jsonl is not None:
            self._jsonl.flush()

    def close(self) -> None:
        """Flush and close the files; later writes reopen a new event file."""
        if self._events is not None:
            self._events.close()
            self._events = None
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _iter_records(path: epath.Path) -> Iterator[bytes]:
    """Yield the payloads of a TFRecord file (CRCs unchecked; a torn tail is skipped)."""
    with epath.Path(path).open("rb") as f:
        while True:
            header = f.read(12)
            if len(header) < 12:
                return
            (length,) = struct.unpack("<Q", header[:8])
            data = f.read(length)
            if len(data) < length or len(f.read(4)) < 4:
                return
            yield data


def _file_order(path: str) -> tuple:
    """Oldest first: by the wall time of the file's first event, then by the name's
    numbers compared as numbers (``...pid.10`` after ``...pid.9``)."""
    first = next(_iter_records(path), None)
    wall = event_pb2.Event.FromString(first).wall_time if first is not None else float("inf")
    name = epath.Path(path).name
    return (wall, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in name.split(".")))


def iter_events(logdir: str) -> Iterator[event_pb2.Event]:
    """Yield every ``Event`` from the event files in ``logdir``, oldest file first."""
    logdir = epath.Path(logdir)
    paths = list(logdir.glob("events.out.tfevents.*")) if logdir.is_dir() else []
    for path in sorted(paths, key=_file_order):
        for record in _iter_records(path):
            yield event_pb2.Event.FromString(record)


def read_scalars(logdir: str) -> dict[str, list[tuple[int, float]]]:
    """Read scalar series ``{tag: [(step, value), ...]}`` sorted by step.

    If a step was logged more than once (e.g. after resuming), the last value wins.
    """
    series: dict[str, dict[int, float]] = {}
    for event in iter_events(logdir):
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                series.setdefault(value.tag, {})[int(event.step)] = float(value.simple_value)
    return {tag: sorted(points.items()) for tag, points in series.items()}


def read_images(logdir: str) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Read logged images ``{tag: [(step, uint8 array), ...]}`` in write order."""
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for event in iter_events(logdir):
        for value in event.summary.value:
            if value.WhichOneof("value") == "image":
                img = np.asarray(Image.open(io.BytesIO(value.image.encoded_image_string)))
                out.setdefault(value.tag, []).append((int(event.step), img))
    return out
