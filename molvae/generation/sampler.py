"""Batched sampling from the model's prior (N(0, I), or a mixture fitted after training), optionally
conditioned, and decoding of given z."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import torch

from molvae.core.priors import PRIOR_KINDS, StandardNormal
from molvae.errors import MolvaeError
from molvae.generation.common import resolve_model, results_frame, seeded_generator
from molvae.models.base import MoleculeVAE
from molvae.training.devices import bf16_autocast_helps

log = logging.getLogger(__name__)


def sample(model: MoleculeVAE | str | Path | None = None, n: int = 100,
           conditions: Mapping[str, float | str] | None = None, temperature: float = 1.0,
           greedy: bool = False, seed: int | None = None, batch_size: int = 1000,
           max_length: int | None = None, properties: bool = True, device: str | None = None,
           precision: str = "auto", prior: str = "auto") -> pd.DataFrame:
    """Draw ``n`` molecules from the prior, validated and canonicalised by RDKit.

    ``prior``: ``auto`` (the model's own: the mixture fitted by ``molvae fit-prior`` when the model
    has one, else N(0, I)), ``standard`` (N(0, I), the training prior) or ``mixture`` (the fitted one;
    an error when the model has none).

    ``conditions`` fixes condition values (e.g. ``{"logP": 2.5}``) for a conditional model; those
    left out are drawn from the training data's conditions stored with the model. ``precision``:
    ``fp32``, ``bf16`` (about twice as fast), or ``auto``: bf16 on GPUs and on CPUs with native bf16
    instructions, else fp32.
    Returns one row per sample: ``smiles`` (empty when invalid), ``raw``, ``valid``, logP, QED, SA, MW.
    """
    model = resolve_model(model, device)
    if n <= 0:
        raise MolvaeError(f"number of samples must be positive, got {n}")
    if temperature < 0:
        raise MolvaeError(f"temperature must be ≥ 0, got {temperature}")
    conditions = dict(conditions or {})
    model.conditions.check_names(conditions)
    generator = seeded_generator(seed)
    z = sampling_prior(model, prior).sample(n, generator)
    c = model.conditions.encode(conditions, n, generator) if model.conditions else None
    frame = decode(model, z, c, temperature=temperature, greedy=greedy, batch_size=batch_size,
                   max_length=max_length, properties=properties,
                   generator=seeded_generator(seed, model.device), precision=precision)
    for name, value in conditions.items():
        frame[f"target_{name}"] = value
    return frame


@torch.no_grad()
def decode(model: MoleculeVAE | str | Path | None, z: torch.Tensor, c: torch.Tensor | None = None,
           temperature: float = 1.0, greedy: bool = True, batch_size: int = 1000,
           max_length: int | None = None, properties: bool = True,
           generator: torch.Generator | None = None, precision: str = "auto") -> pd.DataFrame:
    """Decode latent points (N, latent_dim) into validated molecules, in batches on the model's device.

    Greedy by default (the most likely molecule at each point); with ``greedy=False`` tokens are drawn
    at ``temperature``, reproducibly when a ``generator`` on the model's device is given."""
    model = resolve_model(model)
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise MolvaeError(f"latent points must have shape (N, {model.latent_dim}), got {tuple(z.shape)}")
    if model.conditions and c is None:
        c = model.conditions.encode({}, len(z))
    raws: list[str] = []
    model.eval()
    with decoding_precision(model.device, precision):
        for start in range(0, len(z), batch_size):
            zb = z[start:start + batch_size].to(model.device)
            cb = c[start:start + batch_size].to(model.device) if c is not None else None
            raws += model.generate(zb, cb, temperature=temperature, greedy=greedy, max_length=max_length,
                                   generator=generator)
    return results_frame(model, raws, properties)


def sampling_prior(model: MoleculeVAE, name: str = "auto"):
    """The prior called ``name`` (``auto``, ``standard`` or ``mixture``) for this model."""
    if name not in ("auto", *PRIOR_KINDS):
        raise MolvaeError(f"unknown prior {name!r}; choose one of: auto, {', '.join(PRIOR_KINDS)}")
    if name == "standard":
        return StandardNormal(model.latent_dim)
    if name == "mixture" and model.prior.kind != "mixture":
        raise MolvaeError("this model has no fitted prior; fit one with 'molvae fit-prior' or use --prior standard")
    chosen = model.prior
    log.debug("sampling z from the %s prior", describe_prior(chosen))
    return chosen


def describe_prior(prior) -> str:
    """A few words for logs and reports: 'standard normal' or 'fitted 32-component mixture'."""
    return "standard normal" if prior.kind == "standard" else f"fitted {prior.components}-component mixture"


PRECISIONS = ("auto", "fp32", "bf16")


def decoding_precision(device: torch.device, precision: str = "auto"):
    """A context in which decoding runs in ``precision``: ``fp32``, ``bf16`` autocast, or ``auto``
    (bf16 where the hardware runs it natively: CUDA, and CPUs with AVX512-BF16 or AMX)."""
    if precision not in PRECISIONS:
        raise MolvaeError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    bf16 = precision == "bf16" or (precision == "auto" and bf16_autocast_helps(device))
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
