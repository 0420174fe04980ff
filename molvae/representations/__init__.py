"""String representations of molecules: an atom-level SMILES tokenizer, SELFIES, and the vocabulary."""

from molvae.representations.base import Representation
from molvae.representations.registry import REPRESENTATIONS, get_representation
from molvae.representations.selfies import SelfiesRepresentation
from molvae.representations.smiles import SmilesRepresentation, tokenize_smiles
from molvae.representations.vocab import Vocabulary

__all__ = [
    "REPRESENTATIONS",
    "Representation",
    "SelfiesRepresentation",
    "SmilesRepresentation",
    "Vocabulary",
    "get_representation",
    "tokenize_smiles",
]
