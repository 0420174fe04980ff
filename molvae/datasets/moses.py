"""The MOSES benchmark split (Polykovskiy et al. 2020) shipped in the project's ``data/moses`` folder."""

from __future__ import annotations

from pathlib import Path

from molvae.errors import MolvaeError

SPLITS = ("train", "test", "test_scaffolds")


def _data_roots() -> list[Path]:
    here = Path(__file__).resolve()
    return [here.parents[2] / "data" / "moses", here.parents[1] / "data" / "moses"]


def moses_path(split: str = "train") -> Path:
    """Path of one MOSES split (``train``, ``test`` or ``test_scaffolds``) as compressed CSV."""
    if split not in SPLITS:
        raise MolvaeError(f"unknown MOSES split {split!r}; choose one of: {', '.join(SPLITS)}")
    for root in _data_roots():
        candidate = root / f"{split}.csv.gz"
        if candidate.exists():
            return candidate
    raise MolvaeError(f"MOSES split {split!r} not found; expected data/moses/{split}.csv.gz "
                      "in the molvae source tree (install from a clone of the repository)")


def resolve_data_path(spec: str | Path) -> Path:
    """A user's ``--data`` value: ``moses`` or ``moses:SPLIT`` names the shipped split, else a path."""
    text = str(spec)
    if text == "moses":
        return moses_path("train")
    if text.startswith("moses:"):
        return moses_path(text.split(":", 1)[1])
    return Path(text)
