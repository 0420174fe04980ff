"""Fit a model's sampling prior after training: a full-covariance Gaussian mixture over the latent
points its encoder gives real molecules (one draw z ~ q(z|x) each), i.e. an estimate of the
aggregate posterior. Decoding from it avoids the regions of N(0, I) the decoder never saw.

scikit-learn does the fitting (imported here only, so ``import molvae`` stays free of it); the
result is a :class:`molvae.core.priors.GaussianMixturePrior` of plain tensors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from molvae.core.priors import GaussianMixturePrior
from molvae.errors import MolvaeError
from molvae.generation.common import resolve_model, seeded_generator
from molvae.generation.latent import encode
from molvae.models.base import MoleculeVAE

log = logging.getLogger(__name__)


def fit_prior(model: MoleculeVAE | str | Path | None, smiles: Sequence[str], components: int = 32,
              seed: int = 0, max_iterations: int = 200) -> GaussianMixturePrior:
    """A Gaussian mixture with ``components`` full-covariance components fitted to z ~ q(z|x) of
    ``smiles`` (molecules the model cannot read are skipped and counted). Deterministic for a seed."""
    from sklearn.mixture import GaussianMixture  # noqa: PLC0415  (scikit-learn takes 0.5 s to import; only fitting needs it)

    model = resolve_model(model)
    if components < 1:
        raise MolvaeError(f"the prior needs at least one component, got {components}")
    try:
        mu, logvar, kept = encode(model, smiles, skip_invalid=True)
    except MolvaeError as err:
        raise MolvaeError(f"cannot fit a prior: {err} (of {len(smiles)} molecules)") from None
    if len(kept) < 2 * components:
        raise MolvaeError(f"cannot fit a {components}-component prior to {len(kept)} usable molecules "
                          f"(need at least {2 * components})")
    generator = seeded_generator(seed)
    z = (mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)).double().numpy()
    mixture = GaussianMixture(components, covariance_type="full", reg_covar=1e-5, max_iter=max_iterations,
                              random_state=seed).fit(z)
    if not mixture.converged_:
        log.warning("the mixture did not converge in %d iterations; it is used as it is", max_iterations)
    info = {"molecules": len(kept), "skipped": len(smiles) - len(kept), "components": components, "seed": seed,
            "average_log_likelihood": float(mixture.score(z))}
    log.info("fitted a %d-component prior to %d molecules (%d skipped)", components, len(kept), info["skipped"])
    scale_tril = np.linalg.cholesky(mixture.covariances_)
    return GaussianMixturePrior(torch.from_numpy(mixture.weights_ / mixture.weights_.sum()),
                                torch.from_numpy(mixture.means_), torch.from_numpy(scale_tril), info)


__all__ = ["fit_prior"]
