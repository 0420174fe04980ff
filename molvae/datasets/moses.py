"""The MOSES benchmark split (Polykovskiy et al. 2020) shipped in the project's ``data/moses`` folder."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from molvae.datasets.cache import file_sha256
from molvae.errors import MolvaeError

log = logging.getLogger(__name__)

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


CONDITIONS_FILE = "train_conditions.npz"
SHIPPED_CONDITIONS = ("logP", "QED", "SA")


def shipped_conditions(path: str | Path, names: Sequence[str], rows: int | None = None
                       ) -> dict[str, np.ndarray] | None:
    """logP, QED and SA of the first ``rows`` molecules (all by default) of the shipped MOSES training
    split, computed once with :mod:`molvae.chem.properties` and shipped beside it (float32, written
    by ``data/build_conditions.py``), so training and the exemplar prior need not compute them
    again. None when ``path`` is not that split, a name is not shipped, or the file is unusable."""
    wanted = list(names)
    if not wanted or not set(wanted) <= set(SHIPPED_CONDITIONS):
        return None
    try:
        train = moses_path("train")
    except MolvaeError:
        return None
    if Path(path).resolve() != train.resolve() or not (train.parent / CONDITIONS_FILE).is_file():
        return None
    values = _conditions_file(str(train.parent / CONDITIONS_FILE), str(train))
    if values is None:
        return None
    return {name: values[name][:rows] for name in wanted}


@cache
def _conditions_file(path: str, train: str) -> dict[str, np.ndarray] | None:
    """The shipped values, when the file is readable and was computed from this very split file."""
    try:
        with np.load(path) as arrays:
            if str(arrays["source_sha256"]) != file_sha256(train):
                log.warning("ignoring the shipped conditions %s: they belong to another training file", path)
                return None
            return {name: arrays[name].astype(np.float64) for name in SHIPPED_CONDITIONS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        log.warning("ignoring the shipped conditions %s: %s", path, err)
        return None
