"""Graph featurizer of the graph model: encoder arrays and the decoder's teacher-forcing steps.

An item holds the molecule's atoms and bonds in input order (for the order-independent encoder)
and its action sequence (:mod:`molvae.representations.graph`) laid out as the decoder's steps: at
every step the class to predict (stop, an atom type, or a bond to an earlier atom with an order)
and the embedding indices of the previous action, the step's input. A fixed share of molecules
(``scaffold_orders``, chosen by a hash of the canonical SMILES, so the same molecules every epoch
and on every machine) is laid out scaffold first, the rest in canonical order.

Many items (a training set) are kept flat in a :class:`GraphTable`: a few arrays and offsets, built
on several processes, saved and memory-mapped back in seconds by the training cache.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem

from molvae.chem.molecules import parse_smiles
from molvae.errors import InvalidMoleculeError
from molvae.representations.graph import MolGraph, encoder_graph, graph_from_mol

MAX_REL = 16        # atom-index distances (new atom - partner) above this share one embedding


@dataclass
class GraphItem:
    """A featurised molecule: encoder arrays in input order, decoder steps in canonical order."""

    atom_features: np.ndarray   # (n, 7) int: type index first, see ATOM_FEATURES
    bonds: np.ndarray           # (m, 2) int
    bond_features: np.ndarray   # (m, 4) int, see BOND_FEATURES
    steps: np.ndarray           # (S, 5) int: target class, input kind, input atom, input bond, input distance
    types: np.ndarray           # (n,) atom type index in canonical order
    key_steps: np.ndarray       # (n,) decoder step whose output describes atom i (the step after it was added)

    def __len__(self) -> int:
        return len(self.atom_features)


class GraphFeaturizer:
    """Molecules as :class:`GraphItem` over one atom vocabulary, batched as one disjoint graph."""

    def __init__(self, atom_types: list[str], max_atoms: int, scaffold_orders: float = 0.0):
        self.atom_types, self.max_atoms = list(atom_types), max_atoms
        self.scaffold_orders = scaffold_orders
        self.type_index = {t: i for i, t in enumerate(self.atom_types)}

    @property
    def n_types(self) -> int:
        return len(self.atom_types)

    @property
    def cache_settings(self) -> dict:
        """Everything the items depend on besides the molecules (a key of the training cache)."""
        return {"featurizer": "graph", "atom_types": self.atom_types, "max_atoms": self.max_atoms,
                "scaffold_orders": self.scaffold_orders, "format": TABLE_FORMAT}

    def scaffold_first(self, canonical_smiles: str) -> bool:
        """Whether this molecule's decoder steps start with its scaffold (fixed per molecule)."""
        return zlib.crc32(canonical_smiles.encode()) % 10_000 < self.scaffold_orders * 10_000

    def from_prepared(self, smiles: str, tokens) -> GraphItem:
        """The item of a molecule from data preparation, which has already checked that the graph
        model can rebuild it (its atom-type tokens are not enough: the graph is built again)."""
        mol = Chem.MolFromSmiles(smiles)
        return self.featurize_graph(graph_from_mol(mol, self.scaffold_first(smiles), check=False), smiles)

    def prepared_items(self, smiles: Sequence[str], workers: int = 1) -> GraphTable:
        """:meth:`from_prepared` of many molecules, on ``workers`` processes, as one flat table."""
        chunks = [list(smiles[i:i + CHUNK]) for i in range(0, len(smiles), CHUNK)]
        jobs = [(self.atom_types, self.max_atoms, self.scaffold_orders, chunk) for chunk in chunks]
        if workers > 1 and len(chunks) > 1:
            with get_context("spawn").Pool(workers) as pool:
                tables = pool.map(_table_of_chunk, jobs)
        else:
            tables = [_table_of_chunk(job) for job in jobs]
        return GraphTable.concatenate(tables)

    def featurize(self, smiles: str) -> GraphItem:
        return self.featurize_mol(self._parse(smiles), source=smiles)

    def encoder_item(self, smiles: str) -> GraphItem:
        """What the encoder reads of :meth:`featurize` (atoms and bonds; no decoder steps), at about a
        third of its cost: for encoding with a model whose encoder does not read the actions."""
        graph, _ = encoder_graph(self._parse(smiles))
        empty = np.zeros(0, dtype=np.int16)
        return GraphItem(self._typed_atoms(graph, smiles)[0], graph.bonds, graph.bond_features,
                         np.zeros((0, 5), dtype=np.int16), empty, empty)

    @staticmethod
    def _parse(smiles: str) -> Chem.Mol:
        mol = parse_smiles(smiles)
        if mol is None:
            raise InvalidMoleculeError(f"RDKit could not parse or sanitise {smiles!r}")
        return mol

    def featurize_mol(self, mol, source: str = "") -> GraphItem:
        """The item for an RDKit molecule, keeping its atom numbering for the encoder."""
        return self.featurize_graph(graph_from_mol(mol, self.scaffold_first(Chem.MolToSmiles(mol))), source)

    def featurize_graph(self, graph: MolGraph, source: str = "") -> GraphItem:
        """Map atom types to the model's vocabulary and lay out the decoder's teacher-forcing steps."""
        atoms, index = self._typed_atoms(graph, source)
        types = np.array([index[a] for a in graph.order], dtype=np.int16)
        steps, key_steps = self._steps(graph.actions, types)
        return GraphItem(atoms, graph.bonds, graph.bond_features, steps, types, key_steps)

    def _typed_atoms(self, graph: MolGraph, source: str) -> tuple[np.ndarray, list[int]]:
        """The atom features with the model's type index in the first column, and those indices; an
        error for a molecule above the atom limit or with a type outside the vocabulary."""
        if graph.num_atoms > self.max_atoms:
            raise InvalidMoleculeError(f"{source or 'molecule'} has {graph.num_atoms} atoms; this model builds at "
                                       f"most {self.max_atoms}")
        index = []
        for position, token in enumerate(graph.tokens):
            if token not in self.type_index:
                where = f" of {source!r}" if source else ""
                raise InvalidMoleculeError(f"atom {position + 1} ({token}){where} is not in the model's atom "
                                           f"vocabulary: {' '.join(self.atom_types)}")
            index.append(self.type_index[token])
        atoms = graph.atom_features.astype(np.int16)
        atoms[:, 0] = index
        return atoms, index

    def _steps(self, actions, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per step: the target class, and the embedding indices of the previous action (the input)."""
        rows, key_steps = [], []
        previous = (0, 0, 0, 0)  # begin
        count = 0
        for action in actions:
            if action[0] == "atom":
                t = self.type_index[action[1]]
                rows.append((1 + t, *previous))
                previous = (1, 1 + t, 0, 0)
                count += 1
                key_steps.append(len(rows))
            elif action[0] == "bond":
                j, order = action[1], action[2]
                rows.append((1 + self.n_types + 3 * j + order - 1, *previous))
                previous = (2, 1 + int(types[j]), order, min(count - 1 - j, MAX_REL))
            else:
                rows.append((0, *previous))
        return np.array(rows, dtype=np.int16), np.array(key_steps, dtype=np.int16)

    def collate(self, items: list[GraphItem], conditions: torch.Tensor | None) -> dict[str, torch.Tensor]:
        sizes = [len(it.atom_features) for it in items]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        bonds = np.concatenate([it.bonds.astype(np.int64) + o for it, o in zip(items, offsets, strict=True)])
        steps_len = max(len(it.steps) for it in items)
        n_max = max(sizes)
        steps = np.zeros((len(items), steps_len, 5), dtype=np.int64)
        steps[:, :, 0] = -1
        types = np.full((len(items), n_max), -1, dtype=np.int64)
        key_steps = np.zeros((len(items), n_max), dtype=np.int64)
        for i, it in enumerate(items):
            steps[i, : len(it.steps)] = it.steps
            types[i, : len(it.types)] = it.types
            key_steps[i, : len(it.types)] = np.minimum(it.key_steps, steps_len - 1)
        batch = {
            "atom_features": torch.from_numpy(np.concatenate([it.atom_features for it in items]).astype(np.int64)),
            "edge_index": torch.from_numpy(bonds.T.copy()).reshape(2, -1),
            "bond_features": torch.from_numpy(np.concatenate([it.bond_features for it in items]).astype(np.int64)),
            "atom_graph": torch.from_numpy(np.repeat(np.arange(len(items)), sizes)),
            "steps": torch.from_numpy(steps),
            "types": torch.from_numpy(types),
            "key_steps": torch.from_numpy(key_steps),
        }
        if conditions is not None:
            batch["c"] = conditions
        return batch



TABLE_FORMAT = 1
CHUNK = 20_000
_ARRAYS = ("atom_features", "bonds", "bond_features", "steps", "types", "key_steps")
_OFFSETS = {"atom_features": "atoms", "types": "atoms", "key_steps": "atoms", "bonds": "bonds",
            "bond_features": "bonds", "steps": "steps"}


class GraphTable(Sequence):
    """Many :class:`GraphItem` stored as one array per field plus offsets; ``table[i]`` is item i
    (views, no copies), so a million molecules cost a few arrays instead of millions of objects."""

    def __init__(self, arrays: dict[str, np.ndarray], offsets: dict[str, np.ndarray]):
        self.arrays, self.offsets = arrays, offsets

    @classmethod
    def from_items(cls, items: Sequence[GraphItem]) -> GraphTable:
        arrays = {name: np.concatenate([getattr(it, name) for it in items]) if items else
                  np.zeros((0,), dtype=np.int16) for name in _ARRAYS}
        arrays = {name: a.astype(np.int8 if name.endswith("features") else np.int16) for name, a in arrays.items()}
        offsets = {}
        for name, key in (("types", "atoms"), ("bonds", "bonds"), ("steps", "steps")):
            offsets[key] = np.zeros(len(items) + 1, dtype=np.int64)
            np.cumsum([len(getattr(it, name)) for it in items], out=offsets[key][1:])
        return cls(arrays, offsets)

    @classmethod
    def concatenate(cls, tables: Sequence[GraphTable]) -> GraphTable:
        arrays = {name: np.concatenate([t.arrays[name] for t in tables]) for name in _ARRAYS}
        offsets = {}
        for key in ("atoms", "bonds", "steps"):
            starts = np.cumsum([0, *(t.offsets[key][-1] for t in tables[:-1])])
            offsets[key] = np.concatenate([[0], *(t.offsets[key][1:] + s for t, s in zip(tables, starts))])
        return cls(arrays, offsets)

    def __len__(self) -> int:
        return len(self.offsets["atoms"]) - 1

    def __getitem__(self, i):  # one item (slices are not needed by the training path)
        views = {}
        for name in _ARRAYS:
            offsets = self.offsets[_OFFSETS[name]]
            views[name] = self.arrays[name][offsets[i]:offsets[i + 1]]
        return GraphItem(**views)

    def save(self, folder: Path) -> None:
        for name, array in {**self.arrays, **{f"offsets_{k}": v for k, v in self.offsets.items()}}.items():
            np.save(folder / f"{name}.npy", array)

    @classmethod
    def load(cls, folder: Path) -> GraphTable:
        """The table saved in ``folder``, memory-mapped; raises OSError or ValueError if it is damaged."""
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        offsets = {key: np.load(folder / f"offsets_{key}.npy") for key in ("atoms", "bonds", "steps")}
        for name, array in arrays.items():
            if len(array) != offsets[_OFFSETS[name]][-1]:
                raise ValueError(f"{name} holds {len(array)} rows where the offsets need {offsets[_OFFSETS[name]][-1]}")
        return cls(arrays, offsets)


def _table_of_chunk(job: tuple[list[str], int, float, list[str]]) -> GraphTable:
    atom_types, max_atoms, scaffold_orders, smiles = job
    featurizer = GraphFeaturizer(atom_types, max_atoms, scaffold_orders)
    return GraphTable.from_items([featurizer.from_prepared(s, None) for s in smiles])
