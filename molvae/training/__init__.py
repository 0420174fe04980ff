"""The one training loop for every molvae model, its data preparation and checkpoints."""

from molvae.training.checkpoint import FORMAT_VERSION, load_model, read_checkpoint, save_checkpoint
from molvae.training.data import PreparedData, prepare_molecules
from molvae.training.run import RunConfig
from molvae.training.trainer import TrainConfig, Trainer

__all__ = [
    "FORMAT_VERSION",
    "PreparedData",
    "RunConfig",
    "TrainConfig",
    "Trainer",
    "load_model",
    "prepare_molecules",
    "read_checkpoint",
    "save_checkpoint",
]
