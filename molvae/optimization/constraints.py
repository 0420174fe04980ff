"""Constraints and multi-objective scores.

* :func:`similarity_constraint`: only molecules with Tanimoto ≥ δ (Morgan radius 2, 2048 bits, as in
  Jin et al. 2018) to a start molecule may be scored; others are failures that cost no oracle call.
* :func:`heavy_atom_constraint`: caps molecule size (penalized logP grows without bound with size).
* :func:`weighted_sum` and :func:`desirability` combine several objectives into one: a weighted sum
  of raw values, or a weighted mean of desirabilities that map each objective linearly onto [0, 1]
  between a worst and a best value (Derringer and Suich 1980).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from molvae.chem.molecules import parse_smiles, validate
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.optimization.budget import Constraint
from molvae.optimization.oracles import Oracle, get_oracle, tanimoto


def check_similarity(delta: float) -> float:
    try:
        delta = float(delta)
    except (TypeError, ValueError):
        raise MolvaeError(f"minimum similarity must be a number in [0, 1], got {delta!r}") from None
    if not 0.0 <= delta <= 1.0 or math.isnan(delta):
        raise MolvaeError(f"minimum similarity must be in [0, 1], got {delta}")
    return delta


def start_molecule(smiles: str) -> str:
    """The canonical form of a user's start molecule, or a one-line error."""
    checked = validate(smiles)
    if not checked.valid:
        raise InvalidMoleculeError(f"start molecule {smiles!r} is invalid: {checked.reason}")
    return checked.smiles


def similarity_constraint(start: str, delta: float) -> Constraint:
    """Allow only molecules at least ``delta`` similar to ``start`` (and not ``start`` itself)."""
    delta = check_similarity(delta)
    start = start_molecule(start)
    reference = parse_smiles(start)

    def check(smiles: str) -> str | None:
        if smiles == start:
            return None  # the start molecule itself is scored once, as the reference
        sim = tanimoto(parse_smiles(smiles), reference)
        return None if sim >= delta else f"similarity {sim:.3f} < {delta}"

    return check


def heavy_atom_constraint(limit: int) -> Constraint:
    def check(smiles: str) -> str | None:
        n = parse_smiles(smiles).GetNumHeavyAtoms()
        return None if n <= limit else f"{n} heavy atoms > {limit}"

    return check


def weighted_sum(weights: Mapping[str, float]) -> Oracle:
    """Σ wᵢ · objectiveᵢ (raw values; give a negative weight to minimise one)."""
    parts = {name: get_oracle(name) for name in weights}

    def score(smiles: str) -> float:
        return sum(float(w) * parts[n](smiles) for n, w in weights.items())

    name = "weighted:" + ",".join(f"{n}={w}" for n, w in weights.items())
    return Oracle(name, score, "weighted sum of " + ", ".join(weights), takes_mol=False)


def desirability(ranges: Mapping[str, tuple[float, float]], weights: Mapping[str, float] | None = None) -> Oracle:
    """Weighted mean of desirabilities dᵢ ∈ [0, 1]: 0 at the worst value, 1 at the best, linear between
    (worst > best means lower is better)."""
    parts = {name: get_oracle(name) for name in ranges}
    weights = {n: float((weights or {}).get(n, 1.0)) for n in ranges}
    total = sum(weights.values())
    if total <= 0:
        raise MolvaeError("desirability weights must sum to a positive number")
    for name, (worst, best) in ranges.items():
        if worst == best:
            raise MolvaeError(f"desirability range of {name} needs two different values")

    def score(smiles: str) -> float:
        value = 0.0
        for name, (worst, best) in ranges.items():
            d = (parts[name](smiles) - worst) / (best - worst)
            value += weights[name] * min(1.0, max(0.0, d))
        return value / total

    name = "desirability:" + ",".join(f"{n}={lo}..{hi}" for n, (lo, hi) in ranges.items())
    return Oracle(name, score, "desirability of " + ", ".join(ranges), takes_mol=False)


def parse_combination(spec: str) -> Oracle:
    """``weighted:QED=1,SA=-0.2`` or ``desirability:QED=0.5..0.9,SA=5..2`` from the command line."""
    kind, _, body = spec.partition(":")
    items = [item.strip() for item in body.split(",") if item.strip()]
    if not items:
        raise MolvaeError(f"{kind} objective needs NAME=VALUE items, e.g. {kind}:QED=1,SA=-0.2")
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise MolvaeError(f"{item!r} in {spec!r} must look like NAME=VALUE")
        pairs[name.strip()] = value.strip()
    try:
        if kind == "weighted":
            return weighted_sum({n: float(v) for n, v in pairs.items()})
        ranges = {}
        for n, v in pairs.items():
            low, sep, high = v.partition("..")
            if not sep:
                raise MolvaeError(f"desirability range {n}={v!r} must look like WORST..BEST, e.g. QED=0.5..0.9")
            ranges[n] = (float(low), float(high))
        return desirability(ranges)
    except ValueError:
        raise MolvaeError(f"cannot read the numbers in {spec!r}") from None
