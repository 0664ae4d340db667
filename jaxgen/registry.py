"""Name -> implementation lookup for models, objectives and update rules.

A config names each piece (``model.name = 'dcgan'``); the piece lives in the
module of that name inside its package (``jaxgen/models/dcgan.py``) and
exposes ``build(...)``. Adding a variant is adding a file: nothing else,
the trainer included, needs an edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from jaxgen.errors import JaxgenError


def available(package: str) -> list[str]:
    """Names of the modules in ``package`` that define ``build``."""
    pkg = importlib.import_module(package)
    names = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith('_'):
            continue
        module = importlib.import_module(f'{package}.{info.name}')
        if hasattr(module, 'build'):
            names.append(info.name)
    return sorted(names)


def lookup(package: str, name: str, what: str) -> ModuleType:
    """The module ``package.name``, or a one-line error listing the choices."""
    choices = available(package)
    if name not in choices:
        raise JaxgenError(
            f'unknown {what} {name!r}; choose one of: {", ".join(choices)}')
    return importlib.import_module(f'{package}.{name}')
