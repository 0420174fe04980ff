"""Priors p(z): the standard normal, the VampPrior learned during training, or, fitted after
training to where the encoder actually puts molecules (the aggregate posterior), a Gaussian mixture
or the exemplar prior (the encoder's posteriors at the training molecules themselves).

A VAE trained against N(0, I) rarely fills it: decoding z ~ N(0, I) then lands in regions the
decoder never saw during training ("prior holes"), and the samples look less like the data. Two
remedies: train against a VampPrior (Tomczak & Welling 2018), a mixture of the encoder's own
posteriors at K learned pseudo-inputs, so the prior follows the encoder; or fit an ex-post density
to encoded training molecules (a full-covariance Gaussian mixture, as in Ghosh et al. 2020) and
sample where the decoder is at home; or sample the aggregate posterior itself, (1/N) Σ_n q(z | x_n),
by encoding random training molecules (an exemplar prior, as in Norouzi et al. 2020), each with its
own conditions. Priors are plain data (``to_dict``; a VampPrior's pseudo-inputs
are model weights), so a checkpoint stores them beside the weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from molvae.core.gaussian import DiagonalGaussian, gaussian_log_density, standard_normal_log_prob
from molvae.errors import MolvaeError

TRAINING_PRIORS = ("standard", "vamp")    # what a model can be trained against
FITTED_PRIORS = ("mixture", "exemplar")  # what can be fitted after training and stored with the model
PRIOR_KINDS = (*TRAINING_PRIORS, *FITTED_PRIORS)  # what samples can be drawn from


class StandardNormal:
    """p(z) = N(0, I): the prior every model is trained against."""

    kind = "standard"

    def __init__(self, latent_dim: int):
        self.latent_dim = latent_dim

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return standard_normal_log_prob(z)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}


class VampPrior(nn.Module):
    """p(z) = (1/K) Σ_k q(z | u_k): the encoder's posterior head applied to K pseudo-inputs u_k.

    The pseudo-inputs are learned vectors in the encoder's feature space (the input of the posterior
    head), which makes the prior model-agnostic: sequences and graphs alike end in such a head. The
    head is shared with the model, not owned: only the pseudo-inputs are this module's weights.
    """

    kind = "vamp"

    def __init__(self, head: DiagonalGaussian, in_features: int, components: int):
        super().__init__()
        if components < 1:
            raise MolvaeError(f"a VampPrior needs at least one pseudo-input, got {components}")
        self.pseudo_inputs = nn.Parameter(0.5 * torch.randn(components, in_features))
        self._head: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
        object.__setattr__(self, "_head", head)  # a plain reference: the head's weights stay the model's
        self.latent_dim = head.mu.out_features

    @property
    def components(self) -> int:
        return self.pseudo_inputs.shape[0]

    def component_parameters(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of the K mixture components, each (K, latent_dim)."""
        return self._head(self.pseudo_inputs)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) for z of shape (..., D), differentiable in z and in the prior's parameters."""
        return self._log_mixture(gaussian_log_density(z.unsqueeze(-2), *self._parameters_like(z)).sum(-1))

    def marginal_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z_d) of each dimension's marginal (a 1-D mixture), shape (..., D): for per-dimension KL."""
        return self._log_mixture(gaussian_log_density(z.unsqueeze(-2), *self._parameters_like(z)), dim=-2)

    def _parameters_like(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.component_parameters()
        return mu.to(z.dtype), logvar.to(z.dtype)

    def _log_mixture(self, per_component: torch.Tensor, dim: int = -1) -> torch.Tensor:
        return torch.logsumexp(per_component, dim=dim) - math.log(self.components)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        mu, logvar = (t.float().cpu() for t in self.component_parameters())
        picks = torch.randint(self.components, (n,), generator=generator)
        noise = torch.randn(n, self.latent_dim, generator=generator)
        return mu[picks] + torch.exp(0.5 * logvar[picks]) * noise

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "components": self.components}  # the pseudo-inputs are in the weights


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


class ExemplarPrior:
    """p(z) = (1/N) Σ_n N(z; μ(x_n), (s σ(x_n))²): the encoder's posteriors at N training molecules.

    With spread s = 1 this is the aggregate posterior q(z) exactly; s > 1 widens each posterior, so
    fewer draws decode back to their own training molecule (more novel samples, less like the data).
    The molecules are stored by reference (``data``: ``moses`` for the shipped training split, or a
    file path) and encoded when drawn; this class holds the reference and the torch part of a draw.
    """

    kind = "exemplar"

    def __init__(self, data: str, spread: float = 1.0, smiles_column: str | None = None, limit: int | None = None,
                 info: dict[str, Any] | None = None):
        if not isinstance(data, str) or not data or not isinstance(spread, int | float) or not spread > 0 \
                or not math.isfinite(spread) or (limit is not None and (not isinstance(limit, int) or limit < 1)):
            raise MolvaeError("the exemplar prior is corrupt (it needs a data reference, a positive spread "
                              "and an optional positive limit)")
        self.data, self.spread, self.smiles_column, self.limit = data, float(spread), smiles_column, limit
        self.info = dict(info or {})  # how many molecules the model could read, for the record

    @property
    def components(self) -> int | str:
        return self.info.get("molecules", "?")

    def perturb(self, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One z per encoded molecule, drawn from its posterior widened by the spread."""
        noise = torch.randn(mu.shape, generator=generator)
        return mu + self.spread * torch.exp(0.5 * logvar) * noise

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "data": self.data, "spread": self.spread, "smiles_column": self.smiles_column,
                "limit": self.limit, "info": self.info}


def prior_from_dict(data: dict[str, Any] | None, latent_dim: int):
    """The fitted prior a checkpoint stores, or None where it stores none (the model then samples from
    the prior it was trained against); a damaged one is a clear error."""
    if not data or data.get("kind") in TRAINING_PRIORS:
        return None
    if not isinstance(data, dict) or data.get("kind") not in FITTED_PRIORS:
        raise MolvaeError(f"the checkpoint's prior is corrupt or of an unknown kind ({str(data)[:60]})")
    if data["kind"] == "exemplar":
        return ExemplarPrior(data.get("data", ""), data.get("spread", 0.0), data.get("smiles_column"),
                             data.get("limit"), data.get("info"))
    try:
        prior = GaussianMixturePrior(data["weights"], data["means"], data["scale_tril"], data.get("info"))
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise MolvaeError("the checkpoint's fitted prior is corrupt (missing or malformed fields)") from None
    if prior.latent_dim != latent_dim:
        raise MolvaeError(f"the checkpoint's fitted prior has {prior.latent_dim} dimensions; "
                          f"the model has {latent_dim}")
    return prior
