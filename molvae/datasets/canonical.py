"""Canonical forms of a file's molecules, for novelty: which generated molecules a training set holds.

Canonicalising with the installed RDKit matters: a file written by another RDKit release may spell
some molecules differently, which would count them as novel. The set is cached under the file's
SHA-256 in ``$MOLVAE_CACHE``; for the shipped MOSES training split the package carries the few rows
whose canonical form differs from the file (``data/moses/reference``, listed with their SHA-256 in
``manifest.json`` and used only under the RDKit release that wrote them), so the set of the 1.58 M
training molecules is ready in seconds on a brand-new install.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import rdkit
from rdkit import Chem

from molvae.chem.molecules import parse_smiles
from molvae.datasets.cache import cache_dir, file_sha256
from molvae.datasets.io import read_smiles
from molvae.datasets.moses import DATA_ROOTS
from molvae.errors import MolvaeError
from molvae.files import replace_atomically
from molvae.parallel import worker_context
from molvae.progress import progress

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
SHIPPED_MANIFEST = "manifest.json"


def rdkit_release() -> str:
    """The installed RDKit's release (``2026.09``): canonical SMILES may change between releases."""
    return ".".join(rdkit.__version__.split(".")[:2])


def shipped_dir() -> Path | None:
    """The folder of statistics shipped with the package, or None when it is missing."""
    for root in DATA_ROOTS:
        if (root / "reference" / SHIPPED_MANIFEST).is_file():
            return root / "reference"
    return None


@cache
def _shipped_manifest() -> dict[str, str]:
    """File name -> SHA-256 of the shipped statistics usable under the installed RDKit, else empty."""
    folder = shipped_dir()
    if folder is None:
        return {}
    try:
        manifest = json.loads((folder / SHIPPED_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.warning("ignoring the shipped reference statistics: unreadable manifest (%s)", err)
        return {}
    if manifest.get("format") != CACHE_FORMAT or manifest.get("rdkit") != rdkit_release():
        log.info("shipped reference statistics were written by RDKit %s; computing them under RDKit %s",
                 manifest.get("rdkit"), rdkit_release())
        return {}
    return dict(manifest.get("files", {}))


@cache
def shipped_file(name: str) -> Path | None:
    """A shipped statistics file by name, if it exists, suits this RDKit and its SHA-256 checks out."""
    expected = _shipped_manifest().get(name)
    folder = shipped_dir()
    if expected is None or folder is None or not (folder / name).is_file():
        return None
    if file_sha256(folder / name) != expected:
        log.warning("ignoring shipped statistics %s: its SHA-256 does not match the manifest", name)
        return None
    return folder / name


def _canonical_item(item: tuple[str, bool]) -> str | None:
    mol = parse_smiles(item[0])
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=item[1])


def parallel_map(func: Callable, items: list, workers: int, min_items: int = 2000, desc: str = "scoring") -> list:
    """``func`` over items, in order, spread over ``workers`` processes when there are enough items."""
    if workers <= 1 or len(items) < min_items:
        return [func(item) for item in progress(items, desc=desc)]
    chunk = max(1, len(items) // (workers * 16))
    with worker_context().Pool(workers) as pool:
        return list(progress(pool.imap(func, items, chunksize=chunk), total=len(items), desc=desc))


def canonicalize_many(smiles: Iterable[str], workers: int = 2, stereo: bool = True) -> list[str | None]:
    """Canonical SMILES (None where invalid) of many strings, over ``workers`` processes."""
    return parallel_map(_canonical_item, [(s, stereo) for s in smiles], workers, desc="canonicalising")


def shipped_canonical_forms(path: str | Path, smiles: Sequence[str]) -> list[str] | None:
    """The canonical SMILES of each of ``smiles`` (the molecules of ``path``, in file order; "" for an
    invalid one) without RDKit, when the package ships the few rows of that file whose written form
    is not canonical under the installed RDKit (the MOSES training split); None otherwise."""
    try:
        shipped = shipped_file(f"{canonical_stem(file_sha256(path), True)}.changes.json.gz")
    except OSError:
        return None
    if shipped is None:
        return None
    with gzip.open(shipped, "rt", encoding="utf-8") as handle:
        changes = json.load(handle)  # written form -> canonical form (None: not a valid molecule)
    return [form if (form := changes.get(s, s)) is not None else "" for s in smiles]


def canonical_set(path: str | Path, workers: int = 2, stereo: bool = True) -> set[str]:
    """Canonical SMILES of every valid molecule in a (training) file, cached by the file's hash."""
    path = Path(path)
    try:
        stem = canonical_stem(file_sha256(path), stereo)
        smiles = None if (cache_dir() / f"{stem}.txt.gz").exists() else read_smiles(path)
    except (OSError, MolvaeError) as err:
        raise MolvaeError(f"cannot read the training molecules {path}: {getattr(err, 'strerror', None) or err}"
                          ) from None
    cached = cache_dir() / f"{stem}.txt.gz"
    if smiles is None:
        try:
            with gzip.open(cached, "rt", encoding="utf-8") as handle:
                return set(handle.read().split("\n")) - {""}
        except (OSError, EOFError) as err:
            log.warning("removed the damaged cache %s (%s); computing it again", cached, err)
            cached.unlink(missing_ok=True)
            smiles = read_smiles(path)
    shipped = shipped_file(f"{stem}.changes.json.gz")
    if shipped is not None:
        with gzip.open(shipped, "rt", encoding="utf-8") as handle:
            changes = json.load(handle)  # written form -> canonical form (None: not a valid molecule)
        return {form for s in smiles if (form := changes.get(s, s)) is not None}

    log.info("canonicalising %d molecules of %s (once; cached by content)", len(smiles), path)
    out = {form for form in canonicalize_many(smiles, workers, stereo) if form is not None}

    def write(p: Path) -> None:
        with gzip.open(p, "wt", encoding="utf-8", compresslevel=1) as handle:
            handle.write("\n".join(sorted(out)))

    try:
        replace_atomically(cached, write)
    except MolvaeError as err:
        log.warning("could not cache canonical forms: %s", err)
    return out


def canonical_hashes(path: str | Path, workers: int = 2, stereo: bool = True) -> np.ndarray:
    """Sorted 64-bit hashes of :func:`canonical_set`: a lookup of a file's molecules that loads in
    milliseconds once cached (building it the first time takes seconds for the MOSES training split)."""
    path = Path(path)
    try:
        cached = cache_dir() / f"{canonical_stem(file_sha256(path), stereo)}.hashes.npy"
    except OSError as err:
        raise MolvaeError(f"cannot read the training molecules {path}: {err.strerror or err}") from None
    if cached.exists():
        try:
            return np.load(cached)
        except (OSError, ValueError) as err:
            log.warning("removed the damaged cache %s (%s); computing it again", cached, err)
            cached.unlink(missing_ok=True)
    hashes = np.sort(smiles_hashes(canonical_set(path, workers, stereo)))
    try:
        replace_atomically(cached, lambda p: np.save(p, hashes))
    except MolvaeError as err:
        log.warning("could not cache the training molecules' lookup: %s", err)
    return hashes


def smiles_hashes(smiles: Iterable[str]) -> np.ndarray:
    """A 64-bit hash of each string (BLAKE2b), the same in every process and on every machine."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
                        for s in smiles), dtype=np.uint64)


def contained(hashes: np.ndarray, smiles: Sequence[str]) -> np.ndarray:
    """Whether each canonical SMILES is among the sorted ``hashes`` (False for empty strings)."""
    if len(hashes) == 0 or len(smiles) == 0:
        return np.zeros(len(smiles), dtype=bool)
    wanted = smiles_hashes(smiles)
    found = hashes[np.minimum(np.searchsorted(hashes, wanted), len(hashes) - 1)] == wanted
    return found & np.fromiter((bool(s) for s in smiles), dtype=bool, count=len(smiles))


def canonical_stem(sha: str, stereo: bool) -> str:
    """File-name stem of a file's canonical forms (cache) or of their shipped changes."""
    return f"canonical-v{CACHE_FORMAT}-{'' if stereo else 'nostereo-'}{sha}"
