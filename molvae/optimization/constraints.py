"""Constraints on the molecules an optimiser may score.

* :func:`similarity_constraint`: only molecules with Tanimoto ≥ δ (Morgan radius 2, 2048 bits, as in
  Jin et al. 2018) to a start molecule may be scored; others are failures that cost no oracle call.
* :func:`heavy_atom_constraint`: caps molecule size (penalized logP grows without bound with size).
"""

from __future__ import annotations

import math
from typing import cast

from rdkit import Chem

from molvae.chem.fingerprints import tanimoto
from molvae.chem.molecules import parse_smiles, validate
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.optimization.budget import Constraint


def check_similarity(delta: float) -> float:
    try:
        delta = float(delta)
    except (TypeError, ValueError):
        raise MolvaeError(f"minimum similarity must be a number in [0, 1], got {delta!r}") from None
    if not 0.0 <= delta <= 1.0 or math.isnan(delta):
        raise MolvaeError(f"minimum similarity must be in [0, 1], got {delta}")
    return delta


def start_molecule(smiles: str) -> str:
    """The canonical form of a user's start molecule, or a one-line error."""
    checked = validate(smiles)
    if not checked.valid:
        raise InvalidMoleculeError(f"start molecule {smiles!r} is invalid: {checked.reason}")
    return checked.smiles


def similarity_constraint(start: str, delta: float) -> Constraint:
    """Allow only molecules at least ``delta`` similar to ``start`` (and not ``start`` itself)."""
    delta = check_similarity(delta)
    start = start_molecule(start)
    reference = cast(Chem.Mol, parse_smiles(start))  # valid: start_molecule checked it

    def check(smiles: str) -> str | None:
        if smiles == start:
            return None  # the start molecule itself is scored once, as the reference
        mol = parse_smiles(smiles)
        if mol is None:
            return "not a valid molecule"
        sim = tanimoto(mol, reference)
        return None if sim >= delta else f"similarity {sim:.3f} < {delta}"

    return check


def heavy_atom_constraint(limit: int) -> Constraint:
    def check(smiles: str) -> str | None:
        mol = parse_smiles(smiles)
        if mol is None:
            return "not a valid molecule"
        n = mol.GetNumHeavyAtoms()
        return None if n <= limit else f"{n} heavy atoms > {limit}"

    return check
