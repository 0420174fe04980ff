"""Oracle calls counted against a budget, cached by canonical SMILES, every outcome recorded.

Every proposal an optimiser makes goes through :meth:`OracleBudget.evaluate`:

* an invalid decode (RDKit rejects it, empty, several fragments) is a failure and costs no call;
* a molecule already evaluated (the cache) or proposed twice in one batch is a duplicate: a failure
  that costs no call (its cached value is still returned, so a model can learn from it);
* a molecule that breaks a constraint (e.g. similarity to a start molecule) costs no call;
* otherwise the oracle is called once and the call is counted; if it raises or returns NaN the call
  is a failure, logged, and the run goes on.

Nothing is ever replaced by a dataset molecule: a failure is only a failure.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molvae.chem.molecules import validate
from molvae.errors import MolvaeError
from molvae.files import replace_atomically
from molvae.optimization.oracle import Oracle

log = logging.getLogger(__name__)

Constraint = Callable[[str], str | None]  # canonical SMILES -> None when allowed, else the reason


@dataclass
class Outcome:
    """What happened to one proposal: its canonical SMILES, status and (when known) value."""

    raw: str
    smiles: str
    status: str          # evaluated | duplicate | invalid | constraint | oracle_error | over_budget
    value: float = math.nan
    call: int = 0        # 1-based oracle call index for evaluated molecules

    @property
    def known(self) -> bool:
        """A value is known for this molecule (evaluated now or earlier)."""
        return math.isfinite(self.value)


class OracleBudget:
    """An oracle behind a call counter, a canonical-SMILES cache and optional constraints."""

    def __init__(self, oracle: Oracle, budget: int, constraints: Sequence[Constraint] = (),
                 out: str | Path | None = None, answers: dict[str, float] | None = None):
        """``out``: a CSV rewritten (atomically) with every call after each batch. ``answers``: scores
        an earlier run of the same search paid for (canonical SMILES → score), given back without
        asking the oracle again; each still counts as a call, as it did in that run."""
        if not isinstance(budget, int | np.integer) or budget <= 0:
            raise MolvaeError(f"the oracle budget must be a positive number of calls, got {budget}")
        self.oracle, self.budget, self.constraints = oracle, int(budget), list(constraints)
        self.out, self.answers, self.replayed = out, dict(answers or {}), 0
        self.cache: dict[str, float] = {}
        self.records: list[dict] = []
        self.failures: Counter[str] = Counter()
        self.calls = 0
        self.bar: Any = None  # a progress bar over the calls (tqdm), set by optimize()

    @property
    def remaining(self) -> int:
        return self.budget - self.calls

    @property
    def exhausted(self) -> bool:
        return self.calls >= self.budget

    def known(self) -> tuple[list[str], np.ndarray]:
        """Every molecule scored so far (once each, oracle failures left out) and its utility."""
        pairs = [(smiles, self.oracle.utility(value)) for smiles, value in self.cache.items() if math.isfinite(value)]
        return [smiles for smiles, _ in pairs], np.fromiter((u for _, u in pairs), float, len(pairs))

    def admissible(self, smiles: str) -> bool:
        """Whether a canonical SMILES would cost an oracle call: not scored yet and within the constraints."""
        return smiles not in self.cache and not any(constraint(smiles) for constraint in self.constraints)

    def evaluate(self, raws: Sequence[str], source: str = "", extra: Sequence[dict] | None = None
                 ) -> list[Outcome]:
        """Score a batch of proposals (raw SMILES from a decoder) in order, within the budget.

        Proposals left after the budget runs out come back with status ``over_budget``."""
        outcomes: list[Outcome] = []
        seen: set[str] = set()
        for i, raw in enumerate(raws):
            outcome = self._one(raw, seen, source, extra[i] if extra is not None else None)
            outcomes.append(outcome)
        if self.out is not None and any(o.call for o in outcomes):
            self.write(self.out)  # every paid-for call is on disk before the next batch
        return outcomes

    def _one(self, raw: str, seen: set[str], source: str, extra: dict | None) -> Outcome:
        checked = validate(raw)
        if not checked.valid:
            self.failures["invalid"] += 1
            return Outcome(raw, "", "invalid")
        smiles = checked.smiles
        if smiles in seen or smiles in self.cache:
            self.failures["duplicate"] += 1
            return Outcome(raw, smiles, "duplicate", self.cache.get(smiles, math.nan))
        seen.add(smiles)
        for constraint in self.constraints:
            reason = constraint(smiles)
            if reason:
                self.failures["constraint"] += 1
                return Outcome(raw, smiles, "constraint")
        if self.exhausted:
            return Outcome(raw, smiles, "over_budget")
        self.calls += 1
        if self.bar is not None:
            self.bar.update()
        value = self._call(smiles)
        self.cache[smiles] = value
        status = "evaluated" if math.isfinite(value) else "oracle_error"
        self.records.append({"call": self.calls, "smiles": smiles, "score": value, "status": status,
                             "source": source, **(extra or {})})
        return Outcome(raw, smiles, status, value, self.calls)

    def _call(self, smiles: str) -> float:
        if smiles in self.answers:  # paid for by the run being resumed
            self.replayed += 1
            value = self.answers[smiles]
            if not math.isfinite(value):
                self.failures["oracle_error"] += 1
            return value
        try:
            value = float(self.oracle(smiles))
        except Exception as err:  # a user oracle may raise anything; one molecule must not stop the run
            self.failures["oracle_error"] += 1
            log.warning("objective %s failed on %s: %s", self.oracle.name, smiles, str(err).splitlines()[0] if
                        str(err) else type(err).__name__)
            return math.nan
        if not math.isfinite(value):
            self.failures["oracle_error"] += 1
            log.warning("objective %s returned %s for %s; counted as a failure", self.oracle.name, value, smiles)
            return math.nan
        return value

    # -------------------------------------------------------------- results
    def history(self) -> pd.DataFrame:
        """Every oracle call in order: call index, canonical SMILES, score, status, source."""
        columns = ["call", "smiles", "score", "status", "source"]
        frame = pd.DataFrame(self.records)
        return frame if not frame.empty else pd.DataFrame(columns=columns)

    def utilities(self) -> np.ndarray:
        """Scores in call order as the optimiser sees them (sign-flipped for minimised objectives; NaN kept)."""
        return np.array([self.oracle.utility(r["score"]) for r in self.records], dtype=float)

    def top(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` best evaluated molecules (best first)."""
        frame = self.history()
        frame = frame[frame["status"] == "evaluated"].copy()
        frame["_u"] = [self.oracle.utility(v) for v in frame["score"]]
        return frame.sort_values(["_u", "call"], ascending=[False, True]).drop(columns="_u").head(k)

    def summary(self) -> dict:
        return {"objective": self.oracle.name, "budget": self.budget, "calls": self.calls,
                **{f"failed_{k}": int(v) for k, v in sorted(self.failures.items())}}

    def write(self, path: str | Path) -> Path:
        """Write :meth:`history` as CSV (creating the folder); an unwritable path is a one-line error."""
        history = self.history()
        return replace_atomically(path, lambda p: history.to_csv(p, index=False))


def auc_top_k(values: Sequence[float], k: int = 10, every: int = 100, max_calls: int | None = None) -> float:
    """PMO's area under the curve of the mean top-``k`` score against oracle calls, normalised to [0, 1]
    for scores in [0, 1].

    The mean of the best ``k`` values so far is read every ``every`` calls and integrated with the
    trapezoid rule from (0, 0); a run that stopped early keeps its last value up to ``max_calls``.
    Failed calls (NaN) count as calls with score 0.
    """
    values = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    n = len(values)
    max_calls = max_calls or n
    if n == 0:
        return 0.0
    values = values[:max_calls]
    n = len(values)
    area, previous, done = 0.0, 0.0, 0
    for end in range(every, n, every):
        current = float(np.mean(np.sort(values[:end])[::-1][:k]))
        area += every * (current + previous) / 2
        previous, done = current, end
    final = float(np.mean(np.sort(values)[::-1][:k]))
    area += (n - done) * (final + previous) / 2
    area += (max_calls - n) * final
    return area / max_calls
