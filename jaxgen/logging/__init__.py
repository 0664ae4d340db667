"""Metric logging: TensorBoard/JSON-lines writer (TensorFlow-free) and progress lines."""

from jaxgen.logging.progress import Progress, format_duration, format_metrics
from jaxgen.logging.writer import SummaryWriter, iter_events, read_images, read_scalars

__all__ = [
    "Progress",
    "SummaryWriter",
    "format_duration",
    "format_metrics",
    "iter_events",
    "read_images",
    "read_scalars",
]
