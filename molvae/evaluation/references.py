"""Statistics of a reference set of molecules, computed once and cached on disk.

Every metric that compares generated molecules with a reference set (the MOSES test split, say)
needs the same facts about the reference: its Morgan fingerprints, ChemNet activations' mean and
covariance, BRICS fragment and Bemis-Murcko scaffold counts, and property values. For the 176,000
MOSES test molecules these take minutes (ChemNet alone many), so they are written to
``$MOLVAE_CACHE`` (default ``~/.cache/molvae``) under the SHA-256 of the reference file: a changed
file gets new statistics, an unchanged one is read back in a second.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from molvae.datasets import moses_path, read_smiles
from molvae.datasets.cache import cache_dir
from molvae.datasets.cache import file_sha256 as _sha256
from molvae.errors import MolvaeError

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
PROPERTY_NAMES = ("logP", "SA", "QED", "weight")
GUACAMOL_DESCRIPTORS = ("BertzCT", "MolLogP", "MolWt", "TPSA", "NumHAcceptors", "NumHDonors",
                        "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings")


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


def _paths(sha: str) -> dict[str, Path]:
    root = cache_dir()
    stem = f"reference-v{CACHE_FORMAT}-{sha}"
    return {"arrays": root / f"{stem}.npz", "counts": root / f"{stem}.json.gz", "fcd": root / f"{stem}.fcd.npz"}


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
    stats = _load(files, path.name, sha) if use_cache else None
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
    from molvae.evaluation.metrics import describe_many  # noqa: PLC0415  (metrics imports this module)

    smiles = _reference_smiles(path, limit)
    log.info("computing reference statistics of %s (%d molecules, once; cached by content)", path, len(smiles))
    rows = [r for r in describe_many(smiles, workers, filters=False, descriptors=True) if r is not None]
    if not rows:
        raise MolvaeError(f"reference file {path} holds no valid molecule")
    if len(rows) < len(smiles):
        log.warning("%d of %d reference molecules in %s are invalid and were left out",
                    len(smiles) - len(rows), len(smiles), path)
    fragments, scaffolds = Counter(), Counter()
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
    from molvae.chem.molecules import canonical_smiles  # noqa: PLC0415
    from molvae.evaluation.metrics import chemnet_activations  # noqa: PLC0415

    smiles = [c for c in map(canonical_smiles, _reference_smiles(path, limit)) if c]
    log.info("computing ChemNet statistics of %s (%d molecules, once; cached by content)", path, len(smiles))
    acts = chemnet_activations(smiles, workers)
    return acts.mean(0), np.cov(acts.T)


def _write(path: Path, writer) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}" + "".join(path.suffixes[-1:]))
        writer(tmp)
        os.replace(tmp, path)
    except OSError as err:
        log.warning("could not cache reference statistics in %s: %s", path.parent, err.strerror or err)


def _save(stats: ReferenceStats, files: dict[str, Path]) -> None:
    arrays = {"fingerprints": stats.fingerprints}
    arrays.update({f"prop_{k}": v for k, v in stats.properties.items()})
    arrays.update({f"desc_{k}": v for k, v in stats.descriptors.items()})
    _write(files["arrays"], lambda p: np.savez(p, **arrays))
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
                descriptors={k: arrays[f"desc_{k}"] for k in GUACAMOL_DESCRIPTORS if f"desc_{k}" in arrays})
        if files["fcd"].exists():
            with np.load(files["fcd"]) as fcd:
                stats.fcd_mu, stats.fcd_sigma = fcd["mu"], fcd["sigma"]
    except (OSError, ValueError, KeyError, EOFError) as err:
        log.warning("ignoring unreadable cached statistics %s: %s", files["arrays"], err)
        return None
    log.debug("reference statistics of %s read from %s", name, files["arrays"])
    return stats


def canonical_set(path: str | Path, workers: int = 2, stereo: bool = True) -> set[str]:
    """Canonical SMILES of every valid molecule in a (training) file, cached by the file's hash.

    Canonicalising with the installed RDKit matters: a file written by another RDKit version may
    spell some molecules differently, which would count them as novel.
    """
    path = Path(path)
    sha = file_sha256(path)
    cached = cache_dir() / f"canonical-v{CACHE_FORMAT}-{'' if stereo else 'nostereo-'}{sha}.txt.gz"
    if cached.exists():
        try:
            with gzip.open(cached, "rt", encoding="utf-8") as handle:
                return set(handle.read().split("\n")) - {""}
        except (OSError, EOFError) as err:
            log.warning("ignoring unreadable cache %s: %s", cached, err)
    from molvae.evaluation.metrics import canonicalize_many  # noqa: PLC0415

    smiles = _reference_smiles(path, None)
    log.info("canonicalising %d molecules of %s (once; cached by content)", len(smiles), path)
    out = set(canonicalize_many(smiles, workers, stereo)) - {None}

    def write(p: Path) -> None:
        with gzip.open(p, "wt", encoding="utf-8", compresslevel=1) as handle:
            handle.write("\n".join(sorted(out)))

    _write(cached, write)
    return out
