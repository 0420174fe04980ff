"""Featurizers: molecules into model inputs, one per representation, outside the models.

A featurizer turns a molecule into an *item* (token ids, or a molecular graph with its decoder
steps) and a list of items into a *batch* of tensors. Models hold the featurizer that fits their
vocabulary but are otherwise networks plus ``generate``; datasets, training and encoding call the
featurizer. Both kinds offer the same methods, so no caller needs to know which one it has.
"""

from collections.abc import Sequence
from typing import Any, Protocol

import torch

from molvae.featurizers.graph import GraphFeaturizer, GraphItem
from molvae.featurizers.tokens import TokenFeaturizer


class Featurizer(Protocol):
    """What every featurizer offers (TokenFeaturizer, GraphFeaturizer)."""

    def featurize(self, smiles: str) -> Any:
        """The item of one molecule; raises InvalidMoleculeError, pointing at the cause, if it cannot."""

    def from_prepared(self, smiles: str, tokens: Sequence[str]) -> Any:
        """The item of a molecule that data preparation has already validated and tokenised."""

    def collate(self, items: list[Any], conditions: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """A batch (tensors on the CPU) from items and their condition vectors."""

__all__ = ["Featurizer", "GraphFeaturizer", "GraphItem", "TokenFeaturizer"]
