"""A VAE trained jointly with a property predictor on z (Gómez-Bombarelli et al. 2018, the "chemical VAE").

:class:`PropertyHeadVAE` wraps any registered model and adds a small MLP from z to standardised
property values. Training batches carry their targets as ``y`` (the dataset adds them); the
model's ``forward`` returns the head's mean squared error as ``extra_loss``, which the trainer adds to the VAE loss, so
the latent space is organised by the properties too. Missing targets (NaN) are left out of the loss.
Everything else (encoding, decoding, sampling, checkpoints) is the wrapped model's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from molvae.core.conditions import ConditionEncoder
from molvae.core.gaussian import reparameterize
from molvae.featurizers import Featurizer
from molvae.models.base import MoleculeVAE
from molvae.models.graph import GraphVAE
from molvae.models.sequence import SequenceVAE

# The generative models a property head can wrap (not another head).
BASE_MODELS: dict[str, type[MoleculeVAE]] = {SequenceVAE.model_name: SequenceVAE, GraphVAE.model_name: GraphVAE}


class PropertyHeadVAE(MoleculeVAE):
    """A base VAE plus an MLP head predicting properties from z, trained together."""

    model_name = "property_head"

    def __init__(self, config: dict[str, Any], base: MoleculeVAE, conditions: ConditionEncoder | None = None):
        config = {"head_hidden": 64, "property_weight": 1.0, **config, "latent_dim": base.latent_dim}
        super().__init__(config, conditions if conditions is not None else base.conditions)
        self.base = base
        n = len(config["properties"])
        hidden = int(config["head_hidden"])
        self.head = nn.Sequential(nn.Linear(base.latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                  nn.ReLU(), nn.Linear(hidden, n))
        stats = np.asarray(config["property_stats"], dtype=np.float32).reshape(n, 2)
        self.target_mean: torch.Tensor
        self.target_std: torch.Tensor
        self.register_buffer("target_mean", torch.from_numpy(stats[:, 0].copy()), persistent=False)
        self.register_buffer("target_std", torch.from_numpy(stats[:, 1].copy()), persistent=False)

    @property
    def training_prior(self):
        return self.base.training_prior

    @property
    def sampling_temperature(self) -> float:
        return self.base.sampling_temperature

    @property
    def properties(self) -> list[str]:
        return list(self.config["properties"])

    @classmethod
    def from_parts(cls, config: dict[str, Any], extra: dict[str, Any], conditions: ConditionEncoder | None):
        base = BASE_MODELS[config["base_model"]].from_parts(config["base_config"], extra, conditions)
        return cls(config, base, conditions)

    def extra_state(self) -> dict[str, Any]:
        return self.base.extra_state()

    # -------------------------------------------------------------- delegation to the wrapped model
    @property
    def featurizer(self) -> Featurizer:  # type: ignore[override]  # the wrapped model's, read-only
        return self.base.featurizer

    def encoder_item(self, smiles: str):
        return self.base.encoder_item(smiles)

    def encode(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.base.encode(batch)

    def log_likelihood(self, batch: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        return self.base.log_likelihood(batch, z)

    def generate(self, z, c=None, temperature=1.0, greedy=False, max_length=None, generator=None,
                 **options) -> list[str]:
        return self.base.generate(z, c, temperature, greedy, max_length, generator, **options)

    def scaffold_constraint(self, smiles: str):
        return self.base.scaffold_constraint(smiles)

    def to_smiles(self, raw: str) -> str:
        return self.base.to_smiles(raw)

    @property
    def raw_format(self) -> str:
        return self.base.raw_format

    # -------------------------------------------------------------- the joint objective
    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(batch)
        z = reparameterize(mu, logvar)
        out = {"recon_nll": -self.log_likelihood(batch, z), **self.base.kl_terms(z, mu, logvar),
               "mu": mu, "logvar": logvar}
        if "y" in batch:
            target = (batch["y"].to(z.dtype) - self.target_mean) / self.target_std
            predicted = self.head(z)
            mask = torch.isfinite(target)
            error = torch.where(mask, predicted - torch.nan_to_num(target), torch.zeros_like(predicted))
            mse = (error ** 2).sum() / mask.sum().clamp(min=1)
            out["extra_loss"] = float(self.config["property_weight"]) * mse
            out["property_mse"] = mse.detach()
        return out

    def predict_properties(self, z: torch.Tensor) -> torch.Tensor:
        """Property values (N, n_properties) in their own units, differentiable in z."""
        return self.head(z) * self.target_std + self.target_mean
