"""The VAE objective: negative ELBO with β and free bits, and the importance-weighted bound.

Reconstruction terms are negative log-likelihoods summed over a molecule's tokens (nats per
molecule), never averaged over tokens, so the ELBO is a true bound on log p(x) whatever β is used
for training. The ELBO reported is always the β = 1 bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class VAELoss:
    """One batch's objective terms (batch means, nats per molecule)."""

    loss: torch.Tensor          # what the optimiser minimises: recon + β · KL-with-free-bits (+ extras)
    recon: torch.Tensor         # reconstruction NLL
    kl: torch.Tensor            # KL(q(z|x) || p(z)): exact against N(0, I), a Monte-Carlo estimate otherwise
    kl_per_dim: torch.Tensor    # KL per latent dimension, shape (latent_dim,)
    neg_elbo: torch.Tensor      # recon + kl: the β = 1 negative ELBO


def vae_loss(recon_nll: torch.Tensor, kl_per_dim: torch.Tensor, beta: float, free_bits: float = 0.0,
             kl: torch.Tensor | None = None) -> VAELoss:
    """Combine per-molecule reconstruction NLL (B,) and per-molecule, per-dimension KL (B, D).

    ``kl`` (B,) is the per-molecule KL where it is not the sum over dimensions (a Monte-Carlo estimate
    against a VampPrior, whose dimensions are not independent); by default it is that sum.
    Free bits (Kingma et al. 2016) floor each dimension's batch-mean KL at ``free_bits`` nats in the
    optimised loss only (the penalty Σ_d max(0, free_bits − KL_d) is added to the KL), so the encoder
    gains nothing by pushing a dimension below that floor; the reported KL stays as it is.
    """
    recon = recon_nll.mean()
    kl_dims = kl_per_dim.mean(0)
    kl = kl_dims.sum() if kl is None else kl.mean()
    kl_for_loss = kl + torch.relu(free_bits - kl_dims).sum() if free_bits > 0 else kl
    return VAELoss(loss=recon + beta * kl_for_loss, recon=recon, kl=kl, kl_per_dim=kl_dims.detach(),
                   neg_elbo=recon + kl)


def iwae_bound(log_weights: torch.Tensor) -> torch.Tensor:
    """Importance-weighted bound log (1/K) Σ_k w_k per molecule from log weights of shape (B, K).

    Each log weight is log p(x|z_k) + log p(z_k) − log q(z_k|x) with z_k ~ q(z|x) (Burda et al. 2016).
    """
    k = log_weights.shape[-1]
    return torch.logsumexp(log_weights, dim=-1) - math.log(k)
