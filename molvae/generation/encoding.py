"""Encoding molecules into the latent space: the posterior q(z|x) = N(mu, diag(exp(logvar))) of each."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import torch

from molvae.chem.molecules import Validation, validate
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.generation.common import condition_matrix, resolve_model
from molvae.models.base import MoleculeVAE
from molvae.progress import progress

log = logging.getLogger(__name__)

ModelArg = MoleculeVAE | str | Path | None


class Encoded(NamedTuple):
    """What encoding a list of molecules gives: their posteriors and what they were computed from."""

    mu: torch.Tensor                 # (N, latent_dim) posterior means
    logvar: torch.Tensor             # (N, latent_dim) posterior log-variances
    kept: list[int]                  # positions of the encoded molecules in the input
    conditions: torch.Tensor | None  # the condition vectors they were encoded with (None: unconditional)
    canonical: list[str]             # their canonical SMILES


def encode(model: ModelArg, smiles: Sequence[str], conditions: Mapping[str, float | str] | None = None,
           skip_invalid: bool = False, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Posterior parameters (mu, logvar) for molecules, and the indices of the molecules encoded.

    A molecule RDKit cannot parse, or with a token outside the model's vocabulary, raises an error
    naming it (and the token and position), or is skipped with a warning when ``skip_invalid``.
    """
    encoded = encode_with_conditions(model, smiles, conditions, skip_invalid, batch_size)
    return encoded.mu, encoded.logvar, encoded.kept


@torch.no_grad()
def encode_with_conditions(model: ModelArg, smiles: Sequence[str], conditions: Mapping[str, float | str] | None = None,
                           skip_invalid: bool = False, batch_size: int = 1000,
                           known: Mapping[str, Sequence[float]] | None = None,
                           already_canonical: bool = False) -> Encoded:
    """:func:`encode`, also returning the condition vectors the molecules were encoded with and their
    canonical SMILES, so a caller that decodes them again need not compute those twice. ``known``
    gives per-molecule property values already computed (one per input molecule); ``already_canonical``
    says the SMILES are already valid and canonical (an empty string marks an invalid one), so RDKit
    need not check them again."""
    model = resolve_model(model)
    model.eval()
    items, kept, canonical = [], [], []
    for i, s in enumerate(smiles):
        try:
            checked = Validation(s, s, bool(s), "empty string") if already_canonical else validate(s)
            if not checked.valid:
                raise InvalidMoleculeError(f"molecule {i + 1} ({s!r}) is invalid: {checked.reason}")
            items.append(model.encoder_item(checked.smiles))
        except InvalidMoleculeError as err:
            if not skip_invalid:
                raise
            log.warning("skipped: %s", err)
            continue
        kept.append(i)
        canonical.append(checked.smiles)
    if not items:
        raise MolvaeError("no molecule could be encoded")
    kept_known = {name: [values[i] for i in kept] for name, values in (known or {}).items()}
    c = condition_matrix(model, canonical, conditions, kept_known)
    mus, logvars = [], []
    with progress(total=len(items), desc="encoding") as bar:
        for start in range(0, len(items), batch_size):
            cb = c[start:start + batch_size] if c is not None else None
            batch = model.batch_to_device(model.featurizer.collate(items[start:start + batch_size], cb))
            mu, logvar = model.encode(batch)
            mus.append(mu.float().cpu())
            logvars.append(logvar.float().cpu())
            bar.update(len(mu))
    return Encoded(torch.cat(mus), torch.cat(logvars), kept, c, canonical)


__all__ = ["Encoded", "encode", "encode_with_conditions"]
