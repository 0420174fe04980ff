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
descriptors plus the nearest-neighbour similarity inside the set) and exp(−0.2·FCD).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from molvae.errors import MolvaeError
from molvae.evaluation.references import (GUACAMOL_DESCRIPTORS, PROPERTY_NAMES, ReferenceStats,
                                          canonical_set, reference_stats, resolve_reference)

log = logging.getLogger(__name__)

UNIQUE_AT = (1000, 10000)
GUACAMOL_SAMPLES = 10_000
MOSES_KEYS = ("valid", "unique@1000", "unique@10000", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test",
              "FCD/TestSF", "SNN/TestSF", "Frag/TestSF", "Scaf/TestSF", "IntDiv", "IntDiv2", "Filters",
              "logP", "SA", "QED", "weight", "Novelty")


# ----------------------------------------------------------------------------------------- RDKit work

def _morgan():
    from rdkit.Chem import rdFingerprintGenerator  # noqa: PLC0415

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)


_GENERATOR = None


def describe(smiles: str, filters: bool = True, descriptors: bool = False) -> dict | None:
    """Everything the metrics need about one molecule, or None when the string is not a valid one."""
    global _GENERATOR
    from rdkit import Chem  # noqa: PLC0415
    from rdkit.Chem import QED, Crippen, Descriptors, rdmolops  # noqa: PLC0415
    from rdkit.Chem.Scaffolds import MurckoScaffold  # noqa: PLC0415

    from molvae.chem.molecules import parse_smiles  # noqa: PLC0415
    from molvae.chem.properties import sa_score  # noqa: PLC0415

    mol = parse_smiles(smiles)
    if mol is None:
        return None
    if _GENERATOR is None:
        _GENERATOR = _morgan()
    qed_props = QED.properties(mol)
    has_h = any(atom.GetAtomicNum() == 1 for atom in mol.GetAtoms())
    row = {
        "smiles": Chem.MolToSmiles(mol),
        "fingerprint": np.packbits(_GENERATOR.GetFingerprintAsNumPy(mol).astype(bool)),
        "fragments": Chem.MolToSmiles(rdmolops.FragmentOnBRICSBonds(mol)).split("."),
        "scaffold": _scaffold(mol, MurckoScaffold),
        "logP": float(Crippen.MolLogP(mol)) if has_h else float(qed_props.ALOGP),
        "SA": sa_score(mol),
        "QED": float(QED.qed(mol, qedProperties=qed_props)),
        "weight": float(Descriptors.MolWt(mol)),
    }
    if filters:
        from molvae.evaluation.filters import passes_filters  # noqa: PLC0415

        row["passes"] = passes_filters(mol)
    if descriptors:
        row["nostereo"] = Chem.MolToSmiles(mol, isomericSmiles=False)
        row["descriptors"] = {name: float(getattr(Descriptors, name)(mol)) for name in GUACAMOL_DESCRIPTORS}
    return row


def _scaffold(mol, murcko) -> str | None:
    from rdkit import Chem  # noqa: PLC0415

    try:
        scaffold = murcko.GetScaffoldForMol(mol)
    except Exception:  # noqa: BLE001 - RDKit raises plain RuntimeErrors on odd molecules
        return None
    text = Chem.MolToSmiles(scaffold)
    return text if text and scaffold.GetRingInfo().NumRings() >= 2 else None


def _describe_item(item: tuple[str, bool, bool]) -> dict | None:
    return describe(*item)


def _canonical_item(item: tuple[str, bool]) -> str | None:
    from rdkit import Chem  # noqa: PLC0415

    from molvae.chem.molecules import parse_smiles  # noqa: PLC0415

    mol = parse_smiles(item[0])
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=item[1])


def _map(func: Callable, items: list, workers: int) -> list:
    """``func`` over items, in order, spread over ``workers`` processes when there are enough items."""
    if workers <= 1 or len(items) < 2000:
        return [func(item) for item in items]
    import multiprocessing  # noqa: PLC0415

    # fork where available: RDKit work only in the children, and no re-import of the caller's script
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunk = max(200, len(items) // (workers * 16))
    with multiprocessing.get_context(method).Pool(workers) as pool:
        return pool.map(func, items, chunksize=chunk)


def describe_many(smiles: Sequence[str], workers: int = 2, filters: bool = True, descriptors: bool | int = False
                  ) -> list[dict | None]:
    """:func:`describe` for many strings; ``descriptors`` may be a count: only the first that many get them."""
    limit = len(smiles) if descriptors is True else int(descriptors)
    items = [(s, filters, i < limit) for i, s in enumerate(smiles)]
    return _map(_describe_item, items, workers)


def canonicalize_many(smiles: Iterable[str], workers: int = 2, stereo: bool = True) -> list[str | None]:
    """Canonical SMILES (None where invalid) of many strings, over ``workers`` processes."""
    return _map(_canonical_item, [(s, stereo) for s in smiles], workers)


# ------------------------------------------------------------------------------ similarity kernels

def _device(device: str | None) -> torch.device:
    from molvae.training.devices import resolve_device  # noqa: PLC0415  (one-line errors for bad names)

    return resolve_device(device or "auto")


def _unpack(packed: np.ndarray, device: torch.device) -> torch.Tensor:
    bits = np.unpackbits(np.ascontiguousarray(packed, dtype=np.uint8), axis=1)
    dtype = torch.int8 if device.type == "cpu" else torch.float16
    return torch.from_numpy(bits).to(device=device, dtype=dtype)


def _intersections(a: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
    """Common on-bits of every row of ``a`` with every column of ``b_t``, as float32."""
    if a.dtype == torch.int8:
        if a.shape[0] > 16:
            try:
                return torch._int_mm(a, b_t).float()
            except RuntimeError:  # an old torch without CPU int8 matmul
                pass
        return (a.float() @ b_t.float())
    return (a @ b_t).float()


def tanimoto_blocks(query: np.ndarray, reference: np.ndarray, device: str | None = None,
                    block: int = 2048, ref_block: int = 32768):
    """Yield (row slice, Tanimoto block) over packed fingerprints, query rows × reference rows.

    Bits are counted with an int8 matrix product (exact; fast on CPUs with VNNI), in blocks that keep
    memory at a few hundred megabytes. Two empty fingerprints have similarity 1, as in MOSES.
    """
    dev = _device(device)
    q = _unpack(query, dev)
    r = _unpack(reference, dev)
    pad = (-r.shape[0]) % 8
    if pad:
        r = torch.cat([r, torch.zeros((pad, r.shape[1]), dtype=r.dtype, device=dev)])
    r_t = r.T.contiguous()
    q_count = q.float().sum(1)
    r_count = r.float().sum(1)
    for i in range(0, q.shape[0], block):
        rows = slice(i, min(i + block, q.shape[0]))
        qi = q[rows]
        if qi.shape[0] <= 16 and qi.dtype == torch.int8:
            qi = torch.cat([qi, torch.zeros((17 - qi.shape[0], qi.shape[1]), dtype=qi.dtype, device=dev)])
        for j in range(0, r_t.shape[1], ref_block):
            cols = slice(j, min(j + ref_block, r_t.shape[1]))
            inter = _intersections(qi, r_t[:, cols])[: rows.stop - rows.start]
            union = q_count[rows, None] + r_count[None, cols] - inter
            sim = torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter))
            if j + ref_block >= r_t.shape[1] and pad:
                sim = sim[:, : sim.shape[1] - pad]
            yield rows, sim


def nearest_similarity(query: np.ndarray, reference: np.ndarray, device: str | None = None,
                       block: int = 2048, ref_block: int = 32768) -> np.ndarray:
    """Highest Tanimoto similarity of each query fingerprint to any reference fingerprint.

    Reference fingerprints are grouped by their number of on-bits b. Within a group T = c/(a+b−c)
    grows with the common bits c, so the best match of a group is the one with the most common bits:
    one max over integer counts per group replaces a division per pair. Exact, and several times
    faster than computing every similarity.
    """
    dev = _device(device)
    counts = np.unpackbits(np.ascontiguousarray(reference, dtype=np.uint8), axis=1).sum(1)
    order = np.argsort(counts, kind="stable")
    sizes, starts = np.unique(counts[order], return_index=True)
    bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), len(order)], sizes.tolist()))
    r_t = _unpack(reference[order], dev).T.contiguous()
    q = _unpack(query, dev)
    q_count = q.float().sum(1)
    best = torch.zeros(len(query), device=dev)
    chunks, current = [], []
    for group in bounds:  # runs of whole groups, about ref_block columns each
        current.append(group)
        if group[1] - current[0][0] >= ref_block:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    for i in range(0, q.shape[0], block):
        rows = slice(i, min(i + block, q.shape[0]))
        qi = q[rows]
        n = qi.shape[0]
        if n <= 16 and qi.dtype == torch.int8:  # the int8 product wants more than 16 rows
            qi = torch.cat([qi, torch.zeros((17 - n, qi.shape[1]), dtype=qi.dtype, device=dev)])
        a = q_count[rows]
        for chunk in chunks:
            lo, hi = chunk[0][0], chunk[-1][1]
            inter = _intersections_padded(qi, r_t[:, lo:hi])[:n]
            for start, end, b in chunk:
                c = inter[:, start - lo:end - lo].amax(1)
                union = a + b - c
                sim = torch.where(union > 0, c / union.clamp_min(1), torch.ones_like(c))
                best[rows] = torch.maximum(best[rows], sim)
    return best.cpu().numpy()


def _intersections_padded(a: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
    """:func:`_intersections` for any number of columns (int8 products want a multiple of 8)."""
    pad = (-b_t.shape[1]) % 8
    if pad and a.dtype == torch.int8:
        b_t = torch.cat([b_t, torch.zeros((b_t.shape[0], pad), dtype=b_t.dtype, device=b_t.device)], dim=1)
        return _intersections(a, b_t)[:, : b_t.shape[1] - pad]
    return _intersections(a, b_t)


def internal_diversity(fingerprints: np.ndarray, p: int = 1, device: str | None = None) -> float:
    """1 − mean_i (mean_j T(i, j)^p)^(1/p) over all pairs, self-pairs included (MOSES IntDiv)."""
    return internal_diversities(fingerprints, (p,), device)[p]


def internal_diversities(fingerprints: np.ndarray, powers: Sequence[int] = (1, 2), device: str | None = None
                         ) -> dict[int, float]:
    """:func:`internal_diversity` for several powers from one pass over the pairs."""
    n = len(fingerprints)
    sums = {p: torch.zeros(n, dtype=torch.float64) for p in powers}
    for rows, sim in tanimoto_blocks(fingerprints, fingerprints, device):
        for p in powers:
            sums[p][rows] += (sim if p == 1 else sim ** p).sum(1, dtype=torch.float64).cpu()
    return {p: float(1 - ((sums[p] / n) ** (1 / p)).mean()) for p in powers}


def cosine_similarity(a: Counter, b: Counter) -> float | None:
    """Cosine of two count vectors given as {key: count}; None when either is empty (MOSES: NaN)."""
    if not a or not b:
        return None
    dot = sum(count * b[key] for key, count in a.items() if key in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return float(dot / norm)


# ------------------------------------------------------------------------------------------ ChemNet

def chemnet_activations(smiles: Sequence[str], workers: int = 2, device: str | None = None,
                        batch_size: int = 256) -> np.ndarray:
    """ChemNet's penultimate activations (N, 512) of canonical SMILES, from the ``fcd`` package."""
    import fcd  # noqa: PLC0415

    model = fcd.load_ref_model()
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, workers))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pad-length notices for SMILES longer than 350 characters
            return fcd.get_predictions(model, list(smiles), batch_size=batch_size, n_jobs=0,
                                       device=str(_device(device)))
    finally:
        torch.set_num_threads(threads)


def frechet_distance(acts: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float | None:
    """FCD between activations and a reference mean/covariance; None with fewer than two molecules."""
    if len(acts) < 2:
        return None
    import fcd  # noqa: PLC0415

    return float(fcd.calculate_frechet_distance(acts.mean(0), np.cov(acts.T), mu, sigma))


# ------------------------------------------------------------------------------------------- suite

def _wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance  # noqa: PLC0415

    return float(wasserstein_distance(a, b))


def compare(rows: list[dict], acts: np.ndarray, ref: ReferenceStats, device: str | None = None) -> dict:
    """FCD, SNN, Frag and Scaf of described valid molecules against one reference set."""
    fps = np.stack([r["fingerprint"] for r in rows])
    fragments = Counter(f for r in rows for f in r["fragments"])
    scaffolds = Counter(r["scaffold"] for r in rows if r["scaffold"])
    return {
        "FCD": frechet_distance(acts, ref.fcd_mu, ref.fcd_sigma) if ref.fcd_mu is not None else None,
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
    reference file (quick checks; not comparable with published numbers). With ``return_details`` also returns the described molecules and activations.
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
        import time  # noqa: PLC0415

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
    from molvae.datasets import moses_path  # noqa: PLC0415

    if str(train) == "moses":
        return moses_path("train")
    path = Path(train)
    if not path.is_file():
        raise MolvaeError(f"cannot read train file {path}: no such file")
    return path


# ---------------------------------------------------------------------------------------- GuacaMol

def _continuous_kl(reference: np.ndarray, sample: np.ndarray) -> float:
    from scipy.stats import entropy, gaussian_kde  # noqa: PLC0415

    both = np.hstack([reference, sample])
    grid = np.linspace(both.min(), both.max(), num=1000)
    try:
        p = gaussian_kde(reference)(grid) + 1e-10
        q = gaussian_kde(sample)(grid) + 1e-10
    except (np.linalg.LinAlgError, ValueError):  # a constant descriptor: no density to estimate
        return 0.0 if np.allclose(reference.mean(), sample.mean()) else math.inf
    return float(entropy(p, q))


def _discrete_kl(reference: np.ndarray, sample: np.ndarray) -> float:
    from scipy.stats import entropy  # noqa: PLC0415

    p, bins = np.histogram(reference, bins=10, density=True)
    q, _ = np.histogram(sample, bins=bins, density=True)
    return float(entropy(p + 1e-10, q + 1e-10))


_DISCRETE = {"NumHAcceptors", "NumHDonors", "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings"}


def _nearest_inside(fps: np.ndarray, device: str | None) -> np.ndarray:
    """Each molecule's highest similarity to another molecule of the same set."""
    best = torch.zeros(len(fps))
    for rows, sim in tanimoto_blocks(fps, fps, device):
        sim = sim.clone()
        idx = torch.arange(rows.start, rows.stop)
        sim[idx - rows.start, idx] = -1  # leave the molecule itself out
        best[rows] = sim.amax(1).cpu()
    return best.numpy()


def guacamol_scores(described: list[dict | None], acts: np.ndarray, ref: ReferenceStats,
                    train: str | Path | None, workers: int = 2, device: str | None = None) -> dict:
    """GuacaMol distribution-learning scores on the first 10,000 samples, against ``ref``."""
    first = described[:GUACAMOL_SAMPLES]
    valid = [r for r in first if r is not None]
    out = {"GuacaMol/validity": len(valid) / len(first)}
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
        kls = []
        for name in GUACAMOL_DESCRIPTORS:
            sample = np.array([r["descriptors"][name] for r in unique])
            kl = (_discrete_kl if name in _DISCRETE else _continuous_kl)(ref.descriptors[name], sample)
            kls.append(kl)
        ref_fps = ref.fingerprints[: GUACAMOL_SAMPLES]
        gen_fps = np.stack([r["fingerprint"] for r in unique])
        kls.append(_continuous_kl(_nearest_inside(ref_fps, device), _nearest_inside(gen_fps, device)))
        out["GuacaMol/KL"] = float(np.mean(np.exp(-np.array(kls))))
    if ref.fcd_mu is not None:
        distance = frechet_distance(acts[: len(valid)], ref.fcd_mu, ref.fcd_sigma)
        out["GuacaMol/FCD"] = math.exp(-0.2 * distance) if distance is not None else None
    return out
