"""Shared pieces of generation: resolving the model argument and turning raw strings into result rows."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from molvae.chem.properties import PROPERTY_FUNCTIONS, property_table
from molvae.errors import MolvaeError
from molvae.generation.rows import OUTPUT_PROPERTIES
from molvae.models.base import MoleculeVAE
from molvae.training.checkpoint import load_model


def resolve_model(model: MoleculeVAE | str | Path | None, device: str | None = None) -> MoleculeVAE:
    """A model object as given, or loaded from a checkpoint path; None means the bundled model."""
    if isinstance(model, MoleculeVAE):
        return model.to(device) if device else model

    return load_model(model, device or "auto")


def condition_matrix(model: MoleculeVAE, smiles: Sequence[str], given: Mapping[str, float | str] | None = None,
                     known: Mapping[str, Sequence[float]] | None = None) -> torch.Tensor | None:
    """Condition vectors that describe molecules for the encoder of a conditional model.

    A value the user gives is used for every molecule; a built-in property the user leaves out is
    taken from ``known`` (per-molecule values already computed, e.g. shipped with the data) or
    computed from each molecule; any other condition must be given.
    """
    encoder = model.conditions
    if not encoder:
        return None
    given = dict(given or {})
    given = encoder.check_names(given)
    known = dict(known or {})
    computed = [name for name in encoder.continuous
                if name not in given and name not in known and name in PROPERTY_FUNCTIONS]
    table = property_table(smiles, computed, workers=os.cpu_count() or 1) if computed else None
    continuous = {}
    for name in encoder.continuous:
        if name in given:
            continuous[name] = [encoder.parse_number(name, given[name])] * len(smiles)
        elif name in known:
            continuous[name] = list(known[name])
        elif table is not None and name in computed:
            continuous[name] = table[name].tolist()
        else:
            raise MolvaeError(f"this model needs condition {name!r} to encode a molecule; give it as {name}=VALUE")
    categorical = {}
    for name in encoder.categorical:
        if name not in given:
            raise MolvaeError(f"this model needs label {name!r} to encode a molecule; give it as {name}=LABEL")
        categorical[name] = [str(given[name])] * len(smiles)
    return encoder.encode_columns(continuous, categorical)


def seeded_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator:
    """A random generator of its own (the global RNG is left alone); unseeded when ``seed`` is None."""
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


__all__ = ["OUTPUT_PROPERTIES", "condition_matrix", "resolve_model", "seeded_generator"]
