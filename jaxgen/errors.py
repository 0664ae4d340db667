"""Errors that jaxgen reports to its users."""


class JaxgenError(Exception):
    """A user-facing error: its message is one line naming the problem and the fix."""
