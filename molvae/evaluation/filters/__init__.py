"""The structural filters of the MOSES benchmark (Polykovskiy et al. 2020).

A molecule passes when all of these hold:

- only the atoms C, N, S, O, F, Cl, Br and H;
- no atom carries a formal charge;
- no ring has 8 or more atoms (MOSES rejects rings of size ≥ 8);
- no medicinal-chemistry filter (MCF, ``mcf.tsv`` in this folder: the 22 SMARTS published with the
  MOSES data) and no PAINS pattern (the 480 WEHI PAINS SMARTS that ship with RDKit in
  ``RDConfig.RDDataDir/Pains/wehi_pains.csv``, the list MOSES uses) matches the molecule with
  explicit hydrogens added (several patterns name hydrogens).

Substructure search over 500 patterns is the expensive part; :class:`molvae.chem.screen.PatternScreen`
skips the patterns whose pattern-fingerprint bits are not all set in the molecule's, so the answer
equals the plain search.
"""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path

from rdkit import Chem, RDConfig

from molvae.chem.screen import PatternScreen

ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
MAX_RING_SIZE = 7


def _read_mcf() -> list[tuple[str, str]]:
    with open(Path(__file__).with_name("mcf.tsv"), encoding="utf-8") as handle:
        return [(row["name"], row["smarts"]) for row in csv.DictReader(handle, delimiter="\t")]


def _read_pains() -> list[tuple[str, str]]:
    path = os.path.join(RDConfig.RDDataDir, "Pains", "wehi_pains.csv")
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return [(name.strip("<>").replace("regId=", ""), smarts) for smarts, name in rows]


@cache
def patterns() -> tuple[list[str], PatternScreen]:
    """Names and screened queries of every MCF and PAINS SMARTS, MCF first."""
    names, queries = [], []
    for name, smarts in _read_mcf() + _read_pains():
        query = Chem.MolFromSmarts(smarts)
        if query is None:  # pragma: no cover - the shipped lists all parse
            raise ValueError(f"filter {name} has an unreadable SMARTS {smarts!r}")
        names.append(name)
        queries.append(query)
    return names, PatternScreen(queries)


def failed_rule(mol: Chem.Mol) -> str | None:
    """The first rule a molecule breaks (``atoms``, ``charge``, ``ring size`` or a pattern name), else None."""
    atoms = [(atom.GetSymbol(), atom.GetFormalCharge()) for atom in mol.GetAtoms()]
    if any(symbol not in ALLOWED_ATOMS for symbol, _ in atoms):
        return "atoms"
    if any(charge != 0 for _, charge in atoms):
        return "charge"
    if any(len(ring) > MAX_RING_SIZE for ring in mol.GetRingInfo().AtomRings()):
        return "ring size"
    names, screen = patterns()
    first = next(screen.matches(Chem.AddHs(mol)), None)
    return None if first is None else names[first]


def passes_filters(mol: Chem.Mol | None) -> bool:
    """True when a (valid) molecule passes every MOSES filter; None counts as failing."""
    return mol is not None and failed_rule(mol) is None
