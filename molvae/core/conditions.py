"""Condition vectors c for a conditional VAE: q(z|x,c) and p(x|z,c).

Continuous properties are standardised with statistics taken from the training data and saved with
the model; categorical labels become one-hot blocks. The encoder holds only plain data
(``to_dict``/``from_dict``) so it travels inside a ``weights_only`` checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from molvae.errors import MolvaeError, match_name


class ConditionEncoder:
    """Builds condition vectors from named continuous values and categorical labels."""

    def __init__(self, continuous: Mapping[str, tuple[float, float]] | None = None,
                 categorical: Mapping[str, Sequence[str]] | None = None,
                 bank: Sequence[Sequence[float]] | None = None):
        self.continuous = {k: (float(m), float(s)) for k, (m, s) in (continuous or {}).items()}
        self.categorical = {k: [str(v) for v in vals] for k, vals in (categorical or {}).items()}
        # A sample of training condition vectors: values for conditions the user leaves unset.
        self.bank = torch.tensor(bank, dtype=torch.float32) if bank is not None and len(bank) else None

    @property
    def dim(self) -> int:
        return len(self.continuous) + sum(len(v) for v in self.categorical.values())

    @property
    def names(self) -> list[str]:
        return [*self.continuous, *self.categorical]

    def __bool__(self) -> bool:
        return self.dim > 0

    @classmethod
    def fit(cls, continuous: Mapping[str, Sequence[float]] | None = None,
            categorical: Mapping[str, Sequence[str]] | None = None, bank_size: int = 2000,
            seed: int = 0) -> ConditionEncoder:
        """Statistics from training data: mean/std per property, the sorted label set per category."""
        stats = {}
        for name, values in (continuous or {}).items():
            arr = np.asarray(values, dtype=np.float64)
            if not np.isfinite(arr).all():
                raise MolvaeError(f"condition {name!r} has missing or non-numeric values")
            std = float(arr.std()) or 1.0
            stats[name] = (float(arr.mean()), std)
        labels = {name: sorted({str(v) for v in values}) for name, values in (categorical or {}).items()}
        encoder = cls(stats, labels)
        columns = [*(continuous or {}).values(), *(categorical or {}).values()]
        rows = len(columns[0]) if columns else 0
        if rows:
            pick = np.random.default_rng(seed).permutation(rows)[:bank_size]
            numbers = {k: [v[i] for i in pick] for k, v in (continuous or {}).items()}
            cats = {k: [v[i] for i in pick] for k, v in (categorical or {}).items()}
            encoder.bank = encoder.encode_columns(numbers, cats)
        return encoder

    def encode_columns(self, continuous: Mapping[str, Sequence[float]],
                       categorical: Mapping[str, Sequence[str]] | None = None) -> torch.Tensor:
        """Condition vectors (N, dim) for columns of values (every condition must be present)."""
        categorical = categorical or {}
        blocks = []
        for name, (mean, std) in self.continuous.items():
            arr = torch.as_tensor(np.asarray(continuous[name], dtype=np.float32))
            blocks.append(((arr - mean) / std).unsqueeze(1))
        for name, labels in self.categorical.items():
            ids = [self._label_index(name, str(v)) for v in categorical[name]]
            blocks.append(torch.nn.functional.one_hot(torch.tensor(ids), len(labels)).float())
        return torch.cat(blocks, dim=1) if blocks else torch.zeros(0, 0)

    def encode(self, values: Mapping[str, float | str], n: int,
               generator: torch.Generator | None = None, base: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` condition vectors for sampling: given values fixed, the rest drawn from the training bank
        (or taken from ``base``, n vectors to start from, e.g. those of molecules being decoded again)."""
        values = self.check_names(values)
        if base is not None:
            out = base.clone()
        elif self.bank is not None:
            rows = torch.randint(len(self.bank), (n,), generator=generator)
            out = self.bank[rows].clone()
        else:
            out = torch.zeros(n, self.dim)
        offset = 0
        for name, (mean, std) in self.continuous.items():
            if name in values:
                out[:, offset] = (self.parse_number(name, values[name]) - mean) / std
            offset += 1
        for name, labels in self.categorical.items():
            if name in values:
                out[:, offset:offset + len(labels)] = 0.0
                out[:, offset + self._label_index(name, str(values[name]))] = 1.0
            offset += len(labels)
        return out

    def check_names(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` keyed by this model's own condition names (``logp`` is ``logP``); an unknown name
        is a one-line error that suggests the closest one."""
        if values and not self.names:
            raise MolvaeError(f"unknown condition {next(iter(values))!r}: this model is unconditional")
        return {match_name(name, self.names, "condition"): value for name, value in values.items()}

    @staticmethod
    def parse_number(name: str, value: float | str) -> float:
        """A condition value as a finite float, or a one-line error naming the condition."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MolvaeError(f"condition {name}={value!r} is not a number") from None
        if not math.isfinite(number):
            raise MolvaeError(f"condition {name}={value!r} must be a finite number")
        return number

    def _label_index(self, name: str, label: str) -> int:
        labels = self.categorical[name]
        if label not in labels:
            raise MolvaeError(f"unknown label {label!r} for condition {name!r}; known: {', '.join(labels)}")
        return labels.index(label)

    def to_dict(self) -> dict:
        return {"continuous": {k: list(v) for k, v in self.continuous.items()},
                "categorical": self.categorical,
                "bank": self.bank.tolist() if self.bank is not None else None}

    @classmethod
    def from_dict(cls, data: Mapping | None) -> ConditionEncoder:
        data = data or {}
        return cls(data.get("continuous"), data.get("categorical"), data.get("bank"))
