"""Working in latent space: reconstruct molecules, interpolate, sample neighbourhoods (encoding itself
lives in :mod:`molvae.generation.encoding`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import torch

from molvae.errors import MolvaeError
from molvae.generation.common import resolve_model, seeded_generator
from molvae.generation.encoding import ModelArg, encode_with_conditions
from molvae.generation.sampler import decode


def reconstruct(model: ModelArg, smiles: Sequence[str], conditions: Mapping[str, float | str] | None = None,
                greedy: bool = True, skip_invalid: bool = False) -> pd.DataFrame:
    """Encode molecules to their posterior means and decode them again; ``match`` marks exact recovery."""
    model = resolve_model(model)
    encoded = encode_with_conditions(model, smiles, conditions, skip_invalid)
    kept = encoded.kept
    inputs = [smiles[i] for i in kept]
    out = decode(model, encoded.mu, encoded.conditions, greedy=greedy)
    out.insert(0, "input", inputs)
    out.insert(3, "match", [s == r for s, r in zip(encoded.canonical, out["smiles"], strict=True)])
    out.attrs["kept"] = kept  # positions of the encoded molecules in the input
    return out


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical linear interpolation between two vectors for each t in [0, 1]."""
    a_n, b_n = a / a.norm(), b / b.norm()
    omega = torch.arccos(torch.clamp((a_n * b_n).sum(), -1.0, 1.0))
    if omega.abs() < 1e-6:
        return a + t[:, None] * (b - a)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so)[:, None] * a + (torch.sin(t * omega) / so)[:, None] * b


INTERPOLATIONS = ("spherical", "linear")  # great-circle path (z lives on a shell in high dimensions), or straight


def interpolate(model: ModelArg, start: str, end: str, steps: int = 10, method: str = "spherical",
                conditions: Mapping[str, float | str] | None = None, greedy: bool = True) -> pd.DataFrame:
    """Decode ``steps`` points on the path between two molecules' posterior means.

    ``linear`` follows the straight line; ``spherical`` (slerp) keeps the norm typical of N(0, I)
    samples, so intermediate points stay where the prior puts its mass.
    """
    if steps < 2:
        raise MolvaeError(f"interpolation needs at least 2 steps, got {steps}")
    if method not in INTERPOLATIONS:
        raise MolvaeError(f"unknown interpolation method {method!r}; choose one of: {', '.join(INTERPOLATIONS)}")
    model = resolve_model(model)
    mu, _, _, c, _ = encode_with_conditions(model, [start, end], conditions)
    t = torch.linspace(0, 1, steps)
    z = mu[0] + t[:, None] * (mu[1] - mu[0]) if method == "linear" else slerp(mu[0], mu[1], t)
    if c is not None:
        c = c[0] + t[:, None] * (c[1] - c[0])
    out = decode(model, z, c, greedy=greedy)
    out.insert(0, "step", range(steps))
    out.insert(1, "t", t.numpy().round(4))
    return out


def neighbours(model: ModelArg, smiles: str, n: int = 20, radius: float = 0.5,
               conditions: Mapping[str, float | str] | None = None, seed: int | None = None,
               greedy: bool = True) -> pd.DataFrame:
    """Decode ``n`` points z = mu + radius · ε, ε ~ N(0, I), around one molecule's posterior mean."""
    if radius < 0:
        raise MolvaeError(f"radius must be ≥ 0, got {radius}")
    model = resolve_model(model)
    mu, _, _, c, _ = encode_with_conditions(model, [smiles], conditions)
    noise = torch.randn(n, model.latent_dim, generator=seeded_generator(seed))
    z = mu + radius * noise
    out = decode(model, z, c.expand(n, -1) if c is not None else None, greedy=greedy)
    out.insert(0, "distance", (radius * noise).norm(dim=1).numpy().round(4))
    return out
