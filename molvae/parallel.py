"""Worker processes for RDKit work (validation, properties, metrics)."""

from __future__ import annotations

import multiprocessing


def worker_context():
    """fork where the platform has it (workers start at once and re-import nothing; they run RDKit
    only, never torch), else spawn."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)
