"""Image grids: plain uint8 tiling, labelled matplotlib grids, atomic PNG saving.

Matplotlib is used only through ``Figure`` + ``FigureCanvasAgg`` (never
``pyplot``), so no window is opened and the global backend is left untouched.
"""

from __future__ import annotations

import io
import math
import os
import uuid
from collections.abc import Sequence

import numpy as np
from etils import epath
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


def to_uint8(images: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Map floats from ``value_range`` linearly to 0..255 (clipped, rounded) as uint8."""
    lo, hi = value_range
    x = (np.asarray(images, dtype=np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _tile(images: np.ndarray, nrow: int, padding: int, pad_value: int) -> np.ndarray:
    """Tile uint8 ``[N, H, W, C]`` into ``nrow`` columns with a border on every side."""
    n, h, w, c = images.shape
    rows = max(1, math.ceil(n / nrow))
    out = np.full(
        (rows * h + (rows + 1) * padding, nrow * w + (nrow + 1) * padding, c), pad_value, np.uint8
    )
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        out[y : y + h, x : x + w] = images[i]
    return out


def _as_nhwc(images: np.ndarray) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim == 3:  # [N, H, W] greyscale
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"expected images [N, H, W, C] with C in (1, 3), got {arr.shape}")
    return arr


def image_grid(
    images: np.ndarray,
    nrow: int | None = None,
    padding: int = 2,
    value_range: tuple[float, float] = (-1.0, 1.0),
    pad_value: int = 255,
) -> np.ndarray:
    """Tile float images ``[N, H, W, C]`` (C = 1 or 3, or ``[N, H, W]``) into one uint8 image.

    Args:
      images: Float images with values in ``value_range``.
      nrow: Images per grid row (number of columns); default ``ceil(sqrt(N))``.
      padding: Border width in pixels, between cells and around the outside.
      value_range: Input range mapped to 0..255 (values outside are clipped).
      pad_value: Border / empty-cell grey level (white by default).

    Returns:
      ``HxW`` uint8 for greyscale input, ``HxWx3`` for colour.
    """
    arr = _as_nhwc(images)
    n = arr.shape[0]
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    grid = _tile(to_uint8(arr, value_range), nrow, padding, pad_value)
    return grid[..., 0] if grid.shape[-1] == 1 else grid


def save_png(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 ``HxW`` / ``HxWxC`` (C in 1, 3, 4) array as a PNG, through
    ``etils.epath`` (local or remote); a reader never sees a half-written file."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise TypeError(f"save_png expects uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    path = epath.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}.png"
    try:
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def new_figure(width_in: float, height_in: float, dpi: int = 100) -> Figure:
    """A pyplot-free Agg figure (safe in headless and threaded code)."""
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render a figure to a uint8 ``HxWx3`` RGB array."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def labelled_grid(
    images: np.ndarray,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    xlabel: str | None = None,
    ylabel: str | None = None,
    cell_px: int = 64,
) -> np.ndarray:
    """Draw a ``rows x cols`` array of images with row/column labels and a title.

    Args:
      images: Float array ``[rows, cols, H, W, C]`` (C = 1 or 3) in ``value_range``.
      row_labels, col_labels: Tick labels per row / column (e.g. categorical
        code values down the side, continuous code values along the top).
      title: Figure title.
      xlabel, ylabel: Optional axis captions (e.g. ``"c2 from -2 to 2"``).
      cell_px: Approximate on-screen size of each image cell in pixels.

    Returns:
      uint8 RGB array ``HxWx3``.
    """
    arr = np.asarray(images)
    if arr.ndim == 4:
        arr = arr[..., None]
    if arr.ndim != 5:
        raise ValueError(f"expected images [rows, cols, H, W, C], got {arr.shape}")
    rows, cols, h, w, c = arr.shape
    pad = max(1, h // 16)
    grid = _tile(to_uint8(arr.reshape(rows * cols, h, w, c), value_range), cols, pad, 255)
    zoom = cell_px / max(h, w)
    dpi = 100
    # Room for the longest row label (8 pt text, about 0.065 in per character).
    longest = max((len(str(s)) for s in row_labels), default=0) if row_labels is not None else 0
    left = max(0.9 if (row_labels is not None or ylabel) else 0.2,
               0.2 + 0.065 * longest + (0.3 if ylabel else 0.0))
    top = (0.3 if col_labels is not None else 0.1) + (0.35 if title else 0.0)
    bottom = 0.45 if xlabel else 0.15
    grid_w, grid_h = grid.shape[1] * zoom / dpi, grid.shape[0] * zoom / dpi
    fig_w, fig_h = grid_w + left + 0.2, grid_h + top + bottom
    # A title wider than the grid widens the figure on both sides (12 pt text: about
    # 0.09 in per character), so that it is never cut off.
    title_w = 0.09 * len(title) + 0.3 if title else 0.0
    if title_w > fig_w:
        left, fig_w = left + (title_w - fig_w) / 2, title_w
    fig = new_figure(fig_w, fig_h, dpi)
    ax = fig.add_axes((left / fig_w, bottom / fig_h, grid_w / fig_w, grid_h / fig_h))
    if c == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    centre = lambda i, size: pad + i * (size + pad) + (size - 1) / 2  # noqa: E731
    ax.set_xticks([centre(j, w) for j in range(cols)] if col_labels is not None else [])
    ax.set_yticks([centre(i, h) for i in range(rows)] if row_labels is not None else [])
    if col_labels is not None:
        # 8 pt, smaller (down to 5 pt) where the longest label is wider than a cell.
        widest = max((len(str(s)) for s in col_labels), default=1) * 0.065
        cell_w = (w + pad) * zoom / dpi
        ax.set_xticklabels([str(s) for s in col_labels],
                           fontsize=max(5.0, min(8.0, 8.0 * cell_w / max(widest, 1e-9))))
        ax.xaxis.tick_top()
    if row_labels is not None:
        ax.set_yticklabels([str(s) for s in row_labels], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        fig.suptitle(title, y=1 - 0.08 / fig_h, va="top")
    return figure_to_array(fig)
