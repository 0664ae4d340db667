"""Metrics computed from samples, codes and data."""

from jaxgen.metrics.codes import code_correlations, hungarian_accuracy

__all__ = ['code_correlations', 'hungarian_accuracy']
