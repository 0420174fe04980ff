"""Statistics of a reference set of molecules, computed once and cached on disk.

Every metric that compares generated molecules with a reference set (the MOSES test split, say)
needs the same facts about the reference: its Morgan fingerprints, ChemNet activations' mean and
covariance, BRICS fragment and Bemis-Murcko scaffold counts, and property values. For the 176,000
MOSES test molecules these take minutes (ChemNet alone many), so they are written to
``$MOLVAE_CACHE`` (default ``~/.cache/molvae``) under the SHA-256 of the reference file: a changed
file gets new statistics, an unchanged one is read back in a second.

The statistics of the shipped MOSES splits (and the canonical forms of the training split, for
novelty) also ship with the package, in ``data/moses/reference``, so a brand-new install scores
against MOSES without that warm-up. They hold SMILES strings written by one RDKit release (fragments,
scaffolds, canonical forms), so they are used only under that release and only when their SHA-256
matches ``manifest.json``; otherwise they are computed and cached as for any other file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from molvae.chem.molecules import canonical_smiles
from molvae.datasets import moses_path, read_smiles
from molvae.datasets.cache import cache_dir
from molvae.datasets.cache import file_sha256 as _sha256
from molvae.datasets.canonical import (
    CACHE_FORMAT,
    SHIPPED_MANIFEST,
    canonical_stem,
    canonicalize_many,
    rdkit_release,
    shipped_file,
)
from molvae.errors import MolvaeError
from molvae.evaluation.descriptors import (
    GUACAMOL_DESCRIPTORS,
    PROPERTY_NAMES,
    chemnet_activations,
    describe_many,
)
from molvae.files import replace_atomically

log = logging.getLogger(__name__)

# Descriptors that are the same RDKit function as a property: stored once, under the property's name.
DESCRIPTOR_ALIASES = {"MolLogP": "logP", "MolWt": "weight"}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes; a file that cannot be read is a one-line error naming it."""
    try:
        return _sha256(path)
    except OSError as err:
        raise MolvaeError(f"cannot read reference file {path}: {err.strerror or err}") from None


def resolve_reference(spec: str | Path) -> list[Path]:
    """``moses`` names the MOSES test and scaffold-test splits; anything else is one file."""
    if str(spec) == "moses":
        return [moses_path("test"), moses_path("test_scaffolds")]
    path = Path(spec)
    if not path.is_file():
        raise MolvaeError(f"cannot read reference file {path}: no such file")
    return [path]


@dataclass
class ReferenceStats:
    """Everything the distribution metrics need to know about one reference set."""

    name: str
    sha256: str
    n: int
    fingerprints: np.ndarray                      # (N, 128) uint8: Morgan r=2, 1024 bits, packed
    fragments: Counter
    scaffolds: Counter
    properties: dict[str, np.ndarray]             # logP, SA, QED, weight, per molecule
    descriptors: dict[str, np.ndarray] = field(default_factory=dict)   # GuacaMol KL descriptors
    fcd_mu: np.ndarray | None = None
    fcd_sigma: np.ndarray | None = None


def _paths(sha: str, root: Path | None = None) -> dict[str, Path]:
    root = cache_dir() if root is None else root
    stem = f"reference-v{CACHE_FORMAT}-{sha}"
    return {"arrays": root / f"{stem}.npz", "counts": root / f"{stem}.json.gz", "fcd": root / f"{stem}.fcd.npz"}


def _shipped_paths(sha: str) -> dict[str, Path] | None:
    names = {key: path.name for key, path in _paths(sha).items()}
    found = {key: path for key, name in names.items() if (path := shipped_file(name)) is not None}
    return found if len(found) == len(names) else None


def reference_stats(path: str | Path, workers: int = 2, fcd: bool = True, limit: int | None = None,
                    use_cache: bool = True) -> ReferenceStats:
    """Statistics of the reference molecules in ``path`` (CSV/SMI), from the cache when present.

    ``limit`` keeps a random subset of that many molecules (seed 0; for quick checks, cached under
    its own key). A random subset, not the first rows: split files are not in random order.
    """
    path = Path(path)
    if limit is not None and limit < 1:
        raise MolvaeError(f"the reference limit must be a positive number of molecules, got {limit}")
    sha = file_sha256(path)
    if limit is not None:
        sha = hashlib.sha256(f"{sha}:random{limit}".encode()).hexdigest()
    files = _paths(sha)
    stats = None
    if use_cache:
        stats = _load(files, path.name, sha)
        shipped = _shipped_paths(sha) if stats is None else None
        stats = stats or (_load(shipped, path.name, sha) if shipped else None)
    if stats is None:
        stats = _compute(path, sha, workers, limit)
        if use_cache:
            _save(stats, files)
    if fcd and stats.fcd_mu is None:
        stats.fcd_mu, stats.fcd_sigma = _fcd_stats(path, limit, workers)
        if use_cache:
            _write(files["fcd"], lambda p: np.savez(p, mu=stats.fcd_mu, sigma=stats.fcd_sigma))
    return stats


def _reference_smiles(path: Path, limit: int | None) -> list[str]:
    try:
        smiles = read_smiles(path)
    except MolvaeError as err:
        raise MolvaeError(f"cannot read reference file {path}: {err}") from None
    if limit is not None and limit < len(smiles):
        keep = np.sort(np.random.default_rng(0).choice(len(smiles), size=limit, replace=False))
        smiles = [smiles[i] for i in keep]
    return smiles


def _compute(path: Path, sha: str, workers: int, limit: int | None) -> ReferenceStats:

    smiles = _reference_smiles(path, limit)
    log.info("computing reference statistics of %s (%d molecules, once; cached by content)", path, len(smiles))
    rows = [r for r in describe_many(smiles, workers, filters=False, descriptors=True) if r is not None]
    if not rows:
        raise MolvaeError(f"reference file {path} holds no valid molecule")
    if len(rows) < len(smiles):
        log.warning("%d of %d reference molecules in %s are invalid and were left out",
                    len(smiles) - len(rows), len(smiles), path)
    fragments: Counter[str] = Counter()
    scaffolds: Counter[str] = Counter()
    for row in rows:
        fragments.update(row["fragments"])
        if row["scaffold"]:
            scaffolds[row["scaffold"]] += 1
    return ReferenceStats(
        name=path.name, sha256=sha, n=len(rows),
        fingerprints=np.stack([row["fingerprint"] for row in rows]),
        fragments=fragments, scaffolds=scaffolds,
        properties={name: np.array([row[name] for row in rows]) for name in PROPERTY_NAMES},
        descriptors={name: np.array([row["descriptors"][name] for row in rows]) for name in GUACAMOL_DESCRIPTORS},
    )


def _fcd_stats(path: Path, limit: int | None, workers: int) -> tuple[np.ndarray, np.ndarray]:
    smiles = [c for c in map(canonical_smiles, _reference_smiles(path, limit)) if c]
    log.info("computing ChemNet statistics of %s (%d molecules, once; cached by content)", path, len(smiles))
    acts = chemnet_activations(smiles, workers)
    return acts.mean(0), np.cov(acts.T)


def _write(path: Path, writer) -> None:
    """Write a cache file atomically; a cache that cannot be written only costs the next run time."""
    try:
        replace_atomically(path, writer)
    except MolvaeError as err:
        log.warning("could not cache reference statistics: %s", err)


def _compact(values: np.ndarray) -> np.ndarray:
    """Counts (rings, donors, ...) stored as small integers; read back as the same float64 values."""
    if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)) \
            and values.size and np.abs(values).max() < 2 ** 15:
        return values.astype(np.int16)
    return values


def _save(stats: ReferenceStats, files: dict[str, Path]) -> None:
    arrays: dict[str, Any] = {"fingerprints": stats.fingerprints}
    arrays.update({f"prop_{k}": v for k, v in stats.properties.items()})
    arrays.update({f"desc_{k}": _compact(v) for k, v in stats.descriptors.items()
                   if not (k in DESCRIPTOR_ALIASES and np.array_equal(v, stats.properties[DESCRIPTOR_ALIASES[k]]))})
    _write(files["arrays"], lambda p: np.savez_compressed(p, **arrays))
    meta = {"name": stats.name, "sha256": stats.sha256, "n": stats.n,
            "fragments": dict(stats.fragments), "scaffolds": dict(stats.scaffolds)}

    def write_counts(p: Path) -> None:
        with gzip.open(p, "wt", encoding="utf-8") as handle:
            json.dump(meta, handle)

    _write(files["counts"], write_counts)


def _load(files: dict[str, Path], name: str, sha: str) -> ReferenceStats | None:
    if not (files["arrays"].exists() and files["counts"].exists()):
        return None
    try:
        with np.load(files["arrays"]) as arrays, gzip.open(files["counts"], "rt", encoding="utf-8") as handle:
            meta = json.load(handle)
            stats = ReferenceStats(
                name=name, sha256=sha, n=int(meta["n"]), fingerprints=arrays["fingerprints"],
                fragments=Counter(meta["fragments"]), scaffolds=Counter(meta["scaffolds"]),
                properties={k: arrays[f"prop_{k}"] for k in PROPERTY_NAMES},
                descriptors=_descriptors(arrays))
        if files["fcd"].exists():
            with np.load(files["fcd"]) as fcd:
                stats.fcd_mu, stats.fcd_sigma = fcd["mu"], fcd["sigma"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        if files["arrays"].parent == cache_dir():  # a damaged cache entry (never a shipped file): computed again
            log.warning("removed damaged cached statistics %s (%s); computing them again", files["arrays"], err)
            for damaged in files.values():
                damaged.unlink(missing_ok=True)
        return None
    log.debug("reference statistics of %s read from %s", name, files["arrays"])
    return stats


def _descriptors(arrays) -> dict[str, np.ndarray]:
    out = {}
    for name in GUACAMOL_DESCRIPTORS:
        if f"desc_{name}" in arrays:
            out[name] = arrays[f"desc_{name}"].astype(np.float64)
        elif name in DESCRIPTOR_ALIASES and any(k.startswith("desc_") for k in arrays.files):
            out[name] = arrays[f"prop_{DESCRIPTOR_ALIASES[name]}"]
    return out


def write_shipped_statistics(folder: Path, workers: int = 2) -> dict[str, str]:
    """Write the statistics that ship with the package for the MOSES splits, and their manifest.

    A maintainer's step, re-run whenever the split files, the statistics or the RDKit release
    change (``python data/build_reference.py``). Returns file name -> SHA-256.
    """

    from fcd import __version__ as fcd_version  # noqa: PLC0415  (a maintainer's step; fcd is slow to import)

    folder.mkdir(parents=True, exist_ok=True)
    for split in ("test", "test_scaffolds"):
        path = moses_path(split)
        stats = reference_stats(path, workers, fcd=True)
        files = _paths(stats.sha256, folder)
        _save(stats, files)
        _write(files["fcd"], lambda p, s=stats: np.savez_compressed(p, mu=s.fcd_mu, sigma=s.fcd_sigma))
    train = moses_path("train")
    smiles = _reference_smiles(train, None)
    for stereo in (True, False):
        canonical = canonicalize_many(smiles, workers, stereo)
        changes = {s: c for s, c in zip(smiles, canonical) if s != c}
        with gzip.open(folder / f"{canonical_stem(file_sha256(train), stereo)}.changes.json.gz", "wt",
                       encoding="utf-8") as handle:
            json.dump(changes, handle, sort_keys=True)
    shipped = {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.name.startswith(("reference-", "canonical-"))}
    manifest = {"format": CACHE_FORMAT, "rdkit": rdkit_release(), "fcd": fcd_version, "files": shipped}
    (folder / SHIPPED_MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return shipped
