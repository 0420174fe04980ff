"""Priors p(z) to sample latent points from: the standard normal, or a Gaussian mixture fitted after
training to where the encoder actually puts molecules (the aggregate posterior).

A VAE trained against N(0, I) rarely fills it: decoding z ~ N(0, I) then lands in regions the
decoder never saw during training ("prior holes"), and the samples look less like the data. An
ex-post density fitted to encoded training molecules (a full-covariance Gaussian mixture, as in
Ghosh et al. 2020) samples where the decoder is at home. Priors are plain data (``to_dict``), so a
checkpoint stores them beside the weights.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from molvae.errors import MolvaeError

PRIOR_KINDS = ("standard", "mixture")


class StandardNormal:
    """p(z) = N(0, I): the prior every model is trained against."""

    kind = "standard"

    def __init__(self, latent_dim: int):
        self.latent_dim = latent_dim

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}


class GaussianMixturePrior:
    """p(z) = Σ_k w_k N(z; m_k, L_k L_kᵀ): K full-covariance components (weights, means, Cholesky factors)."""

    kind = "mixture"

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, scale_tril: torch.Tensor,
                 info: dict[str, Any] | None = None):
        self.weights = torch.as_tensor(weights, dtype=torch.float64)
        self.means = torch.as_tensor(means, dtype=torch.float64)
        self.scale_tril = torch.as_tensor(scale_tril, dtype=torch.float64)
        self.info = dict(info or {})  # what it was fitted on (plain data, for the record)
        k, d = self.means.shape if self.means.ndim == 2 else (0, 0)
        if (self.weights.shape != (k,) or self.scale_tril.shape != (k, d, d) or k == 0
                or not torch.isfinite(self.means).all() or not torch.isfinite(self.scale_tril).all()
                or (self.weights < 0).any() or abs(float(self.weights.sum()) - 1) > 1e-6
                or (torch.diagonal(self.scale_tril, dim1=1, dim2=2) <= 0).any()):
            raise MolvaeError("the fitted prior is corrupt (weights, means and covariance factors do not fit)")
        self.latent_dim = d

    @property
    def components(self) -> int:
        return len(self.weights)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        picks = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.latent_dim, generator=generator, dtype=torch.float64)
        z = self.means[picks] + torch.einsum("nij,nj->ni", self.scale_tril[picks], noise)
        return z.float()

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        parts = torch.distributions.MultivariateNormal(self.means, scale_tril=self.scale_tril)
        per_component = parts.log_prob(z.double().unsqueeze(-2))  # (N, K)
        return torch.logsumexp(per_component + self.weights.log(), dim=-1).to(z.dtype)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "weights": self.weights.float(), "means": self.means.float(),
                "scale_tril": self.scale_tril.float(), "info": self.info}


def prior_from_dict(data: dict[str, Any] | None, latent_dim: int):
    """The prior a checkpoint stores (none stored: the standard normal); a damaged one is a clear error."""
    if not data or data.get("kind") == "standard":
        return StandardNormal(latent_dim)
    if not isinstance(data, dict) or data.get("kind") != "mixture":
        raise MolvaeError(f"the checkpoint's prior is corrupt or of an unknown kind ({str(data)[:60]})")
    try:
        prior = GaussianMixturePrior(data["weights"], data["means"], data["scale_tril"], data.get("info"))
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise MolvaeError("the checkpoint's fitted prior is corrupt (missing or malformed fields)") from None
    if prior.latent_dim != latent_dim:
        raise MolvaeError(f"the checkpoint's fitted prior has {prior.latent_dim} dimensions; the model has {latent_dim}")
    return prior
