"""Importance-weighted estimate of log p(x) (Burda et al. 2016) for any molvae model.

With K samples z_k ~ q(z|x, c), log p(x) ≥ log (1/K) Σ_k p(x|z_k, c) p(z_k) / q(z_k|x, c), p(z) the
prior the model was trained against (N(0, I) or its VampPrior); the bound
tightens as K grows and equals the ELBO's expectation at K = 1. Reported in nats per molecule.
"""

from __future__ import annotations

import torch

from molvae.core.gaussian import gaussian_log_prob
from molvae.core.objective import iwae_bound


@torch.no_grad()
def importance_weighted_bound(model, data, k: int = 100, batch_size: int = 20,
                              generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-molecule IWAE bound (N,) in nats, in the order of a :class:`~molvae.training.trainer.Dataset`."""
    model.eval()
    bounds = []
    for batch in data.batches(model.featurizer, batch_size, bucket=False):  # keep the data's order
        batch = model.batch_to_device(batch)
        mu, logvar = model.encode(batch)
        n = mu.shape[0]
        eps = torch.randn((k, *mu.shape), generator=generator).to(mu.device)
        z = (mu + torch.exp(0.5 * logvar) * eps).reshape(k * n, -1)          # (K·N, D), sample-major
        repeated = {key: value.repeat(k, *([1] * (value.dim() - 1))) for key, value in batch.items()}
        log_px = model.log_likelihood(repeated, z).reshape(k, n)
        zs = z.reshape(k, n, -1)
        log_w = log_px + model.training_prior.log_prob(zs) - gaussian_log_prob(zs, mu, logvar)
        bounds.append(iwae_bound(log_w.T).cpu())
    return torch.cat(bounds)
