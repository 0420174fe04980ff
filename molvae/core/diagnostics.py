"""Diagnostics that make posterior collapse visible."""

from __future__ import annotations

import torch


def active_units(posterior_means: torch.Tensor, threshold: float = 0.01) -> tuple[int, torch.Tensor]:
    """Dimensions whose posterior mean varies across data: Cov_x(E[z|x]) > threshold (Burda et al. 2016).

    ``posterior_means`` is (N, D) over a validation set. Returns the count and the per-dimension variance.
    """
    if posterior_means.shape[0] < 2:
        return 0, torch.zeros(posterior_means.shape[-1])
    variance = posterior_means.float().var(dim=0)
    return int((variance > threshold).sum()), variance


def dims_at_free_bits_floor(kl_per_dim: torch.Tensor | list[float], free_bits: float, margin: float = 0.25) -> int:
    """Latent dimensions whose KL sits at the free-bits floor (at most ``free_bits`` × (1 + ``margin``)).

    Free bits make the first ``free_bits`` nats of every dimension cost nothing, so an encoder for
    which more information is not worth its price at this β keeps exactly that much and no more:
    the decoder may well read those few nats, but z cannot describe a molecule with them. Active
    units miss it (a dimension at 0.1 nats still varies across molecules); this count shows it. Zero
    when there is no floor."""
    if free_bits <= 0:
        return 0
    return int((torch.as_tensor(kl_per_dim, dtype=torch.float64) <= free_bits * (1 + margin)).sum())
