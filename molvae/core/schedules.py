"""KL weight (β) annealing schedules, a guard against posterior collapse.

- ``constant``: β throughout.
- ``linear``: from ``start`` to β over ``warmup_steps`` steps (Bowman et al. 2016), then β.
- ``sigmoid``: a logistic ramp centred at ``warmup_steps / 2``, reaching ≈β at ``warmup_steps``.
- ``cyclical``: ``cycles`` repeats of a ramp from ``start`` to β over the first ``ratio`` of each
  cycle, then flat at β (Fu et al. 2019); the cycle length is ``warmup_steps``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from molvae.errors import MolvaeError

KINDS = ("constant", "linear", "sigmoid", "cyclical")


@dataclass
class BetaSchedule:
    """β as a function of the optimisation step."""

    kind: str = "linear"
    beta: float = 1.0
    start: float = 0.0
    warmup_steps: int = 10_000
    cycles: int = 4
    ratio: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise MolvaeError(f"unknown β schedule {self.kind!r}; choose one of: {', '.join(KINDS)}")

    def __call__(self, step: int) -> float:
        if self.kind == "constant" or self.warmup_steps <= 0:
            return self.beta
        span = self.beta - self.start
        if self.kind == "linear":
            return self.start + span * min(1.0, step / self.warmup_steps)
        if self.kind == "sigmoid":
            x = 12.0 * (step / self.warmup_steps - 0.5)
            return self.start + span / (1.0 + math.exp(-x))
        # cyclical
        if step >= self.cycles * self.warmup_steps:
            return self.beta
        phase = (step % self.warmup_steps) / self.warmup_steps
        return self.start + span * min(1.0, phase / self.ratio)

    def to_dict(self) -> dict:
        return asdict(self)
