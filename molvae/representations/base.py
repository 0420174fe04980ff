"""The interface a string representation offers the sequence models."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Representation(ABC):
    """Turns a SMILES string into tokens and tokens back into a SMILES string."""

    name: str

    @abstractmethod
    def tokenize(self, smiles: str) -> list[str]:
        """Tokens for one molecule; raises InvalidMoleculeError pointing at the failing position."""

    @abstractmethod
    def detokenize(self, tokens: list[str]) -> str:
        """The SMILES string the tokens spell (may be chemically invalid for SMILES)."""

    def to_string(self, tokens: list[str]) -> str:
        """The tokens joined in this representation's own alphabet (a SMILES or SELFIES string)."""
        return "".join(tokens)
