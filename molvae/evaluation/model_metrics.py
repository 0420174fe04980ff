"""Model-level quality on held-out molecules: reconstruction, ELBO, IWAE bound, latent usage.
The figures come from :func:`molvae.training.diagnostics.evaluate_model`, what the trainer reports
after every epoch, plus the IWAE bound.

All likelihood figures are in nats per molecule with β = 1 (the true evidence lower bound, whatever
β the model was trained with).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from molvae.chem import canonical_smiles
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.evaluation.likelihood import importance_weighted_bound
from molvae.generation.common import condition_matrix
from molvae.training.dataset import Dataset
from molvae.training.diagnostics import evaluate_model

log = logging.getLogger(__name__)


def held_out_dataset(model, smiles: Sequence[str]) -> tuple[Dataset, int]:
    """The molecules a model can encode, as a Dataset, and how many were left out (invalid or
    holding a token outside the model's vocabulary)."""
    items, kept = [], []
    for s in smiles:
        canonical = canonical_smiles(s)
        if canonical is None:
            continue
        try:
            items.append(model.featurizer.featurize(canonical))
            kept.append(canonical)
        except InvalidMoleculeError:
            continue
    return Dataset(items, condition_matrix(model, kept), kept), len(smiles) - len(kept)


def model_metrics(model, smiles: Sequence[str], iwae_molecules: int = 200, k: int = 100,
                  seed: int = 0, batch_size: int = 500) -> dict:
    """Greedy reconstruction accuracy, ELBO, IWAE (K = ``k``) on the first ``iwae_molecules``,
    active units and KL per latent dimension, on held-out ``smiles``."""
    data, skipped = held_out_dataset(model, smiles)
    if len(data) == 0:
        raise MolvaeError("none of the held-out molecules can be encoded by this model")
    quality = evaluate_model(model, data, batch_size=batch_size, diagnostic_molecules=len(data), seed=seed)
    n_iwae = min(iwae_molecules, len(data))
    subset = Dataset(data.items[:n_iwae], data.conditions[:n_iwae] if data.conditions is not None else None,
                     data.smiles[:n_iwae])
    iwae = importance_weighted_bound(model, subset, k=k, generator=torch.Generator().manual_seed(seed))
    return {
        "molecules": len(data), "left_out": skipped,
        "recon_accuracy": quality["recon_accuracy"],
        "recon_nll": quality["val_recon"], "kl": quality["val_kl"],
        "elbo": -quality["val_neg_elbo"],
        f"iwae_k{k}": float(iwae.mean()), "iwae_molecules": n_iwae,
        "active_units": quality["active_units"], "latent_dim": model.latent_dim,
        "kl_per_dim": [round(v, 5) for v in quality["kl_per_dim"]],
    }
