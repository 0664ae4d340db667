"""How well a model's latent codes match known factors (InfoGAN's evaluation).

* ``hungarian_accuracy``: classify with an unsupervised code, map code values to
  labels by the best one-to-one assignment (Hungarian matching), report the
  accuracy. Chen et al. (2016) report 5% error for InfoGAN's Cat(10) on MNIST.
* ``code_correlations``: Pearson correlation between sampled continuous codes
  and the recognition network's estimates of them.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def hungarian_matching(predicted: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, dict]:
    """``(counts, mapping)``: ``counts[c, l]`` test items with cluster id ``c`` and label
    ``l``, and the one-to-one ``{c: l}`` map with the most items on its pairs."""
    predicted = np.asarray(predicted, np.int64).ravel()
    labels = np.asarray(labels, np.int64).ravel()
    if predicted.shape != labels.shape or predicted.size == 0:
        raise ValueError(f'need two equal, non-empty label arrays, got {predicted.shape} '
                         f'and {labels.shape}')
    size = int(max(predicted.max(), labels.max())) + 1
    counts = np.zeros((size, size), np.int64)
    np.add.at(counts, (predicted, labels), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return counts, dict(zip(rows.tolist(), cols.tolist()))


def hungarian_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of ``predicted`` cluster ids under the best one-to-one map to ``labels``."""
    counts, mapping = hungarian_matching(predicted, labels)
    return float(sum(counts[c, l] for c, l in mapping.items()) / counts.sum())


def code_correlations(codes: np.ndarray, estimates: np.ndarray) -> list[float]:
    """Pearson r between each column of ``codes`` and of ``estimates`` (``[N, D]``)."""
    codes, estimates = np.asarray(codes, np.float64), np.asarray(estimates, np.float64)
    out = []
    for j in range(codes.shape[1]):
        a, b = codes[:, j] - codes[:, j].mean(), estimates[:, j] - estimates[:, j].mean()
        denom = np.sqrt((a * a).sum() * (b * b).sum())
        out.append(float((a * b).sum() / denom) if denom > 0 else 0.0)
    return out
