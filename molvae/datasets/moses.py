"""The MOSES benchmark split (Polykovskiy et al. 2020) shipped in the project's ``data/moses`` folder."""

from __future__ import annotations

from pathlib import Path

from molvae.errors import MolvaeError

SPLITS = ("train", "test", "test_scaffolds")
# ``molvae/data`` links to the repository's ``data/`` folder and ships inside the wheel; the folder
# itself is the fallback for a checkout made without symbolic links.
DATA_ROOTS = (Path(__file__).resolve().parents[1] / "data" / "moses",
              Path(__file__).resolve().parents[2] / "data" / "moses")


def moses_path(split: str = "train") -> Path:
    """Path of one MOSES split (``train``, ``test`` or ``test_scaffolds``) as compressed CSV."""
    if split not in SPLITS:
        raise MolvaeError(f"unknown MOSES split {split!r}; choose one of: {', '.join(SPLITS)}")
    for root in DATA_ROOTS:
        if (root / f"{split}.csv.gz").exists():
            return root / f"{split}.csv.gz"
    raise MolvaeError(f"MOSES split {split!r} not found at {DATA_ROOTS[0]}; reinstall molvae from its repository")


def resolve_data_path(spec: str | Path) -> Path:
    """A user's ``--data`` value: ``moses`` or ``moses:SPLIT`` names the shipped split, else a path."""
    text = str(spec)
    if text == "moses":
        return moses_path("train")
    if text.startswith("moses:"):
        return moses_path(text.split(":", 1)[1])
    return Path(text)
