"""Models built from the VAE core: a registry from model name to class."""

from molvae.models.base import MoleculeVAE
from molvae.models.registry import MODELS, build_model
from molvae.models.sequence import SequenceVAE

__all__ = ["MODELS", "MoleculeVAE", "SequenceVAE", "build_model"]
