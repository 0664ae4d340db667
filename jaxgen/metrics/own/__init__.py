"""A model's own metrics on the test split, plugged in from outside the model files.

``EVALUATIONS`` maps a bundle's class name (or a base class's) to a function
``evaluation(model)`` that returns ``evaluate(variables, test_arrays, key,
**settings) -> {name: float}`` for that model and its data, or None when there is
nothing to measure (a GAN on images has no metric of its own; the distribution
metrics of ``jaxgen.metrics.suite`` serve every image model). A bundle with no
entry is evaluated by a method of its own named ``evaluate``, if it has one.
"""

from __future__ import annotations

from typing import Callable

from jaxgen import registry

EVALUATIONS = {
    'GAN': 'jaxgen.metrics.own.gan:evaluation',
    'InfoGAN': 'jaxgen.metrics.own.infogan:evaluation',
    'VAE': 'jaxgen.metrics.own.vae:evaluation',
    'Autoregressive': 'jaxgen.metrics.own.autoregressive:evaluation',
    'Text2Image': 'jaxgen.metrics.own.text2image:evaluation',
    'PuzzleGAN': 'jaxgen.metrics.own.puzzlegan:evaluation',
}


def for_model(model) -> Callable | None:
    """``evaluate(variables, test_arrays, key, **settings)`` for ``model``, or None."""
    evaluation = registry.for_type(EVALUATIONS, model)
    if evaluation is not None:
        return evaluation(model)
    return getattr(model, 'evaluate', None)
