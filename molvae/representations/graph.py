"""Molecules as graphs for the graph VAE: features, a canonical atom order and decoder actions.

A molecule is read into :class:`MolGraph`: categorical atom and bond features in the molecule's
own atom order (what the message-passing encoder sees), and the same molecule as a kekulised graph
in a canonical breadth-first order (what the decoder builds). Atom types are an element with its
formal charge (``"C"``, ``"N+"``, ``"O-"``); hydrogens are implicit and aromaticity is re-perceived
by RDKit from the kekulised single/double/triple bonds, so a decoder only has to respect valences.

The decoder's action sequence for atoms 0..n-1 in canonical order is::

    ("atom", t0), ("atom", t1), ("bond", j, order), ..., ("atom", t2), ("bond", j, order), ..., ("stop",)

Every atom after the first is followed by its bonds to earlier atoms, in increasing ``j``; the first
of them goes to its breadth-first parent, so every prefix of the sequence is one connected fragment.

A second order, :func:`scaffold_first_order`, builds the molecule's Bemis–Murcko scaffold first (in
the scaffold's own canonical order, exactly as :func:`scaffold_prefix` lays out a scaffold given on
its own) and the rest breadth-first from it. The graph model trains on it for part of the molecules,
so that a scaffold forced as the prefix of a generation is a start the decoder has seen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from molvae.chem.molecules import parse_smiles
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.representations.base import Representation

# Largest sum of bond orders per atom type; hydrogens fill up to the type's RDKit valence. Every value
# is one RDKit accepts with implicit hydrogens (checked in the tests), so a graph that respects these
# limits always sanitises.
MAX_VALENCE: dict[str, int] = {
    "C": 4, "N": 3, "O": 2, "F": 1, "P": 5, "S": 6, "Cl": 1, "Br": 1, "I": 1, "B": 3, "Si": 4, "Se": 6,
    "C-": 3, "C+": 3, "N+": 4, "N-": 2, "O+": 3, "O-": 1, "S+": 3, "S-": 1, "P+": 4, "B-": 4,
}
BOND_ORDERS = {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3}
BOND_TYPES = {order: kind for kind, order in BOND_ORDERS.items()}
CHIRAL_TAGS = {Chem.ChiralType.CHI_UNSPECIFIED: 0, Chem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
               Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 2}
BOND_STEREO = {Chem.BondStereo.STEREONONE: 0, Chem.BondStereo.STEREOZ: 1, Chem.BondStereo.STEREOCIS: 1,
               Chem.BondStereo.STEREOE: 2, Chem.BondStereo.STEREOTRANS: 2}

# Categorical atom feature columns and their sizes (values are clipped into range).
ATOM_FEATURES = {"type": None, "charge": 3, "aromatic": 2, "ring": 2, "chirality": 4, "hydrogens": 5, "degree": 6}
BOND_FEATURES = {"order": 3, "aromatic": 2, "ring": 2, "stereo": 4}

Action = tuple[str] | tuple[str, str] | tuple[str, int, int]


def atom_token(symbol: str, charge: int) -> str:
    """The atom-type name of an element with a formal charge: ``C``, ``N+``, ``O-``."""
    return symbol + {0: "", 1: "+", -1: "-"}.get(charge, f"{charge:+d}")


def token_charge(token: str) -> tuple[str, int]:
    """Element symbol and formal charge of an atom-type name."""
    if token.endswith("+"):
        return token[:-1], 1
    if token.endswith("-"):
        return token[:-1], -1
    return token, 0


def max_valence(token: str) -> int:
    """The largest bond-order sum an atom of this type may carry."""
    if token not in MAX_VALENCE:
        raise InvalidMoleculeError(f"atom type {token!r} is not supported by the graph representation; "
                                   f"supported: {' '.join(MAX_VALENCE)}")
    return MAX_VALENCE[token]


@dataclass
class MolGraph:
    """One molecule for the graph VAE.

    ``atom_features`` (n, 7) and ``bonds``/``bond_features`` (m, 2)/(m, 4) follow the input atom
    order, with the atom type as a string in ``tokens``; ``order`` maps canonical position → input
    atom, and ``actions`` is the decoder's sequence over the canonical order (both empty from
    :func:`encoder_graph`).
    """

    tokens: list[str]
    atom_features: np.ndarray
    bonds: np.ndarray
    bond_features: np.ndarray
    order: list[int]
    actions: list[Action]

    @property
    def num_atoms(self) -> int:
        return len(self.tokens)


def _describe(atom: Chem.Atom) -> str:
    return f"atom {atom.GetIdx() + 1} ({atom_token(atom.GetSymbol(), atom.GetFormalCharge())})"


def _check_atom(atom: Chem.Atom, bond_valence: int) -> str:
    """The atom's type, or an error naming the atom when the decoder could not rebuild it."""
    token = atom_token(atom.GetSymbol(), atom.GetFormalCharge())
    if token not in MAX_VALENCE:
        raise InvalidMoleculeError(f"{_describe(atom)}: element or charge outside the graph vocabulary "
                                   f"(supported atom types: {' '.join(MAX_VALENCE)})")
    if atom.GetIsotope():
        raise InvalidMoleculeError(f"{_describe(atom)}: isotope labels are not supported by the graph model")
    if atom.GetNumRadicalElectrons():
        raise InvalidMoleculeError(f"{_describe(atom)}: radicals are not supported by the graph model")
    if bond_valence > MAX_VALENCE[token]:
        raise InvalidMoleculeError(f"{_describe(atom)}: valence {bond_valence} is above the {MAX_VALENCE[token]} "
                                   f"the graph model allows for {token}")
    return token


def canonical_order(mol: Chem.Mol) -> list[int]:
    """Atoms in breadth-first order from the lowest RDKit canonical rank, neighbours by rank.

    Depends only on the molecule, not on how its atoms are numbered."""
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    return _breadth_first(mol, [min(range(mol.GetNumAtoms()), key=ranks.__getitem__)], ranks)


def murcko_scaffold(mol: Chem.Mol) -> Chem.Mol | None:
    """The molecule's Bemis–Murcko scaffold as parsed from its SMILES (as a user would give it), or
    None for a molecule without rings."""
    smiles = MurckoScaffold.MurckoScaffoldSmiles(mol=mol)
    return Chem.MolFromSmiles(smiles) if smiles else None


def scaffold_first_order(mol: Chem.Mol) -> list[int]:
    """The scaffold's atoms first, in :func:`canonical_order` of the scaffold on its own, then the
    other atoms breadth-first from them; the canonical order for a molecule without a ring."""
    scaffold = murcko_scaffold(mol)
    if scaffold is None or scaffold.GetNumAtoms() == mol.GetNumAtoms():
        return canonical_order(mol)
    within = canonical_order(scaffold)
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    # a symmetric scaffold fits several ways: take the one the molecule's own ranks list first, so
    # the order does not depend on how the atoms are numbered
    placed = [[match[i] for i in within] for match in mol.GetSubstructMatches(scaffold, uniquify=False,
                                                                               maxMatches=1000)]
    if not placed:
        return canonical_order(mol)
    return _breadth_first(mol, min(placed, key=lambda atoms: [ranks[a] for a in atoms]), ranks)


def _breadth_first(mol: Chem.Mol, start: list[int], ranks: list[int]) -> list[int]:
    """``start`` as given, then every other atom breadth-first from it, neighbours by rank."""
    order, seen, queue = list(start), set(start), deque(start)
    while queue:
        for nb in sorted((n.GetIdx() for n in mol.GetAtomWithIdx(queue.popleft()).GetNeighbors()),
                         key=ranks.__getitem__):
            if nb not in seen:
                seen.add(nb)
                order.append(nb)
                queue.append(nb)
    return order


def graph_from_mol(mol: Chem.Mol, scaffold_first: bool = False, check: bool = True) -> MolGraph:
    """Features and decoder actions of a sanitised, single-fragment RDKit molecule, in canonical order
    or, with ``scaffold_first``, in :func:`scaffold_first_order`.

    Raises InvalidMoleculeError naming the atom when an element, charge, isotope or valence is
    outside what the graph decoder can build. ``check=False`` skips rebuilding the molecule from its
    actions to compare hydrogen counts, for molecules already checked (prepared training data)."""
    graph, kekule = encoder_graph(mol)
    order = scaffold_first_order(mol) if scaffold_first else canonical_order(mol)
    actions = _actions(kekule, graph.tokens, order)
    if check:
        _check_hydrogens(mol, actions, order)
    graph.order, graph.actions = order, actions
    return graph


def encoder_graph(mol: Chem.Mol) -> tuple[MolGraph, Chem.Mol]:
    """What the encoder reads of :func:`graph_from_mol` (atom and bond features; no order, no actions),
    with the same errors for atoms the decoder could not build, and the kekulised molecule."""
    if mol is None or mol.GetNumAtoms() == 0:
        raise InvalidMoleculeError("empty molecule")
    if len(Chem.GetMolFrags(mol)) > 1:
        raise InvalidMoleculeError("the graph model reads single molecules, not several fragments")
    kekule = Chem.Mol(mol)
    Chem.Kekulize(kekule, clearAromaticFlags=True)
    valence = [0] * mol.GetNumAtoms()
    bonds, bond_features = [], []
    for bond in kekule.GetBonds():
        bond_order = BOND_ORDERS.get(bond.GetBondType())
        if bond_order is None:
            raise InvalidMoleculeError(f"bond {bond.GetIdx() + 1} has type {bond.GetBondType()}, which the graph "
                                       "model cannot build")
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        valence[i] += bond_order
        valence[j] += bond_order
        original = mol.GetBondWithIdx(bond.GetIdx())
        bonds.append((i, j))
        bond_features.append((bond_order - 1, int(original.GetIsAromatic()), int(original.IsInRing()),
                              BOND_STEREO.get(original.GetStereo(), 3)))
    tokens = [_check_atom(atom, valence[atom.GetIdx()]) for atom in mol.GetAtoms()]
    atom_features = np.array([(0, atom.GetFormalCharge() + 1, int(atom.GetIsAromatic()), int(atom.IsInRing()),
                               CHIRAL_TAGS.get(atom.GetChiralTag(), 3), min(atom.GetTotalNumHs(), 4),
                               min(atom.GetDegree(), 5)) for atom in mol.GetAtoms()], dtype=np.int8)
    graph = MolGraph(tokens, atom_features, np.array(bonds, dtype=np.int16).reshape(-1, 2),
                     np.array(bond_features, dtype=np.int8).reshape(-1, 4), [], [])
    return graph, kekule


def _actions(kekule: Chem.Mol, tokens: list[str], order: list[int]) -> list[Action]:
    position = {atom: i for i, atom in enumerate(order)}
    actions: list[Action] = []
    for i, atom in enumerate(order):
        actions.append(("atom", tokens[atom]))
        earlier = sorted((position[b.GetOtherAtomIdx(atom)], BOND_ORDERS[b.GetBondType()])
                         for b in kekule.GetAtomWithIdx(atom).GetBonds() if position[b.GetOtherAtomIdx(atom)] < i)
        actions += [("bond", j, order_) for j, order_ in earlier]
    actions.append(("stop",))
    return actions


def _check_hydrogens(mol: Chem.Mol, actions: list[Action], order: list[int]) -> None:
    """Hydrogens are implicit in the decoder's graphs: the rebuilt atoms must carry the same counts."""
    try:
        rebuilt = mol_from_actions(actions)
    except ValueError as err:  # RDKit's sanitisation errors derive from ValueError
        raise InvalidMoleculeError(f"the graph model cannot rebuild this molecule: {err}") from None
    for i, atom in enumerate(order):
        original = mol.GetAtomWithIdx(atom)
        if rebuilt.GetAtomWithIdx(i).GetTotalNumHs() != original.GetTotalNumHs():
            raise InvalidMoleculeError(f"{_describe(original)}: {original.GetTotalNumHs()} hydrogens where the "
                                       "graph model's valence rules give "
                                       f"{rebuilt.GetAtomWithIdx(i).GetTotalNumHs()}")


@dataclass
class ScaffoldPrefix:
    """A scaffold laid out as the first actions of a generation.

    ``actions`` build the scaffold in :func:`canonical_order` (stop excluded); ``growable`` says, per
    scaffold atom in that order, whether new atoms may bond to it (the atoms marked by ``[*]``, or
    every atom when the scaffold has no ``[*]``); ``query`` is the scaffold without its ``[*]`` atoms,
    which every decorated molecule must contain."""

    smiles: str
    tokens: list[str]
    actions: list[Action]
    growable: list[bool]
    query: Chem.Mol


def scaffold_prefix(smiles: str) -> ScaffoldPrefix:
    """Parse a scaffold given as SMILES (``[*]`` marks attachment points) into decoder actions.

    Raises InvalidMoleculeError when it does not parse, has several fragments or holds an atom type
    the graph representation cannot build."""
    mol = Chem.MolFromSmiles(smiles) if smiles.strip() else None
    if mol is None:
        raise InvalidMoleculeError(f"the scaffold {smiles!r} is not a SMILES RDKit can parse")
    marked = any(atom.GetAtomicNum() == 0 for atom in mol.GetAtoms())
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 0:
            if atom.GetDegree() != 1:
                raise InvalidMoleculeError(f"the scaffold {smiles!r}: each [*] must be bonded to one atom")
            atom.GetNeighbors()[0].SetBoolProp("attachment", True)
            atom.SetAtomicNum(1)  # an attachment point is a hydrogen the decoder may replace
    core = Chem.RemoveHs(mol)
    if core.GetNumAtoms() == 0:
        raise InvalidMoleculeError(f"the scaffold {smiles!r} has no atoms besides [*]")
    graph = graph_from_mol(core)
    growable = [not marked or bool(core.GetAtomWithIdx(a).HasProp("attachment")) for a in graph.order]
    return ScaffoldPrefix(smiles, [graph.tokens[a] for a in graph.order], graph.actions[:-1], growable, core)


def graph_from_smiles(smiles: str) -> MolGraph:
    """:func:`graph_from_mol` for a SMILES string; an unparsable string raises InvalidMoleculeError."""
    mol = parse_smiles(smiles)
    if mol is None:
        raise InvalidMoleculeError(f"RDKit could not parse or sanitise {smiles!r}")
    return graph_from_mol(mol)


def graph_from_actions(actions: list[Action]) -> tuple[list[str], list[tuple[int, int, int]]]:
    """Atom types and bonds ``(i, j, order)`` (i > j) that an action sequence builds."""
    tokens: list[str] = []
    bonds: list[tuple[int, int, int]] = []
    for kind, *args in actions:
        if kind == "atom":
            tokens.append(str(args[0]))
        elif kind == "bond":
            bonds.append((len(tokens) - 1, int(args[0]), int(args[1])))
        elif kind == "stop":
            break
    return tokens, bonds


def mol_from_graph(tokens: list[str], bonds: list[tuple[int, int, int]]) -> Chem.Mol:
    """A sanitised RDKit molecule from atom types and kekulé bonds; hydrogens are implicit."""
    mol = Chem.RWMol()
    for token in tokens:
        symbol, charge = token_charge(token)
        atom = Chem.Atom(symbol)
        atom.SetFormalCharge(charge)
        mol.AddAtom(atom)
    for i, j, order in bonds:
        mol.AddBond(int(i), int(j), BOND_TYPES[int(order)])
    mol = mol.GetMol()
    Chem.SanitizeMol(mol)
    return mol


def mol_from_actions(actions: list[Action]) -> Chem.Mol:
    """The sanitised molecule an action sequence builds."""
    return mol_from_graph(*graph_from_actions(actions))


def graph_text(tokens: list[str], bonds: list[tuple[int, int, int]]) -> str:
    """A decoded graph as plain text, the graph model's raw output: atom types, then ``i-j:order``
    bonds (``C C O | 1-0:1 2-1:2``); RDKit reads it back in worker processes (:func:`mol_from_text`)."""
    return " ".join(tokens) + " | " + " ".join(f"{i}-{j}:{order}" for i, j, order in bonds)


def mol_from_text(text: str) -> Chem.Mol | None:
    """The sanitised molecule of a :func:`graph_text` string, or None if it is malformed or RDKit
    rejects it (never expected under the decoder's valence masks)."""
    atoms, _, bond_text = text.partition("|")
    tokens = atoms.split()
    try:
        bonds = [(int(i), int(j), int(order)) for i, _, rest in (b.partition("-") for b in bond_text.split())
                 for j, _, order in [rest.partition(":")]]
        return mol_from_graph(tokens, bonds) if tokens else None
    except (ValueError, KeyError, RuntimeError):  # malformed text, unknown element or order, sanitisation
        return None


def smiles_from_graph(tokens: list[str], bonds: list[tuple[int, int, int]]) -> str:
    """Canonical SMILES of a decoded graph; the empty string if RDKit rejects it."""
    if not tokens:
        return ""
    try:
        mol = mol_from_graph(tokens, bonds)
    except (ValueError, RuntimeError):  # sanitisation errors (never expected under valence masks)
        return ""
    return Chem.MolToSmiles(mol)


class GraphRepresentation(Representation):
    """The graph model's view of a SMILES during data preparation: its atom types (the vocabulary).

    ``tokenize`` raises InvalidMoleculeError naming the atom when the molecule is outside what the
    graph decoder can build, so data preparation skips and counts it."""

    name = "graph"

    def tokenize(self, smiles: str) -> list[str]:
        return graph_from_smiles(smiles).tokens

    def detokenize(self, tokens: list[str]) -> str:
        raise MolvaeError("the graph representation's atom types do not spell a molecule; "
                          "the graph model builds molecules from its actions")
