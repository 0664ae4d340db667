"""Headless (Agg, pyplot-free) visualisation helpers returning uint8 RGB arrays."""

from jaxgen.visualisation.curves import plot_curves
from jaxgen.visualisation.grid import (
    figure_to_array,
    image_grid,
    labelled_grid,
    save_png,
    to_uint8,
)
from jaxgen.visualisation.latents import latent_panels, latent_scatter, manifold_codes
from jaxgen.visualisation.samples import render_samples
from jaxgen.visualisation.scatter import scatter_2d, scatter_panels
from jaxgen.visualisation.training import training_curves

__all__ = [
    "figure_to_array",
    "image_grid",
    "labelled_grid",
    "latent_panels",
    "latent_scatter",
    "manifold_codes",
    "plot_curves",
    "render_samples",
    "save_png",
    "scatter_2d",
    "scatter_panels",
    "to_uint8",
    "training_curves",
]
