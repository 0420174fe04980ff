"""Turn a table of molecules into training items: canonicalise, compute conditions, tokenise.

Molecules that cannot be used are never fatal: each is skipped, counted and written to a rejects
table with its line in the input file, the string, and the reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import get_context

import numpy as np
import pandas as pd

from molvae.chem.molecules import Validation, validate
from molvae.chem.properties import PROPERTY_FUNCTIONS, molecule_properties
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.representations import get_representation

log = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """Usable molecules with their tokens and condition columns, and what was rejected."""

    frame: pd.DataFrame                     # canonical ``smiles``, condition columns, passed-through columns
    tokens: Sequence[Sequence[str]]   # lists, or the cache's memory-mapped TokenTable
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["line", "smiles", "reason"]))


@cache
def _representation(name: str):
    return get_representation(name)


def _prepare_one(job: tuple[str, str, tuple[str, ...], int, str | None]) -> tuple[str, list[str] | None, dict, str]:
    raw, representation, properties, max_tokens, canonical = job
    # a canonical form known already (the shipped MOSES split) spares RDKit unless properties need the molecule
    checked = _known(raw, canonical) if canonical is not None and not properties else validate(raw)
    if not checked.valid:
        return "", None, {}, checked.reason
    try:
        tokens = _representation(representation).tokenize(checked.smiles)
    except InvalidMoleculeError as err:
        return checked.smiles, None, {}, str(err)
    if len(tokens) > max_tokens:
        return checked.smiles, None, {}, f"longer than {max_tokens} tokens ({len(tokens)})"
    # from the molecule already parsed: the canonical SMILES gives the same values to within 1e-12
    return checked.smiles, tokens, molecule_properties(checked.molecule, properties) if properties else {}, ""


def _known(raw: str, canonical: str) -> Validation:
    """The validation of a molecule whose canonical form is known ("" when it is not a valid molecule)."""
    if not canonical:
        return Validation(raw, "", False, "RDKit could not parse or sanitise it")
    if "." in canonical:
        return Validation(raw, "", False, "more than one fragment")
    return Validation(raw, canonical, True)


def prepare_molecules(frame: pd.DataFrame, representation: str, conditions: Sequence[str] = (),
                      labels: Sequence[str] = (), max_tokens: int = 98, workers: int = 1,
                      canonical: Sequence[str] | None = None) -> PreparedData:
    """Validate, canonicalise and tokenise every row of ``frame`` (from :func:`read_molecules`).

    ``conditions`` are continuous conditions: a column of the file when one has that name, else a
    property RDKit computes (logP, QED, SA, MW). ``labels`` are categorical columns. ``canonical``
    gives each row's canonical SMILES when they are known already ("" for an invalid one: the shipped
    MOSES split's), so RDKit need not parse the molecules just to canonicalise them.
    """
    computed = tuple(n for n in conditions if n not in frame.columns)
    for name in computed:
        if name not in PROPERTY_FUNCTIONS:
            raise MolvaeError(f"{name!r} is neither a column of the data nor a built-in property; "
                              f"columns: {', '.join(c for c in frame.columns if c not in ('smiles', 'line'))}; "
                              f"properties: {', '.join(PROPERTY_FUNCTIONS)}")
    for name in labels:
        if name not in frame.columns:
            raise MolvaeError(f"label column {name!r} not found; available columns: {', '.join(frame.columns)}")
    forms = canonical if canonical is not None else [None] * len(frame)
    jobs = [(s, representation, computed, max_tokens, form) for s, form in zip(frame["smiles"], forms, strict=True)]
    if workers > 1 and len(jobs) > 20_000:
        with get_context("spawn").Pool(workers) as pool:
            results = pool.map(_prepare_one, jobs, chunksize=2000)
    else:
        results = [_prepare_one(job) for job in jobs]
    return _assemble(frame, results, conditions, computed, labels)


def _assemble(frame: pd.DataFrame, results: list, conditions: Sequence[str], computed: Sequence[str],
              labels: Sequence[str]) -> PreparedData:
    lines = frame["line"].tolist() if "line" in frame.columns else list(range(1, len(frame) + 1))
    keep, tokens, props, rejects = [], [], [], []
    columns = {name: frame[name].tolist() for name in conditions if name not in computed}
    label_columns = {name: frame[name].tolist() for name in labels}
    for i, (smiles, toks, values, reason) in enumerate(results):
        if toks is not None:
            reason = _missing_condition(i, columns, values, label_columns)
        if reason:
            rejects.append((lines[i], frame["smiles"].iat[i], reason))
            continue
        keep.append(i)
        tokens.append(toks)
        props.append({**values, **{n: float(columns[n][i]) for n in columns}, "smiles": smiles})
    out = frame.iloc[keep].drop(columns=["smiles", *conditions], errors="ignore").reset_index(drop=True)
    props_frame = pd.DataFrame(props, columns=["smiles", *conditions])
    out = pd.concat([props_frame, out], axis=1)
    rejected = pd.DataFrame(rejects, columns=["line", "smiles", "reason"])
    if len(rejected):
        log.warning("skipped %d of %d molecules (see the rejects file)", len(rejected), len(frame))
    return PreparedData(out, tokens, rejected)


def _missing_condition(i: int, columns: dict, values: dict, labels: dict) -> str:
    for name, column in columns.items():
        try:
            number = float(column[i])
        except (TypeError, ValueError):
            return f"condition {name!r} is not a number: {column[i]!r}"
        if not math.isfinite(number):
            return f"condition {name!r} is missing"
    for name, value in values.items():
        if not math.isfinite(value):
            return f"could not compute {name}"
    for name, column in labels.items():
        if column[i] is None or str(column[i]).strip() == "":
            return f"label {name!r} is missing"
    return ""


def split_indices(n: int, val_fraction: float, max_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train/validation indices; the validation set is a fraction capped at ``max_val``."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max_val, int(round(n * val_fraction))) if n > 1 else 0
    if val_fraction > 0 and n > 1:
        n_val = max(1, n_val)
    return order[n_val:], order[:n_val]
