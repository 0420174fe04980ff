"""The built-in objectives: RDKit properties, penalized logP and GuacaMol-style tasks.

The GuacaMol-style tasks follow the definitions of Brown et al. 2019 (J. Chem. Inf. Model. 59, 1096)
as used by the PMO benchmark (Gao et al. 2022): the same targets, fingerprints, score modifiers and
aggregation, computed with RDKit alone. Names are resolved by :mod:`molvae.optimization.objectives`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import GraphDescriptors, rdMolDescriptors

from molvae.chem.fingerprints import fingerprint
from molvae.chem.molecules import parse_smiles
from molvae.chem.properties import PROPERTY_FUNCTIONS, logp, sa_score
from molvae.errors import MolvaeError
from molvae.optimization.oracle import MolScore


def gaussian(mu: float, sigma: float) -> Callable[[float], float]:
    return lambda x: math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def min_gaussian(mu: float, sigma: float) -> Callable[[float], float]:
    """1 at or below ``mu``, a Gaussian tail above it (rewards staying under a value)."""
    return lambda x: 1.0 if x <= mu else math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def max_gaussian(mu: float, sigma: float) -> Callable[[float], float]:
    """1 at or above ``mu``, a Gaussian tail below it (rewards staying over a value)."""
    return lambda x: 1.0 if x >= mu else math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def clipped(upper: float, lower: float = 0.0) -> Callable[[float], float]:
    """Linear from 0 at ``lower`` to 1 at ``upper``, clipped to [0, 1]."""
    return lambda x: float(min(1.0, max(0.0, (x - lower) / (upper - lower))))


def _identity(x: float) -> float:
    return x


def similarity_term(target: str, kind: str, modifier: Callable[[float], float] = _identity) -> MolScore:
    """Score = modifier(Tanimoto(fingerprint(mol), fingerprint(target)))."""
    ref = fingerprint(target_molecule(target), kind)
    return lambda mol: modifier(float(DataStructs.TanimotoSimilarity(fingerprint(mol, kind), ref)))


def descriptor_term(descriptor: MolScore, modifier: Callable[[float], float]) -> MolScore:
    return lambda mol: modifier(float(descriptor(mol)))


def smarts_term(smarts: str, present: bool = True) -> MolScore:
    """1 when the pattern is present (or, with ``present=False``, absent), else 0."""
    pattern = Chem.MolFromSmarts(smarts)
    return lambda mol: float(mol.HasSubstructMatch(pattern) == present)


def arithmetic_mean(terms: Sequence[MolScore]) -> MolScore:
    return lambda mol: float(np.mean([t(mol) for t in terms]))


def geometric_mean(terms: Sequence[MolScore]) -> MolScore:
    def score(mol: Chem.Mol) -> float:
        values = [t(mol) for t in terms]
        if min(values) <= 0:
            return 0.0
        return float(math.exp(sum(math.log(v) for v in values) / len(values)))

    return score


def atom_count(element: str) -> MolScore:
    """Number of atoms of one element, hydrogens included (made explicit) when counting H."""
    def count(mol: Chem.Mol) -> float:
        m = Chem.AddHs(mol) if element == "H" else mol
        return float(sum(1 for a in m.GetAtoms() if a.GetSymbol() == element))

    return count


def total_atoms(mol: Chem.Mol) -> float:
    return float(Chem.AddHs(mol).GetNumAtoms())


def isomer_score(formula: str) -> MolScore:
    """Closeness to a molecular formula: a Gaussian (σ = 1) on each element's count and one (σ = 2) on the
    total atom count, combined by geometric mean (GuacaMol's default for the isomer tasks)."""
    counts = [(el, int(n) if n else 1) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula)]
    terms = [descriptor_term(atom_count(el), gaussian(n, 1.0)) for el, n in counts]
    terms.append(descriptor_term(total_atoms, gaussian(sum(n for _, n in counts), 2.0)))
    return geometric_mean(terms)


@cache
def target_molecule(smiles: str) -> Chem.Mol:
    mol = parse_smiles(smiles)
    if mol is None:
        raise MolvaeError(f"the similarity target {smiles!r} is not a valid molecule")
    return mol


# ------------------------------------------------------------------ penalized logP
# ZINC250k statistics used by Gómez-Bombarelli et al. / Kusner et al. / Jin et al. to standardise each term.
LOGP_MEAN, LOGP_STD = 2.4570953396190123, 1.434324401111988
SA_MEAN, SA_STD = -3.0525811293166134, 0.8335207024513095
CYCLE_MEAN, CYCLE_STD = -0.0485696876403053, 0.2860212110245455


def largest_ring_penalty(mol: Chem.Mol) -> float:
    """Atoms beyond 6 in the largest ring (0 when no ring has more than 6 atoms)."""
    sizes = [len(r) for r in mol.GetRingInfo().AtomRings()]
    return float(max(max(sizes, default=0) - 6, 0))


def penalized_logp(mol: Chem.Mol) -> float:
    """logP − SA − ring penalty, each standardised with the ZINC250k mean and standard deviation."""
    standard_logp = (logp(mol) - LOGP_MEAN) / LOGP_STD
    sa = (-sa_score(mol) - SA_MEAN) / SA_STD
    cycle = (-largest_ring_penalty(mol) - CYCLE_MEAN) / CYCLE_STD
    return float(standard_logp + sa + cycle)


# ------------------------------------------------------------------ GuacaMol-style tasks
def _num_rings(mol: Chem.Mol) -> float:
    return float(rdMolDescriptors.CalcNumRings(mol))


def _aromatic_rings(mol: Chem.Mol) -> float:
    return float(rdMolDescriptors.CalcNumAromaticRings(mol))


def _tpsa(mol: Chem.Mol) -> float:
    return float(rdMolDescriptors.CalcTPSA(mol))


CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
THIOTHIXENE = "CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1"
TROGLITAZONE = "Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O"
ALBUTEROL = "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"
MESTRANOL = "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1"
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
FEXOFENADINE = "CC(C)(C(=O)O)c1ccc(cc1)C(O)CCCN2CCC(CC2)C(O)(c3ccccc3)c4ccccc4"
RANOLAZINE = "COc1ccccc1OCC(O)CN2CCN(CC(=O)Nc3c(C)cccc3C)CC2"
PERINDOPRIL = "O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC"
AMLODIPINE = r"Clc1ccccc1C2C(=C(/N/C(=C2/C(=O)OCC)COCCN)C)\C(=O)OC"
SITAGLIPTIN = "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F"
ZALEPLON = "O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1"
HOP_START = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
HOP_SCAFFOLD = "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12"
VALSARTAN_SMARTS = "CN(C=O)Cc1ccc(c2ccccc2)cc1"


def _sitagliptin_mpo() -> MolScore:
    mol = target_molecule(SITAGLIPTIN)
    return geometric_mean([similarity_term(SITAGLIPTIN, "ECFP4", gaussian(0.0, 0.1)),
                           descriptor_term(logp, gaussian(logp(mol), 0.2)),
                           descriptor_term(_tpsa, gaussian(_tpsa(mol), 5.0)),
                           isomer_score("C16H15F6N5O")])


def _valsartan_smarts() -> MolScore:
    mol = target_molecule(SITAGLIPTIN)
    bertz = GraphDescriptors.BertzCT
    return geometric_mean([smarts_term(VALSARTAN_SMARTS), descriptor_term(logp, gaussian(logp(mol), 0.2)),
                           descriptor_term(_tpsa, gaussian(_tpsa(mol), 5.0)),
                           descriptor_term(bertz, gaussian(bertz(mol), 30.0))])


GUACAMOL_TASKS: dict[str, tuple[str, Callable[[], MolScore]]] = {
    "celecoxib_rediscovery": ("Tanimoto (ECFP4 counts) to celecoxib",
                              lambda: similarity_term(CELECOXIB, "ECFP4")),
    "thiothixene_rediscovery": ("Tanimoto (ECFP4 counts) to thiothixene",
                                lambda: similarity_term(THIOTHIXENE, "ECFP4")),
    "troglitazone_rediscovery": ("Tanimoto (ECFP4 counts) to troglitazone",
                                 lambda: similarity_term(TROGLITAZONE, "ECFP4")),
    "albuterol_similarity": ("FCFP4 similarity to albuterol, clipped at 0.75",
                             lambda: similarity_term(ALBUTEROL, "FCFP4", clipped(0.75))),
    "mestranol_similarity": ("atom-pair similarity to mestranol, clipped at 0.75",
                             lambda: similarity_term(MESTRANOL, "AP", clipped(0.75))),
    "isomers_c7h8n2o2": ("closeness to the formula C7H8N2O2", lambda: isomer_score("C7H8N2O2")),
    "isomers_c9h10n2o2pf2cl": ("closeness to the formula C9H10N2O2PF2Cl", lambda: isomer_score("C9H10N2O2PF2Cl")),
    "median1": ("geometric mean of ECFP4 similarity to camphor and menthol",
                lambda: geometric_mean([similarity_term("CC(C)C1CCC(C)CC1O", "ECFP4"),
                                        similarity_term("CC1(C)C2CCC1(C)C(=O)C2", "ECFP4")])),
    "median2": ("geometric mean of ECFP6 similarity to tadalafil and sildenafil",
                lambda: geometric_mean([
                    similarity_term("O=C1N(CC(N2C1CC3=C(C2C4=CC5=C(OCO5)C=C4)NC6=C3C=CC=C6)=O)C", "ECFP6"),
                    similarity_term("CCCC1=NN(C2=C1N=C(NC2=O)C3=C(C=CC(=C3)S(=O)(=O)N4CCN(CC4)C)OCC)C",
                                    "ECFP6")])),
    "osimertinib_mpo": ("osimertinib-like (FCFP4 ≥ 0.8) but not too similar (ECFP6 ≤ 0.85), TPSA ≥ 100, logP ≤ 1",
                        lambda: geometric_mean([similarity_term(OSIMERTINIB, "FCFP4", clipped(0.8)),
                                                similarity_term(OSIMERTINIB, "ECFP6", min_gaussian(0.85, 0.1)),
                                                descriptor_term(_tpsa, max_gaussian(100, 10)),
                                                descriptor_term(logp, min_gaussian(1, 1))])),
    "fexofenadine_mpo": ("fexofenadine-like (AP ≥ 0.8), TPSA ≥ 90, logP ≤ 4",
                         lambda: geometric_mean([similarity_term(FEXOFENADINE, "AP", clipped(0.8)),
                                                 descriptor_term(_tpsa, max_gaussian(90, 10)),
                                                 descriptor_term(logp, min_gaussian(4, 1))])),
    "ranolazine_mpo": ("ranolazine-like (AP ≥ 0.7), logP ≥ 7, TPSA ≥ 95, one fluorine",
                       lambda: geometric_mean([similarity_term(RANOLAZINE, "AP", clipped(0.7)),
                                               descriptor_term(logp, max_gaussian(7, 1)),
                                               descriptor_term(atom_count("F"), gaussian(1, 1.0)),
                                               descriptor_term(_tpsa, max_gaussian(95, 20))])),
    "perindopril_mpo": ("ECFP4 similarity to perindopril with two aromatic rings",
                        lambda: geometric_mean([similarity_term(PERINDOPRIL, "ECFP4"),
                                                descriptor_term(_aromatic_rings, gaussian(2, 0.5))])),
    "amlodipine_mpo": ("ECFP4 similarity to amlodipine with three rings",
                       lambda: geometric_mean([similarity_term(AMLODIPINE, "ECFP4"),
                                               descriptor_term(_num_rings, gaussian(3, 0.5))])),
    "sitagliptin_mpo": ("unlike sitagliptin (ECFP4) but with its logP, TPSA and formula", _sitagliptin_mpo),
    "zaleplon_mpo": ("ECFP4 similarity to zaleplon with the formula C19H17N3O2",
                     lambda: geometric_mean([similarity_term(ZALEPLON, "ECFP4"), isomer_score("C19H17N3O2")])),
    "valsartan_smarts": ("valsartan substructure with sitagliptin's logP, TPSA and Bertz complexity",
                         _valsartan_smarts),
    "deco_hop": ("keep the quinazoline scaffold, change the decorations, PHCO similarity ≥ 0.85",
                 lambda: arithmetic_mean([similarity_term(HOP_START, "PHCO", clipped(0.85)),
                                          smarts_term("CS([#6])(=O)=O", present=False),
                                          smarts_term("[#7]-c1ccc2ncsc2c1", present=False),
                                          smarts_term(HOP_SCAFFOLD, present=True)])),
    "scaffold_hop": ("keep the decorations, change the scaffold, PHCO similarity ≥ 0.75",
                     lambda: arithmetic_mean([
                         similarity_term(HOP_START, "PHCO", clipped(0.75)),
                         smarts_term("[#6]-[#6]-[#6]-[#8]-[#6]~[#6]~[#6]~[#6]~[#6]-[#7]-c1ccc2ncsc2c1"),
                         smarts_term(HOP_SCAFFOLD, present=False)])),
}

PROPERTY_ORACLES: dict[str, tuple[str, MolScore, bool]] = {
    "logP": ("Crippen logP", PROPERTY_FUNCTIONS["logP"], True),
    "QED": ("quantitative estimate of drug-likeness", PROPERTY_FUNCTIONS["QED"], True),
    "SA": ("synthetic accessibility (1 easy … 10 hard; minimised)", PROPERTY_FUNCTIONS["SA"], False),
    "MW": ("molecular weight", PROPERTY_FUNCTIONS["MW"], True),
    "TPSA": ("topological polar surface area", _tpsa, True),
    "penalized_logP": ("logP − SA − large rings, each standardised on ZINC250k", penalized_logp, True),
}


def available_oracles() -> list[str]:
    """Every built-in objective name (plus the ``similarity:SMILES`` and ``module:function`` forms)."""
    return [*PROPERTY_ORACLES, *GUACAMOL_TASKS]


__all__ = ["GUACAMOL_TASKS", "PROPERTY_ORACLES", "available_oracles", "penalized_logp"]
