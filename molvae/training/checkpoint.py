"""A checkpoint is one file of plain data that ``torch.load(weights_only=True)`` reads.

Keys: ``format_version``, ``model_name``, ``config`` (hyper-parameters), ``vocabulary`` (what the
model needs to read and write molecules), ``conditions`` (property statistics and labels),
``prior`` (the prior samples are drawn from: standard, or a mixture fitted after training),
``state_dict``, ``versions`` and ``metadata``; a training checkpoint adds ``trainer`` (optimiser
and progress) so ``--resume`` continues where a run stopped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import rdkit
import selfies
import torch

from molvae._version import __version__
from molvae.core.conditions import ConditionEncoder
from molvae.core.priors import prior_from_dict
from molvae.devices import resolve_device
from molvae.errors import MolvaeError
from molvae.files import disk_full_error, replace_atomically
from molvae.models.registry import build_model

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SHIPPED = {"bundled": "molvae_smiles_moses.pt",  # the default: a SMILES CVAE on logP, QED and SA
           "selfies": "molvae_selfies_moses.pt",  # the first shipped model: a SELFIES CVAE, always valid
           "property-head": "molvae_selfies_moses_property_head.pt",  # logP/QED/SA head, for optimisation
           "graph": "molvae_graph_moses.pt"}  # the graph CVAE on logP, QED and SA: valid by construction, scaffolds
PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained" / SHIPPED["bundled"]


def checkpoint_path(path: str | Path | None) -> Path:
    """The file behind a model argument: a path, a shipped model's name (``bundled``, ``selfies``,
    ``property-head``, ``graph``) when no such file exists, or None for the bundled model."""
    if path is None:
        return PRETRAINED
    if str(path) in SHIPPED and not Path(path).exists():
        return PRETRAINED.with_name(SHIPPED[str(path)])
    return Path(path)


def model_payload(model, metadata: dict | None = None) -> dict[str, Any]:
    """The plain-data description of a model: everything needed to rebuild it (and what it was
    trained on, when known, so that its samples can be told new or not)."""
    if model.training_data is not None:
        metadata = {"data": model.training_data, **(metadata or {})}
    return {
        "format_version": FORMAT_VERSION,
        "model_name": model.model_name,
        "config": dict(model.config),
        "vocabulary": model.extra_state(),
        "conditions": model.conditions.to_dict(),
        "prior": model.prior.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "versions": {"molvae": __version__, "torch": str(torch.__version__), "rdkit": str(rdkit.__version__),
                     "selfies": str(selfies.__version__)},
        "metadata": metadata or {},
    }


def save_checkpoint(path: str | Path, model, trainer_state: dict | None = None, metadata: dict | None = None) -> Path:
    """Write a checkpoint atomically: to a temporary file in the same folder, then renamed over ``path``."""
    payload = model_payload(model, metadata)
    if trainer_state is not None:
        payload["trainer"] = trainer_state

    def write(temporary: Path) -> None:
        try:
            torch.save(payload, temporary)
        except RuntimeError as err:  # torch reports a failed write (a full disk) as a RuntimeError
            raise disk_full_error(temporary, err) from None

    return replace_atomically(path, write)


def read_checkpoint(path: str | Path | None = None) -> dict[str, Any]:
    """Load a checkpoint's plain data; a missing, corrupt or foreign file fails with one line."""
    path = checkpoint_path(path)
    if not path.exists():
        raise MolvaeError(f"model file not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged or foreign file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MolvaeError(f"cannot read model file {path}: not a molvae checkpoint or corrupt "
                          f"({first[:120]})") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise MolvaeError(f"{path} is not a molvae checkpoint (no format_version)")
    if data["format_version"] != FORMAT_VERSION:
        raise MolvaeError(f"{path} has checkpoint format version {data['format_version']}; this molvae reads "
                          f"version {FORMAT_VERSION}")
    return data


def model_from_checkpoint(data: dict[str, Any]):
    """Rebuild a model (CPU, eval mode) from checkpoint data."""
    conditions = ConditionEncoder.from_dict(data.get("conditions"))
    model = build_model(data["model_name"], data["config"], data["vocabulary"], conditions)
    try:
        model.load_state_dict(data["state_dict"])
    except RuntimeError as err:
        raise MolvaeError(f"checkpoint weights do not fit its configuration: {str(err).splitlines()[0]}") from None
    model.prior = prior_from_dict(data.get("prior"), model.latent_dim)
    model.training_data = (data.get("metadata") or {}).get("data")
    return model.eval()


def load_model(path: str | Path | None = None, device: str | torch.device | None = "cpu"):
    """Load a model from a checkpoint file or a shipped model's name; without either, the bundled model."""
    model = model_from_checkpoint(read_checkpoint(path))
    return model.to(resolve_device(device or "auto"))


def export_model(source: str | Path, target: str | Path, **metadata: Any) -> Path:
    """Copy a checkpoint without its training state (the form the bundled model ships in)."""
    data = read_checkpoint(source)
    model = model_from_checkpoint(data)
    return save_checkpoint(target, model, metadata={**data.get("metadata", {}), **metadata})
