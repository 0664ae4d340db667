"""Name -> implementation lookup for models, objectives and update rules.

A config names each piece (``model.name = 'dcgan'``); the piece lives in a module that
exposes ``build(...)``. Only the module asked for is imported, so one piece's optional
dependency never breaks another's lookup. Objectives and update rules are the modules
of their packages (``jaxgen/rules/alternating.py``); models are listed by name in
``jaxgen.models.MODELS``, since they live in subpackages by family.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Mapping

from jaxgen.errors import JaxgenError


def available(package: str) -> list[str]:
    """Names of the public modules of ``package``, without importing them."""
    pkg = importlib.import_module(package)
    return sorted(info.name for info in pkgutil.iter_modules(pkg.__path__)
                  if not info.name.startswith('_') and info.name != 'base')


def lookup_module(modules: Mapping[str, str], name: str, what: str) -> ModuleType:
    """The module ``modules[name]`` (imported now, alone), or a one-line error."""
    if name not in modules:
        raise JaxgenError(f'unknown {what} {name!r}; choose one of: {", ".join(sorted(modules))}')
    module = importlib.import_module(modules[name])
    if not hasattr(module, 'build'):
        raise JaxgenError(f'{what} {name!r} ({modules[name]}) defines no build(); choose one '
                          f'of: {", ".join(sorted(modules))}')
    return module


def lookup(package: str, name: str, what: str) -> ModuleType:
    """The module ``package.name``, or a one-line error listing the choices."""
    return lookup_module({n: f'{package}.{n}' for n in available(package)}, name, what)


def for_type(table: Mapping[str, str], obj: object):
    """``table`` maps class names to ``'module:function'``: the function registered for
    ``obj``'s class or its nearest base (imported now, alone), or None."""
    for cls in type(obj).__mro__:
        if cls.__name__ in table:
            module, _, name = table[cls.__name__].partition(':')
            return getattr(importlib.import_module(module), name)
    return None
