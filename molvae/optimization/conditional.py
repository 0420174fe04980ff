"""Optimisation with a conditional VAE: sample towards target property values.

:func:`conditional_quality` asks a CVAE for molecules with given property values and measures how
close it gets (mean absolute error), beside unconditional samples. :func:`conditional_optimization`
optimises any objective by the cross-entropy method over (z, c): it samples points, keeps the best
tenth of everything scored, and refits a diagonal Gaussian to them. When the objective is one of the
model's conditions the search starts from an ambitious value of that condition.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from molvae.errors import MolvaeError
from molvae.generation import sample
from molvae.optimization.session import LatentSession

log = logging.getLogger(__name__)


def conditional_quality(model, prop: str, targets: Sequence[float], n: int = 1000, seed: int = 0,
                        baseline_pool: int | None = None) -> pd.DataFrame:
    """Per target value: MAE of the achieved property, validity and uniqueness of ``n`` conditioned
    samples; beside them ``n`` unconditional samples (MAE to the same target) and, with
    ``baseline_pool``, the ``n`` of ``baseline_pool`` unconditional samples closest to the target."""
    if prop not in model.conditions.continuous:
        raise MolvaeError(f"the model is not conditioned on {prop!r}; its conditions: "
                          f"{', '.join(model.conditions.names) or 'none'}")
    free = sample(model, max(n, baseline_pool or 0), seed=seed + 10_000)
    free_valid = free[free["valid"]]
    rows = []
    for i, target in enumerate(targets):
        frame = sample(model, n, conditions={prop: float(target)}, seed=seed + i)
        valid = frame[frame["valid"]]
        row = {"property": prop, "target": float(target), "n": n,
               "validity": len(valid) / n, "uniqueness": valid["smiles"].nunique() / max(len(valid), 1),
               "mae": float((valid[prop] - target).abs().mean()),
               "unconditional_mae": float((free_valid[prop].iloc[:n] - target).abs().mean())}
        if baseline_pool:
            closest = (free_valid[prop] - target).abs().nsmallest(n)
            row["filtered_mae"] = float(closest.mean())
            row["filtered_pool"] = baseline_pool
        rows.append(row)
    return pd.DataFrame(rows)


def conditional_optimization(session: LatentSession, batch_size: int = 100, elite_fraction: float = 0.1,
                             target_sigmas: float = 2.0, seed: int = 0) -> None:
    """Cross-entropy search over (z, c) with a conditional model until the budget is spent."""
    model = session.model
    encoder = model.conditions
    if not encoder:
        raise MolvaeError("method cvae needs a conditional model; this one has no conditions")
    generator = torch.Generator().manual_seed(seed)
    c_mean = encoder.encode({}, 2000, generator).mean(0).numpy()
    c_std = np.ones_like(c_mean)
    name = session.budget.oracle.name
    if name in encoder.continuous:  # ask for a value well beyond the training mean, in the improving direction
        index = list(encoder.continuous).index(name)
        c_mean[index] = target_sigmas if session.budget.oracle.maximize else -target_sigmas
        c_std[index] = 0.5
    z_mean, z_std = np.zeros(session.dim), np.ones(session.dim)
    C: list[np.ndarray] = []
    while not session.done:
        z = z_mean + z_std * session.rng.standard_normal((batch_size, session.dim))
        c = c_mean + c_std * session.rng.standard_normal((batch_size, len(c_mean)))
        known_before = len(session.y)
        outcomes = session.propose(z, "cvae", torch.as_tensor(c, dtype=torch.float32))
        C.extend(c[i] for i, o in enumerate(outcomes) if o.known)
        if len(session.y) == known_before:
            continue
        Z, y = session.arrays()
        elite = np.argsort(-y)[: max(5, int(len(y) * elite_fraction))]
        z_mean, z_std = Z[elite].mean(0), np.maximum(Z[elite].std(0), 0.1)
        cs = np.stack(C)
        c_mean, c_std = cs[elite].mean(0), np.maximum(cs[elite].std(0), 0.1)
