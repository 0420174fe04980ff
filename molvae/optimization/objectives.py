"""Objectives by name, as users write them: built-in tasks, similarity, combinations, user functions.

:func:`get_oracle` resolves a built-in name (case-insensitive where unambiguous), ``similarity:SMILES``,
``weighted:A=w,B=w``, ``desirability:A=worst..best`` or a ``module:function`` callable.
:func:`weighted_sum` and :func:`desirability` combine several objectives into one: a weighted sum of
raw values, or a weighted mean of desirabilities that map each objective linearly onto [0, 1]
between a worst and a best value (Derringer and Suich 1980).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from rdkit import DataStructs

from molvae.chem.fingerprints import fingerprint
from molvae.errors import MolvaeError, match_name
from molvae.optimization.oracle import Oracle
from molvae.optimization.tasks import GUACAMOL_TASKS, PROPERTY_ORACLES, available_oracles, target_molecule


def similarity_oracle(target: str, kind: str = "morgan2048") -> Oracle:
    """Tanimoto similarity to a target molecule."""
    mol = target_molecule(target)
    ref = fingerprint(mol, kind)
    return Oracle(f"similarity:{target}",
                  lambda m: float(DataStructs.TanimotoSimilarity(fingerprint(m, kind), ref)),
                  f"Tanimoto ({kind}) to {target}")


def callable_oracle(spec: str) -> Oracle:
    """``module:function`` where the function takes a SMILES string and returns a float."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise MolvaeError(f"objective {spec!r} must look like module:function, e.g. mypackage.scores:activity")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise MolvaeError(f"cannot import {module_name!r} for objective {spec!r}: {err}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise MolvaeError(f"{module_name!r} has no callable {attr!r} (objective {spec!r})")
    return Oracle(spec, fn, f"user function {spec}", takes_mol=False)


def get_oracle(spec: str | Oracle | Callable[[str], float]) -> Oracle:
    """An oracle from a built-in name, ``similarity:SMILES``, ``module:function``, or a Python callable."""
    if isinstance(spec, Oracle):
        return spec
    if callable(spec):
        return Oracle(getattr(spec, "__name__", "callable"), spec, "user function", takes_mol=False)
    if not isinstance(spec, str) or not spec.strip():
        raise MolvaeError("an objective name is required")
    spec = spec.strip()
    if ":" not in spec:  # a built-in name, matched ignoring case where that is unambiguous
        spec = match_name(spec, available_oracles(), "objective",
                          also=", similarity:SMILES, weighted:A=w,B=w, desirability:A=worst..best or module:function")
    if spec in PROPERTY_ORACLES:
        description, fn, maximize = PROPERTY_ORACLES[spec]
        return Oracle(spec, fn, description, maximize)
    if spec in GUACAMOL_TASKS:
        description, factory = GUACAMOL_TASKS[spec]
        return Oracle(spec, factory(), description)
    if spec.startswith("similarity:"):
        return similarity_oracle(spec.split(":", 1)[1])
    if spec.startswith(("weighted:", "desirability:")):
        return parse_combination(spec)
    return callable_oracle(spec)


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


__all__ = ["callable_oracle", "desirability", "get_oracle", "parse_combination", "similarity_oracle", "weighted_sum"]
