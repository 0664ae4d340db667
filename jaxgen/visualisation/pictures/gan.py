"""GAN pictures: a sample grid (or a scatter over the true modes), and cgan's class rows."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxgen.data import kinds
from jaxgen.visualisation.grid import labelled_grid
from jaxgen.visualisation.samples import render_samples


def samples(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """64 samples as a grid for images; 2,500 as a scatter over the true modes for points.
    The picture of any bundle that registers none of its own."""
    del examples
    num = 2500 if kinds.kind(model.data_info) == 'points' else 64
    drawn = np.asarray(model.generate(variables, {'num': num}, key))
    return {'samples': render_samples(drawn, model.data_info)}


def class_rows(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """cgan: rows are the classes; columns the same noise z across rows."""
    del examples
    k, cols = model.num_classes, 10
    z = jnp.tile(model.sample_latent(key, cols), (k, 1))
    labels = jnp.repeat(jnp.arange(k), cols)
    images = np.asarray(model.decode(variables, z, labels))
    images = images.reshape(k, cols, *images.shape[1:])
    return {'samples': labelled_grid(images, row_labels=[f'y={i}' for i in range(k)],
                                     title='rows: class label y; columns: noise z',
                                     cell_px=40)}
