"""Atom-level SMILES tokenizer.

One token per atom (bracket atoms such as ``[nH]`` or ``[C@@H]`` whole, two-letter ``Br`` and ``Cl``),
bond, branch, and ring-closure digit, including two-digit ``%NN`` closures.
"""

from __future__ import annotations

import re

from molvae.errors import InvalidMoleculeError
from molvae.representations.base import Representation

_TOKEN = re.compile(
    r"\[[^\[\]]+\]"          # bracket atom
    r"|Br|Cl"                # two-letter organic-subset atoms
    r"|[BCNOPSFI]|[bcnops]"  # one-letter organic-subset atoms, aromatic forms
    r"|%\d{2}|\d"            # ring closures
    r"|[=#\-+\\/:~.()*$@]"   # bonds, branches, dot, wildcard
)


def tokenize_smiles(smiles: str) -> list[str]:
    """Split a SMILES string into tokens; an unrecognised character raises with its position."""
    tokens = _TOKEN.findall(smiles)
    if "".join(tokens) == smiles:  # every character is part of a token: the usual case, in one call
        return tokens
    tokens, position = [], 0
    while position < len(smiles):
        match = _TOKEN.match(smiles, position)
        if match is None:
            raise InvalidMoleculeError(
                f"cannot tokenise SMILES {smiles!r}: unexpected character "
                f"{smiles[position]!r} at position {position}")
        tokens.append(match.group())
        position = match.end()
    return tokens


class SmilesRepresentation(Representation):
    """SMILES strings split by :func:`tokenize_smiles`."""

    name = "smiles"

    def tokenize(self, smiles: str) -> list[str]:
        return tokenize_smiles(smiles)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)
