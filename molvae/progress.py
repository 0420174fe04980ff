"""Progress bars for long calls (sampling, encoding, evaluation, optimisation).

A bar shows only for work of at least ``min_total`` items, only when stderr is a terminal, and not
after :func:`disable` (the CLI's ``--no-progress``), so scripts, logs and tests stay clean.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized

from tqdm.auto import tqdm

_enabled = True


def disable() -> None:
    """No progress bars from now on in this process."""
    global _enabled
    _enabled = False


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "", unit: str = "mol",
             min_total: int = 5000) -> tqdm:
    """A tqdm bar over ``iterable`` (or one to ``update`` by hand up to ``total``)."""
    size = total if total is not None else len(iterable) if isinstance(iterable, Sized) else 0
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True,
                disable=None if wanted(size, min_total) else True)  # None: tqdm shows it on a terminal only


def wanted(size: int, min_total: int = 5000) -> bool:
    """Whether work of ``size`` items gets a bar (on a terminal): large enough, and bars not disabled."""
    return _enabled and size >= min_total
