"""Fingerprints of molecules, in one place: Morgan bits (as arrays, for similarity kernels and the
MOSES metrics), the GuacaMol fingerprint types, and Tanimoto similarity between two molecules."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

from molvae.chem.molecules import parse_smiles
from molvae.errors import MolvaeError


@cache
def morgan_generator(radius: int = 2, size: int = 2048, features: bool = False) -> Any:
    """RDKit's Morgan fingerprint generator (ECFP at ``radius``; FCFP with ``features``), made once."""
    if features:
        return rdFingerprintGenerator.GetMorganGenerator(
            radius=radius, fpSize=size, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen())
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=size)


@cache
def _atom_pair_generator() -> Any:
    return rdFingerprintGenerator.GetAtomPairGenerator(maxDistance=10)


def morgan_bits(mol: Chem.Mol, radius: int = 2, size: int = 2048) -> np.ndarray:
    """Morgan bits of one molecule as a 0/1 uint8 array of ``size``."""
    return morgan_generator(radius, size).GetFingerprintAsNumPy(mol)


def morgan_matrix(smiles: Sequence[str], radius: int = 2, size: int = 2048) -> np.ndarray:
    """(N, size) float32 matrix of Morgan bits (ECFP4 at radius 2); a row of zeros for an invalid SMILES."""
    out = np.zeros((len(smiles), size), dtype=np.float32)
    for row, text in enumerate(smiles):
        mol = parse_smiles(text)
        if mol is not None:
            out[row] = morgan_bits(mol, radius, size)
    return out


def fingerprint(mol: Chem.Mol, kind: str):
    """GuacaMol fingerprint types: ECFP4/ECFP6/FCFP4 (unfolded Morgan counts), AP (atom pairs up to
    distance 10, counts), PHCO (Gobbi 2D pharmacophores) and ``morgan2048`` (Morgan radius 2 bits)."""
    if kind == "ECFP4":
        return morgan_generator(2).GetSparseCountFingerprint(mol)
    if kind == "ECFP6":
        return morgan_generator(3).GetSparseCountFingerprint(mol)
    if kind == "FCFP4":
        return morgan_generator(2, features=True).GetSparseCountFingerprint(mol)
    if kind == "AP":
        return _atom_pair_generator().GetSparseCountFingerprint(mol)
    if kind == "PHCO":
        return Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)
    if kind == "morgan2048":
        return morgan_generator(2, 2048).GetFingerprint(mol)
    raise MolvaeError(f"unknown fingerprint type {kind!r}")


def tanimoto(a: Chem.Mol, b: Chem.Mol, kind: str = "morgan2048") -> float:
    """Tanimoto similarity of two molecules (Morgan radius 2, 2048 bits unless ``kind`` says otherwise)."""
    return float(DataStructs.TanimotoSimilarity(fingerprint(a, kind), fingerprint(b, kind)))
