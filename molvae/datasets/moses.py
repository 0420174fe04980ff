"""The MOSES benchmark split (Polykovskiy et al. 2020) shipped in the project's ``data/moses`` folder."""

from __future__ import annotations

from pathlib import Path

from molvae.errors import MolvaeError

SPLITS = ("train", "test", "test_scaffolds")
DATA_ROOT = Path(__file__).resolve().parents[1] / "data" / "moses"
"""``molvae/data`` links to the repository's ``data/`` folder and ships inside the wheel."""


def moses_path(split: str = "train") -> Path:
    """Path of one MOSES split (``train``, ``test`` or ``test_scaffolds``) as compressed CSV."""
    if split not in SPLITS:
        raise MolvaeError(f"unknown MOSES split {split!r}; choose one of: {', '.join(SPLITS)}")
    path = DATA_ROOT / f"{split}.csv.gz"
    if not path.exists():
        raise MolvaeError(f"MOSES split {split!r} not found at {path}; reinstall molvae from its repository")
    return path


def resolve_data_path(spec: str | Path) -> Path:
    """A user's ``--data`` value: ``moses`` or ``moses:SPLIT`` names the shipped split, else a path."""
    text = str(spec)
    if text == "moses":
        return moses_path("train")
    if text.startswith("moses:"):
        return moses_path(text.split(":", 1)[1])
    return Path(text)
