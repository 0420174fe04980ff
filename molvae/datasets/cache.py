"""Where molvae keeps work it can reuse (prepared datasets, reference statistics), keyed by content."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir() -> Path:
    """Folder for cached data: ``$MOLVAE_CACHE`` or ``~/.cache/molvae``."""
    return Path(os.environ.get("MOLVAE_CACHE") or Path.home() / ".cache" / "molvae")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes: a cache key that changes whenever the file does."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
