"""Loss / metric curves over training steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from jaxgen.visualisation.grid import figure_to_array, new_figure


def plot_curves(
    series: Mapping[str, Sequence[tuple[int, float]]],
    title: str | None = None,
    hlines: Mapping[str, float] | None = None,
    xlabel: str = "step",
    ylabel: str | None = None,
    logy: bool = False,
    size_in: tuple[float, float] = (8.0, 4.5),
    logx: bool = False,
    markers: bool = False,
    legend_outside: bool = False,
) -> np.ndarray:
    """Plot one line per series of ``(step, value)`` points, e.g. from ``read_scalars``.

    Args:
      series: ``{name: [(step, value), ...]}``; empty series are skipped.
      title: Axes title.
      hlines: Labelled horizontal reference lines, e.g. ``{"H(c) = ln 10": 2.3026}``.
      xlabel, ylabel: Axis labels.
      logy: Use a logarithmic y axis.
      logx: Use a logarithmic x axis.
      markers: Mark each point (a series of one point shows only then).
      legend_outside: Put the legend right of the axes, where it hides no point.
      size_in: Figure size in inches (at 100 dpi).

    Returns:
      uint8 RGB array ``HxWx3``.
    """
    fig = new_figure(*size_in)
    ax = fig.add_subplot(1, 1, 1)
    for name, points in series.items():
        if len(points) == 0:
            continue
        steps, values = zip(*sorted(points, key=lambda p: p[0]))
        ax.plot(steps, values, label=name, linewidth=1.2, marker='o' if markers else None,
                markersize=4)
    for i, (label, y) in enumerate((hlines or {}).items()):
        ax.axhline(float(y), color=f"C{(i + len(series)) % 10}", linestyle="--", linewidth=1.0,
                   label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        if legend_outside:
            ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        else:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return figure_to_array(fig)
