"""Parse, sanitise and canonicalise molecules with RDKit.

RDKit prints a warning for every SMILES it rejects; a generator produces thousands of those, so the
logger is silenced once on import and invalid molecules are reported through return values instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdkit import Chem, RDLogger


def silence_rdkit() -> None:
    """Turn off RDKit's C++ log output (parse errors are reported through return values)."""
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # not in RDKit's stubs


silence_rdkit()


@dataclass(frozen=True)
class Validation:
    """Outcome of checking one string: canonical SMILES when valid, else the reason it failed."""

    raw: str
    smiles: str
    valid: bool
    reason: str = ""
    # The parsed molecule of a valid string, so that its properties need not parse the SMILES again.
    molecule: Chem.Mol | None = field(default=None, compare=False, repr=False)


def parse_smiles(smiles: str) -> Chem.Mol | None:
    """Return a sanitised RDKit molecule, or None when the string is empty or does not sanitise."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    return Chem.MolFromSmiles(smiles.strip())


def canonical_smiles(smiles: str) -> str | None:
    """Canonical isomeric SMILES of a valid molecule, or None when it is invalid."""
    mol = parse_smiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def validate(raw: str) -> Validation:
    """Check one generated or user-supplied string: parse, sanitise and canonicalise it.

    Empty strings and multi-fragment results count as invalid: a generator that emits "." joined
    pieces has not produced one molecule.
    """
    if not isinstance(raw, str) or not raw.strip():
        return Validation(raw if isinstance(raw, str) else "", "", False, "empty string")
    return validate_molecule(raw, Chem.MolFromSmiles(raw.strip()))


def validate_molecule(raw: str, mol: Chem.Mol | None) -> Validation:
    """:func:`validate` for a molecule already built from ``raw`` (None when that failed)."""
    if mol is None:
        return Validation(raw, "", False, "RDKit could not parse or sanitise it")
    if mol.GetNumAtoms() == 0:
        return Validation(raw, "", False, "no atoms")
    smiles = Chem.MolToSmiles(mol)
    if "." in smiles:
        return Validation(raw, "", False, "more than one fragment")
    return Validation(raw, smiles, True, molecule=mol)
