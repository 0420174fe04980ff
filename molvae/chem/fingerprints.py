"""Fingerprints of molecules: Morgan bits as a dense matrix (for similarity kernels), the GuacaMol
fingerprint types, and Tanimoto similarity between two molecules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

from molvae.chem.molecules import parse_smiles
from molvae.errors import MolvaeError

_GENERATORS: dict[tuple[int, int], Any] = {}  # RDKit fingerprint generators by (radius, size)


def morgan_matrix(smiles: Sequence[str], radius: int = 2, size: int = 2048) -> np.ndarray:
    """(N, size) float32 matrix of Morgan bits (ECFP4 at radius 2); a row of zeros for an invalid SMILES."""
    key = (radius, size)
    if key not in _GENERATORS:
        _GENERATORS[key] = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=size)
    generator = _GENERATORS[key]
    out = np.zeros((len(smiles), size), dtype=np.float32)
    for row, text in enumerate(smiles):
        mol = parse_smiles(text)
        if mol is not None:
            out[row] = generator.GetFingerprintAsNumPy(mol)
    return out


# ------------------------------------------------------------------ fingerprints and modifiers
_MORGAN2 = rdFingerprintGenerator.GetMorganGenerator(radius=2)


_MORGAN3 = rdFingerprintGenerator.GetMorganGenerator(radius=3)


_FEATURE2 = rdFingerprintGenerator.GetMorganGenerator(
    radius=2, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen())


_ATOM_PAIR = rdFingerprintGenerator.GetAtomPairGenerator(maxDistance=10)


_MORGAN2_BITS = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def fingerprint(mol: Chem.Mol, kind: str):
    """GuacaMol fingerprint types: ECFP4/ECFP6/FCFP4 (unfolded Morgan counts), AP (atom pairs up to
    distance 10, counts), PHCO (Gobbi 2D pharmacophores) and ``morgan2048`` (Morgan radius 2 bits)."""
    if kind == "ECFP4":
        return _MORGAN2.GetSparseCountFingerprint(mol)
    if kind == "ECFP6":
        return _MORGAN3.GetSparseCountFingerprint(mol)
    if kind == "FCFP4":
        return _FEATURE2.GetSparseCountFingerprint(mol)
    if kind == "AP":
        return _ATOM_PAIR.GetSparseCountFingerprint(mol)
    if kind == "PHCO":
        return Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)
    if kind == "morgan2048":
        return _MORGAN2_BITS.GetFingerprint(mol)
    raise MolvaeError(f"unknown fingerprint type {kind!r}")


def tanimoto(a: Chem.Mol, b: Chem.Mol, kind: str = "morgan2048") -> float:
    """Tanimoto similarity of two molecules (Morgan radius 2, 2048 bits unless ``kind`` says otherwise)."""
    return float(DataStructs.TanimotoSimilarity(fingerprint(a, kind), fingerprint(b, kind)))
