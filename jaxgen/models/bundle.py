"""The model bundle: what a model file's ``build(model_config, data_info)`` returns,
and all the trainer ever sees of a model.

A bundle is any object with the members of :class:`Bundle` (a structural
``typing.Protocol``: no base class to inherit). Pictures and evaluation are not
part of a model file: they plug in from outside, looked up by the bundle's type
(``jaxgen.visualisation.pictures``, ``jaxgen.metrics.own``), so model
files import neither ``jaxgen.visualisation`` nor ``jaxgen.metrics``.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

import jax
import numpy as np

from jaxgen.errors import JaxgenError

Variables = Mapping[str, Any]
# What generation starts from: {'num': n} alone draws n unconditional samples; a
# conditional model also reads its own inputs, e.g. {'label': y} (cgan), the codes
# {'z', 'cat', 'cont'} (InfoGAN), {'z': z} (a chosen latent), or, for translation
# models, {'image': x}. Inputs that are arrays share their leading (batch) axis.
Inputs = Mapping[str, Any]


@runtime_checkable
class Bundle(Protocol):
    """The model bundle contract (see docs/ARCHITECTURE.md, Models)."""

    data_info: Mapping[str, Any]

    @property
    def players(self) -> Mapping[str, Any]:
        """The named Linen modules that get parameters (and, by default, an optimizer)."""

    def init(self, key: jax.Array) -> dict[str, Variables]:
        """Each player's Linen variables."""

    def forward(self, variables: Mapping[str, Variables], batch: Mapping[str, jax.Array],
                key: jax.Array, train: bool = True) -> tuple[dict, dict]:
        """One pass of the whole model: named outputs and each player's new model state."""

    def generate(self, variables: Mapping[str, Variables], inputs: Inputs,
                 key: jax.Array) -> jax.Array:
        """Draws in eval mode from ``inputs`` (unconditional: ``{'num': n}``)."""


def check_inputs(inputs: Inputs, allowed: tuple[str, ...], model: str) -> int:
    """The number of draws ``inputs`` asks for; a one-line error for an input the
    model does not read, for no input at all, or for inputs that disagree."""
    unknown = sorted(set(inputs) - {'num', *allowed})
    if unknown:
        raise JaxgenError(f'{model} generates from {", ".join(("num", *allowed))}; it does '
                          f'not read {", ".join(unknown)}')
    sizes = {int(np.shape(v)[0]) for k, v in inputs.items() if k != 'num'}
    if 'num' in inputs:
        sizes.add(int(inputs['num']))
    if len(sizes) != 1:
        raise JaxgenError(f'{model}: the inputs {sorted(inputs)} ask for different numbers '
                          f'of draws ({sorted(sizes)})' if sizes else
                          f'{model}: say how many draws, e.g. inputs={{"num": 64}}')
    (num,) = sizes
    if num < 1:
        raise JaxgenError(f'{model}: the number of draws must be at least 1, got {num}')
    return num


def translates(model) -> bool:
    """Whether ``model`` translates given images (pix2pix, CycleGAN, StarGAN: it names
    its ``targets``) instead of drawing samples from nothing."""
    return hasattr(model, 'targets') and hasattr(model, 'inputs_for')


def unconditional(inputs: Inputs) -> bool:
    """Whether ``inputs`` only says how many draws."""
    return set(inputs) == {'num'}
