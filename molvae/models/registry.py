"""Model name → class. A new model adds one line here and nothing elsewhere."""

from __future__ import annotations

from typing import Any

from molvae.core.conditions import ConditionEncoder
from molvae.errors import MolvaeError
from molvae.models.base import MoleculeVAE
from molvae.models.graph import GraphVAE
from molvae.models.property_head import PropertyHeadVAE
from molvae.models.sequence import SequenceVAE

MODELS: dict[str, type[MoleculeVAE]] = {
    SequenceVAE.model_name: SequenceVAE,
    GraphVAE.model_name: GraphVAE,
    PropertyHeadVAE.model_name: PropertyHeadVAE,
}


def build_model(name: str, config: dict[str, Any], extra: dict[str, Any],
                conditions: ConditionEncoder | None = None) -> MoleculeVAE:
    """Construct a model by registry name from its config, extra state and condition encoder."""
    if name not in MODELS:
        raise MolvaeError(f"unknown model {name!r}; available: {', '.join(MODELS)}")
    return MODELS[name].from_parts(config, extra, conditions)
