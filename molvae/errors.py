"""Errors a user can cause and fix.

Every problem that comes from the user's input (a bad file, an unknown token, a checkpoint of the
wrong format) is raised as :class:`MolvaeError`. The CLI prints its message on one line and exits
with a non-zero status; anything else is a bug and keeps its traceback.
"""


class MolvaeError(Exception):
    """A user-facing error whose message says what is wrong and where."""


class InvalidMoleculeError(MolvaeError, ValueError):
    """A molecule string that cannot be parsed, tokenised or encoded."""
