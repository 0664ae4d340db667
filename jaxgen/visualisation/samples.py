"""Model samples as one picture: an image grid, or a scatter over the true modes."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from jaxgen.visualisation.grid import image_grid
from jaxgen.visualisation.scatter import scatter_2d


def render_samples(samples: np.ndarray, data_info: Mapping[str, Any]) -> np.ndarray:
    """``[N, H, W, C]`` images become a grid; ``[N, 2]`` points a scatter plot."""
    samples = np.asarray(samples)
    if samples.ndim == 4:
        value_range = (0.0, 1.0) if data_info.get('scale') == 'unit' else (-1.0, 1.0)
        return image_grid(samples, nrow=math.ceil(math.sqrt(len(samples))),
                          value_range=value_range)
    centers = data_info.get('centers')
    return scatter_2d(samples, centers=None if centers is None else np.asarray(centers))
