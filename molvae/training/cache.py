"""Prepared training data cached on disk, so a second run on the same file skips RDKit entirely.

Validating, canonicalising and tokenising the 1.58 M MOSES training molecules (and computing their
condition properties) takes many CPU-minutes; the result depends only on the file's bytes and the
preparation settings, so it is stored under a key made of both (plus the RDKit and selfies versions,
which can change canonical forms). Tokens are kept flat: a memory-mapped array of ids into the
file's own token table and an array of offsets, read back in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
import selfies

from molvae.datasets.cache import cache_dir, file_sha256
from molvae.featurizers.graph import GraphTable
from molvae.training.data import PreparedData

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


class TokenTable(Sequence):
    """Token lists of many molecules stored flat; ``table[i]`` is molecule i's list of tokens."""

    def __init__(self, tokens: Sequence[str], ids: np.ndarray, offsets: np.ndarray):
        self.tokens = np.asarray(tokens, dtype=object)
        self.ids, self.offsets = ids, offsets

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[str]]) -> TokenTable:
        index: dict[str, int] = {}
        flat = [index.setdefault(t, len(index)) for tokens in lists for t in tokens]
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([len(tokens) for tokens in lists], out=offsets[1:])
        return cls(list(index), np.asarray(flat, dtype=np.int16 if len(index) < 2**15 else np.int32), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):  # one molecule's tokens (slices are not needed by the training path)
        return self.tokens[self.ids[self.offsets[i]:self.offsets[i + 1]]].tolist()

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def prepared_key(path: Path, settings: dict) -> str:
    """Cache key: the data file's SHA-256, the preparation settings and the chemistry library versions."""
    described = {"format": CACHE_FORMAT, "file": file_sha256(path), "settings": settings,
                 "rdkit": rdkit.__version__, "selfies": selfies.__version__}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def cached_preparation(path: Path, settings: dict, prepare: Callable[[], PreparedData]) -> PreparedData:
    """``prepare()``'s result for this file and settings, from the cache when it holds one."""
    folder = cache_dir() / "prepared" / prepared_key(path, settings)
    if (folder / "done").exists():
        try:
            prepared = _load(folder)
            log.info("prepared data of %s read from the cache (%s)", path.name, folder)
            return prepared
        except (OSError, ValueError, KeyError, pd.errors.ParserError) as err:
            log.warning("removed damaged cached data in %s (%s); preparing it again", folder, err)
            shutil.rmtree(folder, ignore_errors=True)
    prepared = prepare()
    try:
        _save(prepared, folder)
    except OSError as err:
        log.warning("could not cache prepared data in %s: %s", folder, err.strerror or err)
    return prepared


def cached_items(featurizer, smiles: Sequence[str], tokens: Iterable, workers: int = 1) -> Sequence:
    """The training items of prepared molecules. A graph featurizer's items (about a millisecond of
    RDKit work per molecule) are built on ``workers`` processes once and kept in the cache as a
    memory-mapped :class:`GraphTable`, keyed by the molecules and the featurizer's settings; token
    items are cheap and made afresh."""
    settings = getattr(featurizer, "cache_settings", None)
    if settings is None:
        return [featurizer.from_prepared(s, t) for s, t in zip(smiles, tokens)]
    molecules = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
    described = {**settings, "molecules": molecules, "rdkit": rdkit.__version__}
    folder = cache_dir() / "items" / hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]
    if (folder / "done").exists():
        try:
            return GraphTable.load(folder)
        except (OSError, ValueError) as err:
            log.warning("removed damaged cached graphs in %s (%s); building them again", folder, err)
            shutil.rmtree(folder, ignore_errors=True)
    log.info("building the graphs of %d molecules (cached for later runs)", len(smiles))
    table = featurizer.prepared_items(smiles, workers)
    try:
        _write_folder(folder, table.save)
    except OSError as err:
        log.warning("could not cache graphs in %s: %s", folder, err.strerror or err)
    return table


def _save(prepared: PreparedData, folder: Path) -> None:
    def write(staging: Path) -> None:
        table = prepared.tokens if isinstance(prepared.tokens, TokenTable) else TokenTable.from_lists(prepared.tokens)
        np.save(staging / "ids.npy", table.ids)
        np.save(staging / "offsets.npy", table.offsets)
        (staging / "tokens.json").write_text(json.dumps(table.tokens.tolist()))
        prepared.frame.to_csv(staging / "frame.csv", index=False)
        prepared.rejects.to_csv(staging / "rejects.csv", index=False)

    _write_folder(folder, write)


def _write_folder(folder: Path, write: Callable[[Path], None]) -> None:
    """Fill a cache folder through ``write(staging)`` and move it into place whole, marked ``done``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".staging-"))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared like any other folder
        write(staging)
        (staging / "done").touch()
        os.replace(staging, folder)  # atomic: another process sees all of it or none
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (folder / "done").exists():
            raise


def _load(folder: Path) -> PreparedData:
    tokens = TokenTable(json.loads((folder / "tokens.json").read_text()),
                        np.load(folder / "ids.npy", mmap_mode="r"), np.load(folder / "offsets.npy"))
    # Strings, as the input file was read; condition columns are converted where they are used.
    frame = pd.read_csv(folder / "frame.csv", dtype=str, keep_default_na=False)
    rejects = pd.read_csv(folder / "rejects.csv", keep_default_na=False)
    if len(tokens) != len(frame):
        raise ValueError("token and molecule counts differ")
    return PreparedData(frame, tokens, rejects)
