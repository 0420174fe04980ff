"""Fast substructure searches over long pattern lists, with answers equal to the plain search.

Matching hundreds of SMARTS one by one dominates the MOSES filters.
RDKit's pattern fingerprint has the property that a query matching a molecule has all its bits set
in the molecule's fingerprint, so one vectorised bit test over every pattern at once rules most of
them out; only the rest are searched. The screen never drops a true match.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from rdkit import Chem, DataStructs

FINGERPRINT_BITS = 2048


def _packed(fingerprint: DataStructs.ExplicitBitVect) -> np.ndarray:
    return np.frombuffer(DataStructs.BitVectToBinaryText(fingerprint), dtype=np.uint64)


def _with_valences(query: Chem.Mol) -> Chem.Mol:
    copy = Chem.Mol(query)
    copy.UpdatePropertyCache(strict=False)
    return copy


class PatternScreen:
    """Query molecules (from SMARTS) searched in their given order, screened by pattern fingerprints."""

    def __init__(self, queries: Sequence[Chem.Mol]):
        self.queries = list(queries)  # searched as given; copies are fingerprinted (they need valences)
        fingerprints = [Chem.PatternFingerprint(_with_valences(q), fpSize=FINGERPRINT_BITS) for q in self.queries]
        self._bits = np.stack([_packed(fp) for fp in fingerprints]) if fingerprints else np.zeros((0, 32), np.uint64)

    def candidates(self, mol: Chem.Mol) -> np.ndarray:
        """Indices of the queries that may match ``mol`` (every one that does, in order)."""
        have = _packed(Chem.PatternFingerprint(mol, fpSize=FINGERPRINT_BITS))
        return np.flatnonzero(~(self._bits & ~have).any(axis=1))

    def matches(self, mol: Chem.Mol) -> Iterator[int]:
        """Indices of the queries that match ``mol``, in order (lazily: stop early for a first match)."""
        return (i for i in self.candidates(mol) if mol.HasSubstructMatch(self.queries[i]))
