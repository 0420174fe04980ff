"""Graph featurizer of the graph model: encoder arrays and the decoder's teacher-forcing steps.

An item holds the molecule's atoms and bonds in input order (for the order-independent encoder)
and its action sequence in canonical order (:mod:`molvae.representations.graph`) laid out as the
decoder's steps: at every step the class to predict (stop, an atom type, or a bond to an earlier
atom with an order) and the embedding indices of the previous action, the step's input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from molvae.errors import InvalidMoleculeError
from molvae.representations.graph import MolGraph, graph_from_mol, graph_from_smiles

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
        return len(self.types)


class GraphFeaturizer:
    """Molecules as :class:`GraphItem` over one atom vocabulary, batched as one disjoint graph."""

    def __init__(self, atom_types: list[str], max_atoms: int):
        self.atom_types, self.max_atoms = list(atom_types), max_atoms
        self.type_index = {t: i for i, t in enumerate(self.atom_types)}

    @property
    def n_types(self) -> int:
        return len(self.atom_types)

    def from_prepared(self, smiles: str, tokens) -> GraphItem:
        """The item of a molecule from data preparation (its atom-type tokens are not enough: the
        graph is built again from the canonical SMILES)."""
        return self.featurize(smiles)

    def featurize(self, smiles: str) -> GraphItem:
        return self.featurize_graph(graph_from_smiles(smiles), smiles)

    def featurize_mol(self, mol) -> GraphItem:
        """The item for an RDKit molecule, keeping its atom numbering for the encoder."""
        return self.featurize_graph(graph_from_mol(mol))

    def featurize_graph(self, graph: MolGraph, source: str = "") -> GraphItem:
        """Map atom types to the model's vocabulary and lay out the decoder's teacher-forcing steps."""
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
        types = np.array([index[a] for a in graph.order], dtype=np.int16)
        steps, key_steps = self._steps(graph.actions, types)
        return GraphItem(atoms, graph.bonds, graph.bond_features, steps, types, key_steps)

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

