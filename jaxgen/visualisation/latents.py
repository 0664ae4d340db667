"""Pictures of a 2-D latent space: encoded data coloured by label, and the
decoded manifold."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from jaxgen.visualisation.grid import figure_to_array, new_figure


def framed_title(title: str | None, codes: np.ndarray, lim: float) -> str:
    """``title`` and how many codes fall outside the frame ``[-lim, lim]^2``."""
    outside = int(np.sum(np.abs(codes).max(axis=1) > lim))
    return f'{title or ""}\n{outside} of {len(codes)} codes outside the frame'


def _draw(fig, ax, codes, labels, prior, title, lim=None) -> None:
    if lim is not None:  # a fixed frame; say how many codes fall outside it
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        title = framed_title(title, codes, lim)
    if prior is not None:
        ax.scatter(prior[:, 0], prior[:, 1], s=2, c='0.8', label='prior samples')
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=6)
    else:
        points = ax.scatter(codes[:, 0], codes[:, 1], s=6, c=np.asarray(labels), cmap='tab10',
                            vmin=-0.5, vmax=9.5)
        fig.colorbar(points, ax=ax, ticks=range(10), label='label')
    ax.set_aspect('equal')
    ax.set_xlabel('z1')
    ax.set_ylabel('z2')
    if title:
        ax.set_title(title, fontsize=9)


def latent_scatter(codes: np.ndarray, labels: np.ndarray | None = None,
                   prior: np.ndarray | None = None, title: str | None = None,
                   lim: float | None = None) -> np.ndarray:
    """Encoded examples ``[N, 2]`` coloured by label, over optional prior draws (grey);
    ``lim`` fixes the frame as in ``latent_panels``."""
    return latent_panels([(title, codes, labels, prior)], lims=[lim])


def latent_panels(panels: Sequence[tuple[str | None, np.ndarray, np.ndarray | None,
                                         np.ndarray | None]],
                  ncols: int | None = None,
                  lims: Sequence[float | None] | None = None) -> np.ndarray:
    """``latent_scatter`` for several ``(title, codes, labels, prior)`` side by side
    (each panel keeps its own axes: priors differ in scale). ``lims`` optionally
    fixes each panel's frame to ``[-lim, lim]^2``; its title then counts the codes
    outside it."""
    if not panels:
        raise ValueError('latent_panels needs at least one panel')
    ncols = min(ncols or len(panels), len(panels))
    nrows = -(-len(panels) // ncols)
    fig = new_figure(5.5 * ncols, 5.0 * nrows)
    lims = list(lims or [None] * len(panels))
    if len(lims) != len(panels):
        raise ValueError(f'latent_panels got {len(lims)} lims for {len(panels)} panels')
    for i, (title, codes, labels, prior) in enumerate(panels):
        _draw(fig, fig.add_subplot(nrows, ncols, i + 1), codes, labels, prior, title,
              lims[i])
    if len(panels) > 1:
        fig.tight_layout()
    return figure_to_array(fig)


def manifold_codes(size: int = 15, extent: float = 2.0) -> np.ndarray:
    """A ``size x size`` grid of 2-D codes over ``[-extent, extent]^2``, rows top to bottom."""
    values = np.linspace(-extent, extent, size, dtype=np.float32)
    zx, zy = np.meshgrid(values, values[::-1])
    return np.stack([zx.ravel(), zy.ravel()], axis=1)
