"""Errors a user can cause and fix.

Every problem that comes from the user's input (a bad file, an unknown token, a checkpoint of the
wrong format) is raised as :class:`MolvaeError`. The CLI prints its message on one line and exits
with a non-zero status; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MolvaeError(Exception):
    """A user-facing error whose message says what is wrong and where."""


class InvalidMoleculeError(MolvaeError, ValueError):
    """A molecule string that cannot be parsed, tokenised or encoded."""


def match_name(name: str, choices: Iterable[str], what: str, also: str = "") -> str:
    """``name`` as one of ``choices``: exactly, or ignoring case where that picks a single choice
    (``qed`` is ``QED``). Otherwise a :class:`MolvaeError` that suggests the closest choice and lists
    them all (``also`` is appended to that list: forms that are not plain names)."""
    choices = list(choices)
    if name in choices:
        return name
    folded = [c for c in choices if c.lower() == str(name).lower()]
    if len(folded) == 1:
        return folded[0]
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f"; did you mean {by_lower[close[0]]!r}?" if close else ""
    listed = ", ".join(choices) or "none"
    raise MolvaeError(f"unknown {what} {name!r}{hint}; available: {listed}{also}")
