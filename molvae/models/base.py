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
from molvae.core.gaussian import DiagonalGaussian, gaussian_kl, gaussian_log_density, reparameterize
from molvae.core.priors import TRAINING_PRIORS, StandardNormal, VampPrior
from molvae.errors import MolvaeError
from molvae.featurizers import Featurizer


class MoleculeVAE(nn.Module, ABC):
    """Base class: encoder → Gaussian posterior → z → decoder, with an optional condition vector."""

    model_name: str = ""
    latent_to_hidden: nn.Module  # (z, c) -> initial decoder state, built by models with a GRU decoder
    featurizer: Featurizer       # molecules -> items -> batches, over this model's vocabulary

    def __init__(self, config: dict[str, Any], conditions: ConditionEncoder | None = None):
        super().__init__()
        self.config = dict(config)
        self.conditions = conditions or ConditionEncoder()
        self.vamp: VampPrior | None = None  # built with the posterior head when config["prior"] is "vamp"
        self._prior = None  # a fitted prior (molvae fit-prior); None: the training prior
        self.training_data: str | None = None  # what it was trained on (``moses`` or a path), from its checkpoint

    @property
    def sampling_temperature(self) -> float:
        """The softmax temperature :func:`molvae.sample` decodes at unless given one: stored with the
        weights (``molvae train --sampling-temperature``), 1.0 when the model stores none."""
        return float(self.config.get("sampling_temperature", 1.0))

    @property
    def training_prior(self):
        """The p(z) of the objective: N(0, I), or the VampPrior learned with the model."""
        return self.vamp if self.vamp is not None else StandardNormal(self.latent_dim)

    @property
    def prior(self):
        """The prior samples are drawn from: a fitted one when the checkpoint has it, else the training prior."""
        return self._prior if self._prior is not None else self.training_prior

    @prior.setter
    def prior(self, prior) -> None:
        self._prior = None if prior is None or prior.kind == self.training_prior.kind else prior

    def _posterior_head(self, in_features: int) -> DiagonalGaussian:
        """The Gaussian head q(z|x) over encoder features, and the VampPrior's pseudo-inputs in the same
        feature space when the model is configured with ``prior: vamp``."""
        head = DiagonalGaussian(in_features, self.latent_dim)
        kind = self.config.get("prior", "standard")
        if kind not in TRAINING_PRIORS:
            raise MolvaeError(f"unknown training prior {kind!r}; choose one of: {', '.join(TRAINING_PRIORS)}")
        if kind == "vamp":
            self.vamp = VampPrior(head, in_features, int(self.config.get("prior_components", 64)))
        return head

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
        return {"recon_nll": -self.log_likelihood(batch, z), **self.kl_terms(z, mu, logvar), "mu": mu, "logvar": logvar}

    def kl_terms(self, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> dict[str, torch.Tensor]:
        """KL(q(z|x) || p(z)) per molecule. Against N(0, I): exact, per dimension (``kl_per_dim``, B × D).
        Against a VampPrior: the one-sample Monte-Carlo estimate log q(z|x) − log p(z) at the z that
        was decoded (``kl``, B; unbiased, so the ELBO stays a bound on log p(x)), and per dimension
        against the prior's marginals, for free bits and collapse diagnostics. Computed in fp32."""
        if self.vamp is None:
            return {"kl_per_dim": gaussian_kl(mu, logvar)}
        with torch.autocast(z.device.type, enabled=False):
            z, mu, logvar = z.float(), mu.float(), logvar.float()
            log_q = gaussian_log_density(z, mu, logvar)
            return {"kl": log_q.sum(-1) - self.vamp.log_prob(z),
                    "kl_per_dim": log_q - self.vamp.marginal_log_prob(z)}

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

    def encoder_item(self, smiles: str):
        """The item of one canonical SMILES that :meth:`encode` needs after collating (the whole
        training item unless the model can do with less)."""
        return self.featurizer.featurize(smiles)

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

    def scaffold_constraint(self, smiles: str):
        """A scaffold that generation must keep; only graph models can build one first."""
        raise MolvaeError(f"generation around a scaffold needs a graph model (--model graph); this is a "
                          f"{self.config.get('representation', self.model_name)} model")

    @property
    def raw_format(self) -> str:
        """The notation of the strings ``generate`` returns: ``smiles`` or ``selfies`` (so worker
        processes can turn them into SMILES without the model)."""
        return "smiles"

    @abstractmethod
    def to_smiles(self, raw: str) -> str:
        """The SMILES string a generated raw string spells (unvalidated)."""

    @classmethod
    @abstractmethod
    def from_parts(cls, config: dict[str, Any], extra: dict[str, Any],
                   conditions: ConditionEncoder | None) -> MoleculeVAE:
        """The model rebuilt from a checkpoint's config, extra state and condition encoder."""

    @abstractmethod
    def extra_state(self) -> dict[str, Any]:
        """Plain data the model needs besides config, conditions and weights (e.g. its vocabulary)."""

    def start_weights(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A fine-tuning start model's weights fitted to this model, for parts fine-tuning may add
        (none here; a model that can grow a part returns the weights with that part in place)."""
        return state_dict


def draw(probabilities: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One index per row of ``probabilities`` (B, K), drawn by inverting the cumulative sum.

    One uniform number per row instead of K exponential ones (``torch.multinomial``): drawing was a
    tenth of the graph decoder's time. The first index whose cumulative sum exceeds ``u`` always has
    a non-zero probability, so masked actions are never drawn."""
    cumulative = probabilities.cumsum(-1)
    total = cumulative[:, -1:]
    u = torch.rand(total.shape, generator=generator, device=total.device, dtype=total.dtype) * total
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))  # rounding must not reach the total
    return torch.searchsorted(cumulative, u, right=True).squeeze(1)
