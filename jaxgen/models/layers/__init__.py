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

import contextlib
import functools
from typing import Any, Iterator, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.models.layers.conv import cpu_speedups_enabled

# PyTorch's BatchNorm momentum 0.1 is Flax's 0.9: GAN generators move fast, so
# the running averages used for sampling must follow them closely.
BatchNorm = functools.partial(nn.BatchNorm, momentum=0.9, epsilon=1e-5)


_COMPUTE_DTYPE: list = []  # innermost compute_dtype() setting last


@contextlib.contextmanager
def compute_dtype(dtype) -> Iterator[None]:
    """Within this context (at trace time), :func:`apply` computes in ``dtype``.

    Mixed precision for any model: parameters and floating inputs are cast to
    ``dtype`` on the way into a player's module, floating outputs back to
    float32 on the way out, and BatchNorm averages keep their own dtype; the
    float32 parameters receive float32 gradients through the casts.
    """
    _COMPUTE_DTYPE.append(jnp.dtype(dtype))
    try:
        yield
    finally:
        _COMPUTE_DTYPE.pop()


def _cast(tree: Any, dtype) -> Any:
    return jax.tree.map(lambda x: x.astype(dtype) if hasattr(x, 'dtype') and
                        jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != dtype
                        else x, tree)


def apply(module: nn.Module, variables: Mapping[str, Any], *args: Any,
          train: bool, **kwargs: Any) -> tuple[Any, dict]:
    """Applies ``module``; returns ``(output, new_model_state)``.

    ``variables`` holds ``params`` and any other collections; the returned
    model state holds the non-``params`` collections, updated in train mode.
    Inside :func:`compute_dtype` the module computes in that dtype.
    """
    if _COMPUTE_DTYPE and _COMPUTE_DTYPE[-1] != jnp.float32:
        low = _COMPUTE_DTYPE[-1]
        state = {k: v for k, v in variables.items() if k != 'params'}
        lowered = {**variables, 'params': _cast(variables['params'], low)}
        _COMPUTE_DTYPE.append(jnp.dtype(jnp.float32))  # no recursion into the cast
        try:
            out, new_state = apply(module, lowered, *_cast(args, low), train=train,
                                   **_cast(kwargs, low))
        finally:
            _COMPUTE_DTYPE.pop()
        new_state = jax.tree.map(lambda new, old: new.astype(old.dtype), new_state, state)
        return _cast(out, jnp.float32), new_state
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


def compiled(*static_argnums: int):
    """Decorator: a model method (``init``, ``sample``) runs as one compiled program.

    Called eagerly, a Linen ``init`` or ``apply`` dispatches op by op, and JAX
    compiles every operation of every layer on its own: seconds on a CPU for a
    program that compiles whole in a fraction of that. The compiled function is
    kept per model object, compute dtype and ``conv.cpu_speedups`` setting (both
    read at trace time: a program traced under one must not serve another);
    ``static_argnums`` count the method's arguments after ``self`` (e.g. a
    sample count; passed by keyword they stay static). Inside a trace the call
    nests in the caller's program.
    """
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            dtype = _COMPUTE_DTYPE[-1] if _COMPUTE_DTYPE else jnp.dtype(jnp.float32)
            cache = self.__dict__.setdefault('_compiled', {})  # frozen dataclasses too
            key = (method.__qualname__, str(dtype), cpu_speedups_enabled())
            if key not in cache:
                cache[key] = jax.jit(functools.partial(method, self),
                                     static_argnums=static_argnums)
            return cache[key](*args, **kwargs)
        return wrapper
    return decorate
