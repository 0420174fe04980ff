"""Molecular properties used for conditioning, sampling reports and metrics.

SA is Ertl and Schuffenhauer's synthetic accessibility score as shipped in RDKit's Contrib folder.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable
from functools import cache

import pandas as pd
from rdkit import Chem, RDConfig
from rdkit.Chem import QED, Crippen, Descriptors, FilterCatalog, MolSurf
from rdkit.Chem import rdMolDescriptors as rdmd

from molvae.chem.molecules import parse_smiles
from molvae.errors import match_name
from molvae.parallel import worker_context


@cache
def _sascorer():
    path = os.path.join(RDConfig.RDContribDir, "SA_Score")
    if path not in sys.path:
        sys.path.append(path)
    import sascorer  # noqa: PLC0415  (lives in RDKit's Contrib folder, not a package)

    sascorer.readFragmentScores()  # its fragment table (0.3 s), read here rather than by the first score
    return sascorer


def sa_score(mol: Chem.Mol) -> float:
    """Synthetic accessibility, 1 (easy) to 10 (hard)."""
    return float(_sascorer().calculateScore(mol))


def logp(mol: Chem.Mol) -> float:
    """Wildman-Crippen logP."""
    return float(Crippen.MolLogP(mol))  # type: ignore[attr-defined]  # missing from RDKit's stubs


def molecular_weight(mol: Chem.Mol) -> float:
    """Average molecular weight (RDKit's MolWt; the MOSES metrics call it ``weight``)."""
    return float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]  # missing from RDKit's stubs


def qed(mol: Chem.Mol) -> float:
    """Quantitative estimate of drug-likeness, 0 to 1 (Bickerton et al. 2012)."""
    return float(QED.qed(mol, qedProperties=qed_properties(mol)))


def has_hydrogen_atoms(mol: Chem.Mol) -> bool:
    """Whether the molecule may hold explicit hydrogen atoms (SMILES such as ``[H]OC``).

    Counted in C++ (atoms against heavy atoms): a loop over atoms in Python costs more than QED's
    logP. Dummy atoms (``*``) also count as light, which at worst costs an unneeded copy.
    """
    return mol.GetNumAtoms() != mol.GetNumHeavyAtoms()


@cache
def _structural_alerts() -> FilterCatalog.FilterCatalog:
    """QED's 116 structural alerts as one RDKit filter catalogue: one C++ call tests them all."""
    catalog = FilterCatalog.FilterCatalog()
    for i, alert in enumerate(QED.StructuralAlerts):
        catalog.AddEntry(FilterCatalog.FilterCatalogEntry(str(i), FilterCatalog.SmartsMatcher(alert)))
    return catalog


def qed_properties(mol: Chem.Mol) -> QED.QEDproperties:
    """The eight properties QED combines, equal to RDKit's ``QED.properties`` and about twice as fast.

    The same RDKit functions on the same hydrogen-free molecule, with two shortcuts that change no
    value: a molecule without hydrogen atoms is used as it is instead of a sanitised copy, and the
    structural alerts are counted by one filter-catalogue search instead of 116 separate ones.
    """
    if has_hydrogen_atoms(mol):
        mol = Chem.RemoveHs(mol)
    return QED.QEDproperties(
        MW=rdmd._CalcMolWt(mol),
        ALOGP=Crippen.MolLogP(mol),  # type: ignore[attr-defined]  # missing from RDKit's stubs
        HBA=sum(len(mol.GetSubstructMatches(acceptor)) for acceptor in QED.Acceptors),
        HBD=rdmd.CalcNumHBD(mol),
        PSA=MolSurf.TPSA(mol),  # type: ignore[attr-defined]  # missing from RDKit's stubs
        ROTB=rdmd.CalcNumRotatableBonds(mol, rdmd.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=len(_structural_alerts().GetMatches(mol)),
    )


PROPERTY_FUNCTIONS: dict[str, Callable[[Chem.Mol], float]] = {"logP": logp, "QED": qed, "SA": sa_score,
                                                             "MW": molecular_weight}


def compute_properties(smiles: str, names: Iterable[str] = ("logP", "QED", "SA", "MW")) -> dict[str, float]:
    """Properties of one molecule by name; NaN for every property when the SMILES is invalid."""
    return molecule_properties(parse_smiles(smiles) if smiles else None, names)


def molecule_properties(mol: Chem.Mol | None, names: Iterable[str] = ("logP", "QED", "SA", "MW")) -> dict[str, float]:
    """Properties of a parsed molecule by name; NaN for every one when ``mol`` is None.

    The values do not depend on the molecule's atom order beyond floating-point summation (below
    1e-12), so any SMILES of a molecule gives the same values to the 4 decimals molvae writes.
    """
    names = list(names)
    if mol is None:
        return {name: math.nan for name in names}
    if "QED" not in names:
        return {name: PROPERTY_FUNCTIONS[name](mol) for name in names}
    parts = qed_properties(mol)  # QED computes Crippen logP and the weight on the way: use them once
    shared = {"QED": float(QED.qed(mol, qedProperties=parts))}
    if not has_hydrogen_atoms(mol):  # then QED's parts were computed on this very molecule
        shared.update(logP=float(parts.ALOGP), MW=float(parts.MW))  # type: ignore[attr-defined]  # fields not in the stubs
    return {name: shared[name] if name in shared else PROPERTY_FUNCTIONS[name](mol) for name in names}


def load_property_tables(names: Iterable[str]) -> None:
    """Load the tables behind the named properties (SA's fragment scores, QED's alert catalogue) now.

    Worker processes forked afterwards share them instead of each loading its own copy.
    """
    names = set(names)
    if "SA" in names:
        _sascorer()
    if "QED" in names:
        _structural_alerts()


def _row(args: tuple[str, tuple[str, ...]]) -> dict[str, float]:
    return compute_properties(*args)


def property_table(smiles: Iterable[str], names: Iterable[str] = ("logP", "QED", "SA", "MW"),
                   workers: int = 1) -> pd.DataFrame:
    """Properties for many molecules as a DataFrame (one row per input, NaN where invalid).

    ``workers`` > 1 spreads the RDKit work over processes; worth it above a few thousand molecules.
    """
    names = tuple(match_name(n, PROPERTY_FUNCTIONS, "property") for n in names)
    items = [(s, names) for s in smiles]
    if workers > 1 and len(items) > 2000:
        with worker_context().Pool(workers) as pool:
            rows = pool.map(_row, items, chunksize=max(1, len(items) // (4 * workers)))
    else:
        rows = [_row(item) for item in items]
    return pd.DataFrame(rows, columns=list(names))
