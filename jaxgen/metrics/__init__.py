"""Metrics computed from samples, codes, features and data."""

from jaxgen.metrics.codes import code_correlations, hungarian_accuracy
from jaxgen.metrics.distances import (GaussianStats, frechet_distance, gaussian_mmd2,
                                      gaussian_stats, kernel_inception_distance)
from jaxgen.metrics.manifold import precision_recall
from jaxgen.metrics.scores import classifier_score

__all__ = ['GaussianStats', 'classifier_score', 'code_correlations', 'frechet_distance',
           'gaussian_mmd2', 'gaussian_stats', 'hungarian_accuracy', 'kernel_inception_distance',
           'precision_recall']
