"""Diagonal Gaussian posterior q(z|x) = N(mu, diag(exp(logvar))) and its KL to N(0, I)."""

from __future__ import annotations

import math

import torch
from torch import nn


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample that carries gradients to mu and logvar."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic KL(N(mu, sigma²) || N(0, 1)) per dimension, same shape as ``mu`` (nats)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z_d; mu_d, exp(logvar_d)) for each dimension d (broadcast shapes)."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp())


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return gaussian_log_density(z, mu, logvar).sum(-1)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)


class DiagonalGaussian(nn.Module):
    """Maps a feature vector to (mu, logvar) of the posterior; logvar is clamped for stability."""

    def __init__(self, in_features: int, latent_dim: int, min_logvar: float = -10.0, max_logvar: float = 5.0):
        super().__init__()
        self.mu = nn.Linear(in_features, latent_dim)
        self.logvar = nn.Linear(in_features, latent_dim)
        self.min_logvar, self.max_logvar = min_logvar, max_logvar

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logvar = self.logvar(features).clamp(self.min_logvar, self.max_logvar)
        return self.mu(features), logvar
