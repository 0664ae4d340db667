"""Headless (Agg, pyplot-free) visualisation helpers returning uint8 RGB arrays."""

from jaxgen.visualisation.curves import plot_curves
from jaxgen.visualisation.grid import (
    figure_to_array,
    image_grid,
    labelled_grid,
    save_png,
    to_uint8,
)
from jaxgen.visualisation.scatter import scatter_2d, scatter_panels

__all__ = [
    "figure_to_array",
    "image_grid",
    "labelled_grid",
    "plot_curves",
    "save_png",
    "scatter_2d",
    "scatter_panels",
    "to_uint8",
]
