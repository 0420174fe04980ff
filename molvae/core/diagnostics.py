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
