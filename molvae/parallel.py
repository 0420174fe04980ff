"""Worker processes for RDKit work (validation, properties, metrics)."""

from __future__ import annotations

import multiprocessing
import os


def worker_context():
    """fork where the platform has it (workers start at once and re-import nothing; they run RDKit
    only, never torch), else spawn."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


WORKER_NICENESS = 5


def yield_to_decoding() -> None:
    """Pool initializer: lower the worker's scheduling priority a little, so that the process feeding
    it (decoding molecules, a single thread) keeps a whole core while the workers share what is left.
    With every process at one priority, decoding got two thirds of a core beside two busy workers
    and became the whole command's critical path."""
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # no nice() on this platform, or not allowed: run as is
        pass
