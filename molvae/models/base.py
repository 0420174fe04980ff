"""What every molvae model offers the trainer, the sampler and the checkpoint code.

A model turns molecules into its own input items (``featurize``), batches them (``collate``), and
returns the per-molecule terms of the VAE objective (``forward``); the loop, devices and
checkpoints live in :mod:`molvae.training`. Hyper-parameters live in ``self.config`` (plain data),
so a checkpoint can rebuild the model through the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from molvae.core.conditions import ConditionEncoder
from molvae.core.gaussian import gaussian_kl, reparameterize
from molvae.core.priors import StandardNormal


class MoleculeVAE(nn.Module, ABC):
    """Base class: encoder → Gaussian posterior → z → decoder, with an optional condition vector."""

    model_name: str = ""

    def __init__(self, config: dict[str, Any], conditions: ConditionEncoder | None = None):
        super().__init__()
        self.config = dict(config)
        self.conditions = conditions or ConditionEncoder()
        self._prior = None  # a fitted prior (molvae fit-prior); None: N(0, I), the training prior

    @property
    def prior(self):
        """The prior samples are drawn from: a fitted one when the checkpoint has it, else N(0, I)."""
        return self._prior if self._prior is not None else StandardNormal(self.latent_dim)

    @prior.setter
    def prior(self, prior) -> None:
        self._prior = None if prior is None or prior.kind == "standard" else prior

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        """Hyper-parameters used where the user sets none."""
        return {}

    @property
    def latent_dim(self) -> int:
        return int(self.config["latent_dim"])

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-molecule objective terms: reconstruction NLL (B,) and KL per dimension (B, D)."""
        mu, logvar = self.encode(batch)
        z = reparameterize(mu, logvar)
        return {"recon_nll": -self.log_likelihood(batch, z), "kl_per_dim": gaussian_kl(mu, logvar),
                "mu": mu, "logvar": logvar}

    def _latent_input(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """The decoder's conditioning input: z, with the condition vector c appended when there is one."""
        return z if c is None or c.numel() == 0 else torch.cat([z, c.to(z.dtype)], dim=-1)

    def _initial_hidden(self, zc: torch.Tensor) -> torch.Tensor:
        """Initial state (layers, B, hidden) of a GRU decoder, from (z, c) through ``latent_to_hidden``."""
        layers, hidden = self.config["decoder_layers"], self.config["decoder_hidden"]
        h = torch.tanh(self.latent_to_hidden(zc))
        return h.view(-1, layers, hidden).transpose(0, 1).contiguous()

    def batch_to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Move a collated batch to the model's device (sequence lengths stay on the CPU for packing)."""
        device = self.device
        return {k: v if k == "lengths" else v.to(device, non_blocking=True) for k, v in batch.items()}

    @abstractmethod
    def featurize(self, smiles: str) -> Any:
        """The model's input item for one canonical SMILES; raises InvalidMoleculeError if it cannot."""

    @abstractmethod
    def collate(self, items: list[Any], conditions: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """A batch (dict of tensors on CPU) from items and their condition vectors."""

    @abstractmethod
    def encode(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters (mu, logvar), each (B, latent_dim)."""

    @abstractmethod
    def log_likelihood(self, batch: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        """log p(x | z, c) per molecule (B,), in nats."""

    @abstractmethod
    def generate(self, z: torch.Tensor, c: torch.Tensor | None = None, temperature: float = 1.0,
                 greedy: bool = False, max_length: int | None = None,
                 generator: torch.Generator | None = None) -> list[str]:
        """Decode latent points into strings in the model's representation (SMILES or SELFIES).

        ``generator`` (on the model's device) makes multinomial decoding reproducible."""

    @abstractmethod
    def to_smiles(self, raw: str) -> str:
        """The SMILES string a generated raw string spells (unvalidated)."""

    @abstractmethod
    def extra_state(self) -> dict[str, Any]:
        """Plain data the model needs besides config, conditions and weights (e.g. its vocabulary)."""
