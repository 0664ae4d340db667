"""2-D scatter plots of generated samples vs. mixture centres (mode-collapse views)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from jaxgen.visualisation.grid import figure_to_array, new_figure

Limits = tuple[float, float, float, float]


def _points(x: np.ndarray | None) -> np.ndarray | None:
    if x is None:
        return None
    arr = np.asarray(x, dtype=np.float32).reshape(-1, 2)
    return arr[np.all(np.isfinite(arr), axis=1)]


def _limits(
    samples: Sequence[np.ndarray], centers: np.ndarray | None, real: np.ndarray | None,
    lim: float | None,
) -> Limits:
    """Square axis limits: ``[-lim, lim]^2``, else from the reference points with a margin.

    Reference points are the centres and real data when given (so wild early
    samples do not squash the plot), otherwise the generated samples.
    """
    if lim is not None:
        return (-lim, lim, -lim, lim)
    refs = [p for p in (centers, real) if p is not None and len(p)]
    if not refs:
        refs = [s for s in samples if len(s)]
    if not refs:
        return (-1.0, 1.0, -1.0, 1.0)
    pts = np.concatenate(refs)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 0.5)
    half *= 1.2 if real is not None else 1.3
    return (mid[0] - half, mid[0] + half, mid[1] - half, mid[1] + half)


def _draw(
    ax: Axes, samples: np.ndarray, centers: np.ndarray | None, real: np.ndarray | None,
    title: str | None, limits: Limits, point_size: float,
) -> None:
    if real is not None and len(real):
        ax.scatter(real[:, 0], real[:, 1], s=point_size, c="0.6", alpha=0.3, linewidths=0, label="real")
    if len(samples):
        ax.scatter(samples[:, 0], samples[:, 1], s=point_size, c="tab:blue", alpha=0.6,
                   linewidths=0, label="generated")
    if centers is not None and len(centers):
        ax.scatter(centers[:, 0], centers[:, 1], s=50, c="red", marker="x", linewidths=1.5,
                   label="centres")
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=10)


def scatter_2d(
    samples: np.ndarray,
    centers: np.ndarray | None = None,
    real: np.ndarray | None = None,
    title: str | None = None,
    lim: float | None = None,
    size_in: float = 4.0,
    point_size: float = 4.0,
) -> np.ndarray:
    """Scatter generated 2-D ``samples`` (blue dots) with mixture ``centers`` (red crosses).

    Args:
      samples: Generated points ``[N, 2]``.
      centers: True mixture centres ``[K, 2]``.
      real: Optional real samples ``[M, 2]``, drawn as faint grey dots.
      title: Axes title.
      lim: Axis limits ``[-lim, lim]``; default from the data with a margin.
      size_in: Figure side in inches (at 100 dpi).

    Returns:
      uint8 RGB array ``HxWx3``.
    """
    return scatter_panels([(title or "", samples)], centers, real=real, lim=lim,
                          size_in=size_in, point_size=point_size)


def scatter_panels(
    panels: Sequence[tuple[str, np.ndarray]],
    centers: np.ndarray | None = None,
    real: np.ndarray | None = None,
    lim: float | None = None,
    suptitle: str | None = None,
    ncols: int | None = None,
    size_in: float = 3.0,
    point_size: float = 3.0,
) -> np.ndarray:
    """Render several ``(title, samples)`` scatter panels side by side in one image.

    All panels share the same axis limits, so e.g. ``[('step 0', s0),
    ('step 1000', s1), ...]`` shows modes appearing or collapsing over training.
    ``ncols`` (default: all in one row) wraps panels onto several rows.

    Returns:
      uint8 RGB array ``HxWx3``.
    """
    if not panels:
        raise ValueError("scatter_panels needs at least one panel")
    pts = [_points(s) for _, s in panels]
    centers, real = _points(centers), _points(real)
    limits = _limits(pts, centers, real, lim)
    ncols = min(ncols or len(panels), len(panels))
    nrows = -(-len(panels) // ncols)
    extra = 0.4 if suptitle else 0.0
    fig = new_figure(size_in * ncols, size_in * nrows + extra)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(panels):
            _draw(ax, pts[i], centers, real, panels[i][0] or None, limits, point_size)
        else:
            ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return figure_to_array(fig)
