"""Small helpers shared by the model files.

``apply`` runs a Linen module over one player's variables in train or eval
mode, handling mutable collections (BatchNorm's ``batch_stats``) so that model
code never repeats that bookkeeping:

* train mode: batch statistics normalise, the running averages are updated and
  returned as the player's new model state;
* eval mode (sampling, evaluation): the running averages normalise and the
  state is returned unchanged.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import flax.linen as nn

# PyTorch's BatchNorm momentum 0.1 is Flax's 0.9: GAN generators move fast, so
# the running averages used for sampling must follow them closely.
BatchNorm = functools.partial(nn.BatchNorm, momentum=0.9, epsilon=1e-5)


def apply(module: nn.Module, variables: Mapping[str, Any], *args: Any,
          train: bool, **kwargs: Any) -> tuple[Any, dict]:
    """Applies ``module``; returns ``(output, new_model_state)``.

    ``variables`` holds ``params`` and any other collections; the returned
    model state holds the non-``params`` collections, updated in train mode.
    """
    state = {k: v for k, v in variables.items() if k != 'params'}
    if train and state:
        out, new_state = module.apply(dict(variables), *args, train=True,
                                      mutable=list(state), **kwargs)
        return out, dict(new_state)
    return module.apply(dict(variables), *args, train=train, **kwargs), state


def split_variables(variables: Mapping[str, Any]) -> tuple[Any, dict]:
    """Splits Linen variables into ``(params, model_state)``."""
    state = {k: v for k, v in variables.items() if k != 'params'}
    return variables['params'], state


def join_variables(params: Any, state: Mapping[str, Any]) -> dict:
    """The inverse of ``split_variables``."""
    return {'params': params, **state}
