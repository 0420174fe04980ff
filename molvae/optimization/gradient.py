"""Gradient ascent on a property predictor in latent space, inside a trust region.

A predictor fitted on (z, score) is smooth where the data are; far from them its gradient points to
places it knows nothing about (and the decoder produces junk). Each ascent path is therefore kept
within ``radius`` of its starting point, and every point on the path is decoded and scored, so the
oracle, not the predictor, decides what is good.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from molvae.errors import MolvaeError
from molvae.optimization.predictors import PropertyHeadPredictor, make_predictor, training_subset
from molvae.optimization.session import LatentSession, clip_to_ball

log = logging.getLogger(__name__)


def ascend(predictor, z0: torch.Tensor, steps: int = 20, lr: float = 0.1, radius: float = 1.0,
           center: torch.Tensor | None = None, max_radius: float | None = None) -> torch.Tensor:
    """Points (steps, N, D) along gradient ascent on ``predictor.torch_mean`` from each row of ``z0``.

    Each step moves by ``lr`` along the normalised gradient, then is projected back into the ball of
    ``radius`` around its start (and of ``max_radius`` around ``center`` when given)."""
    if steps <= 0 or lr <= 0 or radius <= 0:
        raise MolvaeError("steps, learning rate and trust radius must be positive")
    z = z0.detach().clone().float()
    start = z.clone()
    path = []
    for _ in range(steps):
        z.requires_grad_(True)
        value = predictor.torch_mean(z).sum()
        (grad,) = torch.autograd.grad(value, z)
        with torch.no_grad():
            step = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-12)
            z = z + lr * step
            offset = z - start
            z = start + offset * (radius / offset.norm(dim=1, keepdim=True).clamp(min=1e-12)).clamp(max=1.0)
            if center is not None and max_radius is not None:
                z = torch.as_tensor(clip_to_ball(z.numpy(), center.numpy(), max_radius), dtype=torch.float32)
        path.append(z.detach().clone())
    return torch.stack(path)


def gradient_optimization(session: LatentSession, predictor: str | PropertyHeadPredictor = "mlp", initial: int = 100,
                          starts: int = 10, steps: int = 8, lr: float = 0.4, radius: float = 2.5,
                          start: np.ndarray | None = None, max_radius: float | None = None, seed: int = 0) -> None:
    """Rounds of: fit the predictor on everything scored, ascend from the best points, score the paths.

    ``predictor`` is a post-hoc kind (``mlp``, ``gp``, ``ridge``), refitted every round, or a ready
    predictor such as the model's own :class:`PropertyHeadPredictor`, used as it is."""
    fixed = None if isinstance(predictor, str) else predictor
    kind = predictor if isinstance(predictor, str) else predictor.kind
    source = f"gradient-{kind}"
    center = torch.as_tensor(start, dtype=torch.float32) if start is not None else None
    session.propose_initial(initial, start, lambda n: session.rng.standard_normal((n, session.dim)) * 0.3, max_radius)
    rounds = 0
    while not session.done:
        Z, y = session.arrays()
        if len(y) < 5:
            session.propose(session.prior(starts) if start is None else
                            clip_to_ball(start + session.rng.standard_normal((starts, session.dim)) * 0.5,
                                         start, max_radius), "random")
            continue
        keep = training_subset(y, 600, session.rng)
        model = fixed if fixed is not None else make_predictor(kind, seed + rounds).fit(Z[keep], y[keep])
        # start from the best points, jittered so repeated rounds explore new paths
        z0 = session.best(starts) + session.rng.standard_normal((min(starts, len(y)), session.dim)) * 0.3
        path = ascend(model, torch.as_tensor(z0, dtype=torch.float32), steps, lr, radius, center, max_radius)
        session.propose(path.reshape(-1, session.dim).numpy(), source)
        rounds += 1
        log.debug("round %d: best %.4f, calls %d", rounds, session.arrays()[1].max(), session.budget.calls)
