"""Morgan bit fingerprints as a dense matrix, for similarity kernels on molecules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit.Chem import rdFingerprintGenerator

from molvae.chem.molecules import parse_smiles

_GENERATORS: dict[tuple[int, int], object] = {}


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
