"""Errors that jaxgen reports to its users."""

import traceback

from absl import logging


class JaxgenError(Exception):
    """A user-facing error: its message is one line naming the problem and the fix."""


def is_number(value) -> bool:
    """An int or a float from a config, and not a bool (``True`` is an int in Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def first_line(error: BaseException) -> str:
    """``'TypeName: first line of its message'`` for a one-line ``JaxgenError`` that
    wraps ``error``; the whole traceback goes to the debug log (``--verbosity=1``)."""
    logging.debug('%s', traceback.format_exc())
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"
