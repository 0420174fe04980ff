"""Distribution metrics of generated molecules: the MOSES suite and GuacaMol's distribution learning.

Definitions follow the MOSES reference implementation (Polykovskiy et al. 2020) so the numbers sit
beside the published ones:

- ``valid``: share of strings RDKit parses and sanitises (empty strings are invalid). Invalid ones
  are then dropped; every later metric sees the canonical SMILES of the rest, duplicates included.
- ``unique@k``: distinct canonical SMILES among the first k valid ones (null, with a warning, when
  fewer than k are valid).
- ``FCD/<ref>``: Fréchet distance between ChemNet activations (the maintained ``fcd`` package) of
  the generated and reference molecules, both canonicalised.
- ``SNN/<ref>``: mean over generated molecules of the highest Tanimoto similarity to any reference
  molecule, Morgan fingerprints radius 2, 1024 bits.
- ``Frag/<ref>``, ``Scaf/<ref>``: cosine similarity of BRICS fragment counts and of Bemis-Murcko
  scaffold counts (scaffolds with at least two rings, as MOSES counts them).
- ``IntDiv``/``IntDiv2``: 1 − mean over molecules i of (mean over all j, i itself included, of
  T(i, j)^p)^(1/p), for p = 1 and 2.
- ``Filters``: share passing :mod:`molvae.evaluation.filters`.
- ``logP``, ``SA``, ``QED``, ``weight``: Wasserstein-1 distance between generated and reference
  property values (weight is RDKit's MolWt).
- ``Novelty``: share of distinct valid canonical molecules absent from the (canonicalised) train set.

The GuacaMol scores (Brown et al. 2019) use the first 10,000 samples: validity, uniqueness and
novelty (stereo-free canonical SMILES), the KL-divergence score (mean of exp(−KL) over nine RDKit
descriptors plus the nearest-neighbour similarity inside the set, against a random 10,000 of the
reference as GuacaMol draws from its training set) and exp(−0.2·FCD).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from molvae.datasets import moses_path
from molvae.datasets.canonical import canonical_set
from molvae.errors import MolvaeError
from molvae.evaluation.descriptors import GUACAMOL_DESCRIPTORS, PROPERTY_NAMES, chemnet_activations, describe_many
from molvae.evaluation.references import ReferenceStats, reference_stats, resolve_reference
from molvae.evaluation.similarity import cosine_similarity, internal_diversities, nearest_inside, nearest_similarity

log = logging.getLogger(__name__)

UNIQUE_AT = (1000, 10000)
GUACAMOL_SAMPLES = 10_000
MOSES_KEYS = ("valid", "unique@1000", "unique@10000", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test",
              "FCD/TestSF", "SNN/TestSF", "Frag/TestSF", "Scaf/TestSF", "IntDiv", "IntDiv2", "Filters",
              "logP", "SA", "QED", "weight", "Novelty")


def frechet_distance(acts: np.ndarray, mu: np.ndarray | None, sigma: np.ndarray | None) -> float | None:
    """FCD between activations and a reference mean/covariance; None with fewer than two molecules
    or without reference statistics."""
    if len(acts) < 2 or mu is None or sigma is None:
        return None

    import fcd  # noqa: PLC0415  (fcd imports scipy.linalg: 0.15 s of every command's start-up otherwise)

    return float(fcd.calculate_frechet_distance(acts.mean(0), np.cov(acts.T), mu, sigma))


# ------------------------------------------------------------------------------------------- suite

def _wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance  # noqa: PLC0415  (scipy.stats takes 0.5 s to import)

    return float(wasserstein_distance(a, b))


def compare(rows: list[dict], acts: np.ndarray, ref: ReferenceStats, device: str | None = None) -> dict:
    """FCD, SNN, Frag and Scaf of described valid molecules against one reference set."""
    fps = np.stack([r["fingerprint"] for r in rows])
    fragments = Counter(f for r in rows for f in r["fragments"])
    scaffolds = Counter(r["scaffold"] for r in rows if r["scaffold"])
    return {
        "FCD": frechet_distance(acts, ref.fcd_mu, ref.fcd_sigma),
        "SNN": float(nearest_similarity(fps, ref.fingerprints, device).mean()),
        "Frag": cosine_similarity(ref.fragments, fragments),
        "Scaf": cosine_similarity(ref.scaffolds, scaffolds),
    }


def _unique_at(canonical: list[str], k: int) -> float | None:
    if len(canonical) < k:
        log.warning("unique@%d is null: only %d valid molecules", k, len(canonical))
        return None
    return len(set(canonical[:k])) / k


def evaluate(samples: Sequence[str], reference: str | Path | Sequence[str | Path] = "moses",
             train: str | Path | None = "moses", workers: int = 2, device: str | None = None,
             reference_limit: int | None = None, guacamol: bool = True,
             return_details: bool = False):
    """The MOSES metrics (and GuacaMol scores) of generated SMILES strings as a dict.

    ``reference`` is ``"moses"`` (test and scaffold-test splits, keys ``/Test`` and ``/TestSF``) or
    one or two files (the second scores as ``/TestSF``). ``train`` gives Novelty (``"moses"``, a
    path, or None to skip). ``reference_limit`` uses a random subset of that many molecules of each
    reference file (quick checks; not comparable with published numbers). With ``return_details``
    also returns the described molecules and activations.
    """
    samples = ["" if s is None or (isinstance(s, float) and math.isnan(s)) else str(s) for s in samples]
    if not samples:
        raise MolvaeError("no molecules to evaluate")
    refs = _reference_paths(reference)
    clock = _Clock()
    described = describe_many(samples, workers, filters=True, descriptors=GUACAMOL_SAMPLES if guacamol else 0)
    rows = [r for r in described if r is not None]
    if not rows:
        raise MolvaeError(f"none of the {len(samples)} molecules is valid")
    canonical = [r["smiles"] for r in rows]
    clock.lap("RDKit descriptions")
    metrics: dict[str, float | None] = {"valid": len(rows) / len(samples)}
    for k in UNIQUE_AT:
        metrics[f"unique@{k}"] = _unique_at(canonical, k)
    acts = chemnet_activations(canonical, workers, device)
    clock.lap("ChemNet activations")
    stats = [reference_stats(p, workers, fcd=True, limit=reference_limit) for p in refs]
    clock.lap("reference statistics")
    for suffix, ref in zip(("Test", "TestSF"), stats):
        for name, value in compare(rows, acts, ref, device).items():
            metrics[f"{name}/{suffix}"] = value
        clock.lap(f"comparison with {ref.name}")
    fps = np.stack([r["fingerprint"] for r in rows])
    diversity = internal_diversities(fps, (1, 2), device)
    metrics["IntDiv"], metrics["IntDiv2"] = diversity[1], diversity[2]
    clock.lap("internal diversity")
    metrics["Filters"] = float(np.mean([r["passes"] for r in rows]))
    for name in PROPERTY_NAMES:
        metrics[name] = _wasserstein(np.array([r[name] for r in rows]), stats[0].properties[name])
    train_set = canonical_set(_train_path(train), workers) if train is not None else None
    unique = set(canonical)
    metrics["Novelty"] = len(unique - train_set) / len(unique) if train_set is not None else None
    clock.lap("properties and novelty")
    if guacamol:
        metrics.update(guacamol_scores(described, acts, stats[0], train, workers, device))
        clock.lap("GuacaMol scores")
    metrics = {k: _clean(v) for k, v in metrics.items()}
    if return_details:
        return metrics, {"rows": rows, "activations": acts, "references": stats}
    return metrics


class _Clock:
    """Logs the wall and CPU seconds of each stage at debug level (``molvae -v evaluate``)."""

    def __init__(self):
        self._time = time
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, stage: str) -> None:
        wall, cpu = self._time.perf_counter(), self._time.process_time()
        log.debug("%s: %.1f s (%.1f s CPU in this process)", stage, wall - self._wall, cpu - self._cpu)
        self._wall, self._cpu = wall, cpu


def _clean(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def _reference_paths(reference) -> list[Path]:
    if isinstance(reference, (str, Path)):
        return resolve_reference(reference)
    paths = [p for spec in reference for p in resolve_reference(spec)]
    if not paths or len(paths) > 2:
        raise MolvaeError("give one or two reference files (test, and optionally scaffold test)")
    return paths


def _train_path(train) -> Path:
    if str(train) == "moses":
        return moses_path("train")
    path = Path(train)
    if not path.is_file():
        raise MolvaeError(f"cannot read train file {path}: no such file")
    return path


# ---------------------------------------------------------------------------------------- GuacaMol

def _continuous_kl(reference: np.ndarray, sample: np.ndarray) -> float:
    from scipy.stats import entropy, gaussian_kde  # noqa: PLC0415  (0.5 s to import; GuacaMol only)

    both = np.hstack([reference, sample])
    grid = np.linspace(both.min(), both.max(), num=1000)
    try:
        p = gaussian_kde(reference)(grid) + 1e-10
        q = gaussian_kde(sample)(grid) + 1e-10
    except (np.linalg.LinAlgError, ValueError):  # a constant descriptor: no density to estimate
        return 0.0 if np.allclose(reference.mean(), sample.mean()) else math.inf
    return float(entropy(p, q))


def _discrete_kl(reference: np.ndarray, sample: np.ndarray) -> float:
    from scipy.stats import entropy  # noqa: PLC0415  (0.5 s to import; GuacaMol only)

    p, bins = np.histogram(reference, bins=10, density=True)
    q, _ = np.histogram(sample, bins=bins, density=True)
    return float(entropy(p + 1e-10, q + 1e-10))


_DISCRETE = {"NumHAcceptors", "NumHDonors", "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings"}


def _guacamol_subset(n: int) -> np.ndarray:
    """Reference rows the KL score compares with: a random 10,000 (seed 42), as GuacaMol's KL benchmark draws."""
    if n <= GUACAMOL_SAMPLES:
        return np.arange(n)
    return np.sort(np.random.default_rng(42).choice(n, size=GUACAMOL_SAMPLES, replace=False))


def guacamol_scores(described: list[dict | None], acts: np.ndarray, ref: ReferenceStats,
                    train: str | Path | None, workers: int = 2, device: str | None = None) -> dict:
    """GuacaMol distribution-learning scores on the first 10,000 samples, against ``ref``."""
    first = described[:GUACAMOL_SAMPLES]
    valid = [r for r in first if r is not None]
    out: dict[str, float | None] = {"GuacaMol/validity": len(valid) / len(first)}
    if not valid:
        return out
    seen, unique = set(), []
    for r in valid:
        if r["nostereo"] not in seen:
            seen.add(r["nostereo"])
            unique.append(r)
    out["GuacaMol/uniqueness"] = len(unique) / len(valid)
    if train is not None:
        train_set = canonical_set(_train_path(train), workers, stereo=False)
        out["GuacaMol/novelty"] = sum(r["nostereo"] not in train_set for r in unique) / len(unique)
    if ref.descriptors and len(unique) > 1:
        kept = _guacamol_subset(ref.n)
        kls = []
        for name in GUACAMOL_DESCRIPTORS:
            sample = np.array([r["descriptors"][name] for r in unique])
            kl = (_discrete_kl if name in _DISCRETE else _continuous_kl)(ref.descriptors[name][kept], sample)
            kls.append(kl)
        gen_fps = np.stack([r["fingerprint"] for r in unique])
        kls.append(_continuous_kl(nearest_inside(ref.fingerprints[kept], device), nearest_inside(gen_fps, device)))
        out["GuacaMol/KL"] = float(np.mean(np.exp(-np.array(kls))))
    if ref.fcd_mu is not None:
        distance = frechet_distance(acts[: len(valid)], ref.fcd_mu, ref.fcd_sigma)
        out["GuacaMol/FCD"] = math.exp(-0.2 * distance) if distance is not None else None
    return out
