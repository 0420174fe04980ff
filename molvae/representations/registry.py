"""Representations by name, as models and checkpoints refer to them."""

from __future__ import annotations

from molvae.errors import MolvaeError
from molvae.representations.base import Representation
from molvae.representations.graph import GraphRepresentation
from molvae.representations.selfies import SelfiesRepresentation
from molvae.representations.smiles import SmilesRepresentation

REPRESENTATIONS: dict[str, type[Representation]] = {
    "smiles": SmilesRepresentation,
    "selfies": SelfiesRepresentation,
    "graph": GraphRepresentation,
}


def get_representation(name: str) -> Representation:
    """Representation by name: ``smiles``, ``selfies``, or ``graph`` (atom types, for the graph model)."""
    if name not in REPRESENTATIONS:
        raise MolvaeError(f"unknown representation {name!r}; choose one of: {', '.join(REPRESENTATIONS)}")
    return REPRESENTATIONS[name]()
