"""The pictures the trainer logs for a model, plugged in from outside the model files.

``PICTURES`` maps a bundle's class name (or a base class's) to the function that
draws its pictures, ``pictures(model, variables, key, examples) -> {name: uint8
image}``; ``examples`` is a fixed batch of data (for reconstructions). A bundle
with no entry gets a method of its own named ``pictures`` if it has one, and else
a grid (or a scatter, for points) of its unconditional samples.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import numpy as np

from jaxgen import registry
from jaxgen.visualisation.pictures import gan

PICTURES = {
    'GAN': 'jaxgen.visualisation.pictures.gan:samples',
    'ConditionalGAN': 'jaxgen.visualisation.pictures.gan:class_rows',
    'InfoGAN': 'jaxgen.visualisation.pictures.infogan:pictures',
    'VAE': 'jaxgen.visualisation.pictures.autoencoders:vae_pictures',
    'AAE': 'jaxgen.visualisation.pictures.autoencoders:aae_pictures',
    'Pix2Pix': 'jaxgen.visualisation.pictures.translation:triplets',
    'CycleGAN': 'jaxgen.visualisation.pictures.translation:cycles',
    'StarGAN': 'jaxgen.visualisation.pictures.translation:domains',
    'Autoregressive': 'jaxgen.visualisation.pictures.autoregressive:pictures',
    'ProGAN': 'jaxgen.visualisation.pictures.progressive:progan',
    'StyleGAN': 'jaxgen.visualisation.pictures.progressive:stylegan',
    'Text2Image': 'jaxgen.visualisation.pictures.text2image:pictures',
    'PuzzleGAN': 'jaxgen.visualisation.pictures.puzzlegan:parts_to_image',
}


def for_model(model) -> Callable:
    """``draw(model, variables, key, examples=None)`` for ``model``'s pictures."""
    draw = registry.for_type(PICTURES, model)
    if draw is not None:
        return draw
    if callable(getattr(model, 'pictures', None)):
        return lambda m, variables, key, examples=None: m.pictures(variables, key, examples)
    return gan.samples


def pictures(model, variables, key: jax.Array,
             examples: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """``model``'s named uint8 pictures."""
    return for_model(model)(model, variables, key, examples)
