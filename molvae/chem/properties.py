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
from rdkit.Chem import QED, Crippen, Descriptors

from molvae.chem.molecules import parse_smiles
from molvae.errors import match_name
from molvae.parallel import worker_context


@cache
def _sascorer():
    path = os.path.join(RDConfig.RDContribDir, "SA_Score")
    if path not in sys.path:
        sys.path.append(path)
    import sascorer  # noqa: PLC0415  (lives in RDKit's Contrib folder, not a package)

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
    return float(QED.qed(mol))


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
    if "QED" in names and "logP" in names:  # QED computes Crippen logP on the way: use it once
        parts = QED.properties(mol)
        shared = {"QED": float(QED.qed(mol, qedProperties=parts)), "logP": float(parts.ALOGP)}
        return {name: shared[name] if name in shared else PROPERTY_FUNCTIONS[name](mol) for name in names}
    return {name: PROPERTY_FUNCTIONS[name](mol) for name in names}


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
