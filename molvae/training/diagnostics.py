"""What the trainer reports after every epoch, and the benchmark's model metrics build on.

The validation objective (reconstruction NLL, KL, negative ELBO at β = 1), the collapse diagnostics
(KL per dimension, active units) and two sample checks: greedy reconstruction of validation
molecules and validity/uniqueness of prior samples. A module of its own, not part of the trainer,
so that evaluation reads the same numbers without importing the training loop.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from molvae.chem.molecules import validate
from molvae.core.diagnostics import active_units
from molvae.training.dataset import Dataset


@torch.no_grad()
def evaluate_model(model, data: Dataset, batch_size: int = 256, diagnostic_molecules: int = 500,
                   seed: int = 0) -> dict[str, Any]:
    """Validation objective and collapse diagnostics of a model on a dataset.

    Returns reconstruction NLL, KL and negative ELBO (nats per molecule, β = 1), KL per dimension,
    active units, greedy reconstruction accuracy on up to ``diagnostic_molecules`` molecules, and
    validity and uniqueness of as many prior samples. The model is left in the mode it came in. The
    one z drawn per molecule comes from ``seed`` (the same figures every time), in a random stream
    of its own, so the caller's is left as it was.
    """
    with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
        torch.manual_seed(seed)
        return _evaluate_model(model, data, batch_size, diagnostic_molecules, seed)


def _evaluate_model(model, data: Dataset, batch_size: int, diagnostic_molecules: int, seed: int) -> dict[str, Any]:
    was_training = model.training
    model.eval()
    recon = kl = 0.0
    kl_dims = torch.zeros(model.latent_dim)
    means = []
    n = 0
    for batch in data.batches(model.featurizer, batch_size):
        batch = model.batch_to_device(batch)
        out = model(batch)
        size = out["recon_nll"].shape[0]
        recon += out["recon_nll"].float().sum().item()
        kl_dims += out["kl_per_dim"].float().sum(0).cpu()
        kl += (out["kl"] if "kl" in out else out["kl_per_dim"].sum(-1)).float().sum().item()
        means.append(out["mu"].float().cpu())
        n += size
    n = max(n, 1)
    kl_dims /= n
    units, _ = active_units(torch.cat(means)) if means else (0, None)
    row = {"val_recon": recon / n, "val_kl": kl / n, "val_neg_elbo": (recon + kl) / n, "active_units": units,
           "kl_per_dim": kl_dims.tolist()}
    row["recon_accuracy"] = reconstruction_accuracy(model, data, diagnostic_molecules, batch_size)
    row.update(prior_quality(model, data, diagnostic_molecules, seed))
    model.train(was_training)
    return row


@torch.no_grad()
def reconstruction_accuracy(model, data: Dataset, limit: int = 500, batch_size: int = 256) -> float:
    """Share of molecules whose greedy decode of the posterior mean is the same canonical molecule."""
    if len(data) == 0 or limit <= 0:
        return math.nan
    correct = total = 0
    indices = np.arange(min(limit, len(data)))
    for start in range(0, len(indices), batch_size):
        group = indices[start:start + batch_size].tolist()
        c = data.conditions[group] if data.conditions is not None else None
        batch = model.featurizer.collate([data.items[i] for i in group], c)
        batch = model.batch_to_device(batch)
        mu, _ = model.encode(batch)
        raws = model.generate(mu, batch.get("c"), greedy=True)
        for i, raw in zip(group, raws):
            correct += validate(model.to_smiles(raw)).smiles == data.smiles[i]
            total += 1
    return correct / total


@torch.no_grad()
def prior_quality(model, data: Dataset, n: int = 500, seed: int = 0) -> dict[str, float]:
    """Validity and uniqueness of ``n`` samples from the prior (conditions drawn from the data)."""
    if n <= 0:
        return {"prior_validity": math.nan, "prior_uniqueness": math.nan}
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.latent_dim, generator=generator).to(model.device)
    c = None
    if data.conditions is not None and len(data):
        c = data.conditions[torch.randint(len(data), (n,), generator=generator)].to(model.device)
    smiles = [validate(model.to_smiles(raw)).smiles for raw in model.generate(z, c)]
    valid = [s for s in smiles if s]
    return {"prior_validity": len(valid) / n, "prior_uniqueness": len(set(valid)) / max(1, len(valid))}
