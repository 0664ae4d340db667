"""Errors that jaxgen reports to its users."""


class JaxgenError(Exception):
    """A user-facing error: its message is one line naming the problem and the fix."""


def is_number(value) -> bool:
    """An int or a float from a config, and not a bool (``True`` is an int in Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
