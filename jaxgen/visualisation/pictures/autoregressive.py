"""NADE, PixelCNN, PixelRNN pictures: 64 samples, and the paper's completions (the lower
half of test-like images drawn given their upper half)."""

from __future__ import annotations

import numpy as np

from jaxgen.models.gan.base import real_data
from jaxgen.visualisation.grid import image_grid
from jaxgen.visualisation.samples import render_samples

COMPLETIONS = 4  # per example: as many draws as samples, the samples' compiled program


def pictures(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """``samples``; with examples, ``completions``: each row an example, then
    ``COMPLETIONS`` draws of its lower half given its upper half. 64 draws of each
    with a fast sampler (NADE's, PixelCNN's cached one), 16 with the naive one (on a
    CPU a 28x28 Diagonal BiLSTM draws a few images a minute)."""
    num = 64 if model.fast_sampling else 16
    out = {'samples': render_samples(np.asarray(model.generate(variables, {'num': num}, key)),
                                     model.data_info)}
    if examples is None or not np.array_equal(model.order(), np.arange(model.num_dims)):
        return out  # (a NADE ordering other than raster has no upper-half prefix)
    x = np.asarray(real_data(examples))[:num // COMPLETIONS]
    drawn = np.asarray(model.complete_lower_half(variables, np.repeat(x, COMPLETIONS, 0), key))
    rows = np.concatenate([x[:, None], drawn.reshape(len(x), COMPLETIONS, *x.shape[1:])], 1)
    value_range = (0.0, 1.0) if model.data_info.get('scale') == 'unit' else (-1.0, 1.0)
    out['completions'] = image_grid(rows.reshape(-1, *x.shape[1:]), nrow=COMPLETIONS + 1,
                                    value_range=value_range)
    return out
