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
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import torch

from molvae.errors import MolvaeError
from molvae.evaluation.references import (
    GUACAMOL_DESCRIPTORS,
    PROPERTY_NAMES,
    ReferenceStats,
    canonical_set,
    reference_stats,
    resolve_reference,
)
from molvae.parallel import worker_context
from molvae.progress import progress

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
        known = {"MolLogP": row["logP"], "MolWt": row["weight"]}  # the same RDKit functions, already computed
        row["descriptors"] = {name: known[name] if name in known else float(getattr(Descriptors, name)(mol))
                              for name in GUACAMOL_DESCRIPTORS}
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


def _map(func: Callable, items: list, workers: int, min_items: int = 2000, desc: str = "scoring") -> list:
    """``func`` over items, in order, spread over ``workers`` processes when there are enough items."""
    if workers <= 1 or len(items) < min_items:
        return [func(item) for item in progress(items, desc=desc)]
    chunk = max(1, len(items) // (workers * 16))
    with worker_context().Pool(workers) as pool:
        return list(progress(pool.imap(func, items, chunksize=chunk), total=len(items), desc=desc))


def describe_many(smiles: Sequence[str], workers: int = 2, filters: bool = True, descriptors: bool | int = False
                  ) -> list[dict | None]:
    """:func:`describe` for many strings; ``descriptors`` may be a count: only the first that many get them."""
    limit = len(smiles) if descriptors is True else int(descriptors)
    items = [(s, filters, i < limit) for i, s in enumerate(smiles)]
    describe("c1ccccc1O", filters, limit > 0)  # load RDKit's modules and pattern lists once, before forking
    return _map(_describe_item, items, workers, desc="describing molecules")


def canonicalize_many(smiles: Iterable[str], workers: int = 2, stereo: bool = True) -> list[str | None]:
    """Canonical SMILES (None where invalid) of many strings, over ``workers`` processes."""
    return _map(_canonical_item, [(s, stereo) for s in smiles], workers, desc="canonicalising")


# ------------------------------------------------------------------------------ similarity kernels

def _device(device: str | None) -> torch.device:
    from molvae.training.devices import resolve_device  # noqa: PLC0415  (one-line errors for bad names)

    return resolve_device(device or "auto")


def _bits(packed: np.ndarray) -> np.ndarray:
    return np.unpackbits(np.ascontiguousarray(packed, dtype=np.uint8), axis=1)


def _bit_bags(bits: np.ndarray, device: torch.device):
    """Fingerprints as :func:`_common_bits` takes them: lists of on-bits on a CPU, a 0/1 matrix on a GPU."""
    if device.type != "cpu":
        return torch.from_numpy(bits).to(device=device, dtype=torch.float16)
    rows, columns = np.nonzero(bits)
    offsets = np.searchsorted(rows, np.arange(len(bits)))
    return torch.from_numpy(columns.astype(np.int64)), torch.from_numpy(offsets.astype(np.int64))


def _bit_table(bits: np.ndarray, device: torch.device) -> torch.Tensor:
    """Fingerprints as columns of a (bits × molecules) 0/1 half-precision table."""
    return torch.from_numpy(np.ascontiguousarray(bits.T)).to(device=device, dtype=torch.float16)


def _common_bits(bags, table: torch.Tensor) -> torch.Tensor:
    """Common on-bits of every fingerprint in ``bags`` with every column of ``table`` (exact integers).

    On a CPU each row is the sum of the table rows of its on-bits: an embedding-bag sum over about 40
    of 1,024 bits, four times faster than a dense int8 product. On a GPU a half-precision product.
    Counts up to 1,024 are exact in half precision.
    """
    if isinstance(bags, torch.Tensor):
        return bags @ table
    bits, offsets = bags
    return torch.nn.functional.embedding_bag(bits, table, offsets, mode="sum")


def _similarities(inter: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Tanimoto c/(a+b−c) from common bits and bit counts (as a new float32 block).

    Pairs of two empty fingerprints come out as 0 here; callers count them as 1 (as MOSES does).
    """
    sim = inter.float()
    union = a[:, None] + b[None, :]
    return sim.div_(union.sub_(sim).clamp_(min=1))


class _Blocks:
    """Fingerprints cut into blocks of rows, each ready as query bags and as a reference table."""

    def __init__(self, packed: np.ndarray, device: torch.device, size: int):
        bits = _bits(packed)
        self.counts = torch.from_numpy(bits.sum(1)).float().to(device)
        self.slices = [slice(i, min(i + size, len(bits))) for i in range(0, len(bits), size)]
        self._bits, self._device = bits, device

    def bags(self, rows: slice):
        return _bit_bags(self._bits[rows], self._device)

    def table(self, rows: slice) -> torch.Tensor:
        return _bit_table(self._bits[rows], self._device)


def tanimoto_blocks(query: np.ndarray, reference: np.ndarray, device: str | None = None,
                    block: int = 2048, ref_block: int = 2048):
    """Yield (row slice, column slice, Tanimoto block) over packed fingerprints, query × reference rows.

    Two empty fingerprints have similarity 1, as in MOSES.
    """
    dev = _device(device)
    q, r = _Blocks(query, dev, block), _Blocks(reference, dev, ref_block)
    tables = [r.table(cols) for cols in r.slices]
    for rows in q.slices:
        bags = q.bags(rows)
        for cols, table in zip(r.slices, tables):
            sim = _similarities(_common_bits(bags, table), q.counts[rows], r.counts[cols])
            both_empty = (q.counts[rows, None] == 0) & (r.counts[None, cols] == 0)
            yield rows, cols, sim.masked_fill_(both_empty, 1.0)


def nearest_similarity(query: np.ndarray, reference: np.ndarray, device: str | None = None,
                       block: int = 2048, ref_block: int = 512) -> np.ndarray:
    """Highest Tanimoto similarity of each query fingerprint to any reference fingerprint.

    Reference fingerprints are sorted by their number of on-bits b. Among those with the same b,
    T = c/(a+b−c) grows with the common bits c, so the best match is the one with the most common
    bits: one max over counts per run of equal b replaces a division per pair. Exact.
    """
    dev = _device(device)
    counts = _bits(reference).sum(1)
    order = np.argsort(counts, kind="stable")
    r = _Blocks(reference[order], dev, ref_block)
    sorted_counts = counts[order]
    runs = []  # per reference block: (start, end, b) of each run of equal bit count inside it
    for cols in r.slices:
        values, starts = np.unique(sorted_counts[cols], return_index=True)
        ends = [*starts[1:].tolist(), cols.stop - cols.start]
        runs.append(list(zip(starts.tolist(), ends, values.tolist())))
    tables = [r.table(cols) for cols in r.slices]
    q = _Blocks(query, dev, block)
    best = torch.zeros(len(query), device=dev)
    for rows in q.slices:
        bags, a = q.bags(rows), q.counts[rows]
        for table, members in zip(tables, runs):
            inter = _common_bits(bags, table)
            for start, end, b in members:
                c = inter[:, start:end].amax(1).float()
                union = a + b - c
                sim = torch.where(union > 0, c / union.clamp_min(1), torch.ones_like(c))
                best[rows] = torch.maximum(best[rows], sim)
    return best.cpu().numpy()


def internal_diversity(fingerprints: np.ndarray, p: int = 1, device: str | None = None) -> float:
    """1 − mean_i (mean_j T(i, j)^p)^(1/p) over all pairs, self-pairs included (MOSES IntDiv)."""
    return internal_diversities(fingerprints, (p,), device)[p]


def internal_diversities(fingerprints: np.ndarray, powers: Sequence[int] = (1, 2), device: str | None = None,
                         block: int = 2048) -> dict[int, float]:
    """:func:`internal_diversity` for several powers from one pass over the pairs.

    The similarity matrix is symmetric, so only blocks on and above the diagonal are computed; an
    off-diagonal block adds its row sums to its rows and its column sums to its columns.
    """
    dev = _device(device)
    fps = _Blocks(fingerprints, dev, block)
    tables = [fps.table(cols) for cols in fps.slices]
    n = len(fingerprints)
    sums = {p: torch.zeros(n, dtype=torch.float64) for p in powers}
    for i, rows in enumerate(fps.slices):
        bags = fps.bags(rows)
        for cols, table in zip(fps.slices[i:], tables[i:]):
            sim = _similarities(_common_bits(bags, table), fps.counts[rows], fps.counts[cols])
            raised_to = 1
            for p in sorted(powers):  # T^p from T^(previous p), in place
                if p != raised_to:
                    sim, raised_to = sim.pow_(p / raised_to), p
                sums[p][rows] += sim.sum(1, dtype=torch.float64).cpu()
                if cols != rows:
                    sums[p][cols] += sim.sum(0, dtype=torch.float64).cpu()
    empty = (fps.counts == 0).cpu()  # pairs of empty fingerprints count as similarity 1 (p-th power 1)
    for p in powers:
        sums[p][empty] += int(empty.sum())
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
                        batch_size: int = 32) -> np.ndarray:
    """ChemNet's penultimate activations (N, 512) of canonical SMILES, from the ``fcd`` package.

    On a CPU with several workers the molecules are split over processes that each run ChemNet on one
    thread: its small recurrent matrix products scale better that way than over threads.
    """
    smiles = list(smiles)
    dev = _device(device)
    if dev.type != "cpu" or workers <= 1 or len(smiles) < 2000:
        return _chemnet_part((smiles, max(1, workers), str(dev), batch_size))
    _chemnet()  # loaded once, before forking
    parts = [smiles[i:i + 1000] for i in range(0, len(smiles), 1000)]
    return np.concatenate(_map(_chemnet_part, [(part, 1, "cpu", batch_size) for part in parts], workers, min_items=2))


@cache
def _chemnet():
    import fcd  # noqa: PLC0415

    return fcd.load_ref_model()


def _chemnet_part(item: tuple[list[str], int, str, int]) -> np.ndarray:
    import fcd  # noqa: PLC0415

    smiles, threads, device, batch_size = item
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pad-length notices for SMILES longer than 350 characters
            return fcd.get_predictions(_chemnet(), smiles, batch_size=batch_size, n_jobs=0, device=device)
    finally:
        torch.set_num_threads(before)


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


def _nearest_inside(fps: np.ndarray, device: str | None, block: int = 2048) -> np.ndarray:
    """Each molecule's highest similarity to another molecule of the same set."""
    best = torch.zeros(len(fps))
    for rows, cols, sim in tanimoto_blocks(fps, fps, device, block, block):
        if rows == cols:
            sim.fill_diagonal_(-1)  # leave the molecule itself out
        best[rows] = torch.maximum(best[rows], sim.amax(1).cpu())
    return best.numpy()


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
        kept = _guacamol_subset(ref.n)
        kls = []
        for name in GUACAMOL_DESCRIPTORS:
            sample = np.array([r["descriptors"][name] for r in unique])
            kl = (_discrete_kl if name in _DISCRETE else _continuous_kl)(ref.descriptors[name][kept], sample)
            kls.append(kl)
        gen_fps = np.stack([r["fingerprint"] for r in unique])
        kls.append(_continuous_kl(_nearest_inside(ref.fingerprints[kept], device), _nearest_inside(gen_fps, device)))
        out["GuacaMol/KL"] = float(np.mean(np.exp(-np.array(kls))))
    if ref.fcd_mu is not None:
        distance = frechet_distance(acts[: len(valid)], ref.fcd_mu, ref.fcd_sigma)
        out["GuacaMol/FCD"] = math.exp(-0.2 * distance) if distance is not None else None
    return out
