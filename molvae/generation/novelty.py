"""Which generated molecules are new: not among the molecules a model was trained on.

A checkpoint records its training data (``moses`` for the shipped models, else the file's path);
the canonical forms of those molecules are looked up through a sorted array of 64-bit hashes, built
once per file and cached (:func:`molvae.datasets.canonical.canonical_hashes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from molvae.datasets import resolve_data_path
from molvae.datasets.canonical import canonical_hashes, contained
from molvae.errors import MolvaeError
from molvae.models.base import MoleculeVAE


@dataclass(frozen=True)
class TrainingMolecules:
    """The molecules a model was trained on, as a lookup of canonical SMILES."""

    source: str
    hashes: np.ndarray

    def novel(self, smiles) -> np.ndarray:
        """True for each valid canonical SMILES that is not a training molecule (False for empty ones)."""
        smiles = list(smiles)
        return np.array([bool(s) for s in smiles], dtype=bool) & ~contained(self.hashes, smiles)


def training_molecules(model: MoleculeVAE, train: str | Path | None = None) -> TrainingMolecules | None:
    """The training molecules named by ``train`` (a file or ``moses``) or recorded in the model's
    checkpoint; None when the model records none, or its file is no longer there."""
    source = train if train is not None else model.training_data
    if source is None:
        return None
    path = resolve_data_path(source)
    if not path.is_file():
        if train is not None:
            raise MolvaeError(f"cannot read the training molecules {path}: no such file")
        return None
    return TrainingMolecules(str(source), canonical_hashes(path))


def require_training_molecules(model: MoleculeVAE, train: str | Path | None = None) -> TrainingMolecules:
    """:func:`training_molecules`, or a one-line error saying how to name them."""
    known = training_molecules(model, train)
    if known is None:
        raise MolvaeError("this model does not record the molecules it was trained on (or their file is gone), "
                          "so new molecules cannot be told apart; name them with --train FILE "
                          "(train=FILE in Python)")
    return known
