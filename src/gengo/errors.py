"""Errors that reach the user as one line."""


class GengoError(Exception):
    """A problem with the user's input or environment; printed without a traceback."""
