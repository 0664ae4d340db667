"""Metrics computed from samples, codes, features and data."""

from jaxgen.metrics.codes import code_correlations, hungarian_accuracy
from jaxgen.metrics.distances import (GaussianStats, frechet_distance, gaussian_mmd2,
                                      gaussian_stats, kernel_inception_distance)
from jaxgen.metrics.diversity import lpips_diversity, unconditional_diversity
from jaxgen.metrics.lpips import domain_lpips_distance, lpips_distance
from jaxgen.metrics.manifold import precision_recall
from jaxgen.metrics.ppl import perceptual_path_length
from jaxgen.metrics.scores import classifier_score
from jaxgen.metrics.swd import swd as sliced_wasserstein_distance

__all__ = ['GaussianStats', 'classifier_score', 'code_correlations', 'domain_lpips_distance',
           'frechet_distance', 'gaussian_mmd2', 'gaussian_stats', 'hungarian_accuracy',
           'kernel_inception_distance', 'lpips_distance', 'lpips_diversity',
           'perceptual_path_length', 'precision_recall', 'sliced_wasserstein_distance',
           'unconditional_diversity']
