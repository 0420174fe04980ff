"""Similarity kernels over packed fingerprints and count vectors, on CPU or GPU.

Tanimoto similarities between sets of packed 1,024-bit Morgan fingerprints are computed in blocks
from each fingerprint's on-bits (an embedding-bag sum instead of a dense bit product), which keeps
SNN of 30,000 samples against 176,000 reference molecules to seconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from molvae.devices import resolve_device


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
    dev = resolve_device(device or "auto")
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
    dev = resolve_device(device or "auto")
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
    dev = resolve_device(device or "auto")
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


def nearest_inside(fps: np.ndarray, device: str | None, block: int = 2048) -> np.ndarray:
    """Each molecule's highest similarity to another molecule of the same set."""
    best = torch.zeros(len(fps))
    for rows, cols, sim in tanimoto_blocks(fps, fps, device, block, block):
        if rows == cols:
            sim.fill_diagonal_(-1)  # leave the molecule itself out
        best[rows] = torch.maximum(best[rows], sim.amax(1).cpu())
    return best.numpy()
