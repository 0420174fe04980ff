"""The loop every latent-space optimiser shares: decode proposals, validate, deduplicate, score, remember.

A :class:`LatentSession` holds the model, the :class:`~molvae.optimization.budget.OracleBudget` and
the (z, utility) pairs learned so far. ``propose(z)`` decodes each latent point greedily (so a point
always means the same molecule; near a start molecule, where greedy decodes of nearby points are all
the same molecule, tokens are sampled instead to reach its neighbours), sends the SMILES through the
budget, and keeps every point whose molecule has a known score (a new evaluation, or a duplicate
whose score is cached) as training data for the optimiser's model. ``fresh(z)`` decodes without
scoring and keeps only molecules that would cost a call, for optimisers that rank molecules before
choosing; ``submit`` then scores the chosen ones. Invalid decodes teach nothing and are never
swapped for other molecules.

Several sessions may share one budget, one per model: a search then breeds in every model's latent
space, and :meth:`LatentSession.latent_points` places a molecule found by another model in this
one (its encoder mean, under the session's fixed conditions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from molvae.errors import InvalidMoleculeError
from molvae.generation import decode, encode
from molvae.optimization.budget import OracleBudget, Outcome

log = logging.getLogger(__name__)


class StalledSearch(Exception):
    """Raised when many consecutive proposals bring no new molecule (the search has nowhere to go)."""


class LatentSession:
    """Decodes and scores latent proposals under a budget; collects (z, utility) training pairs."""

    def __init__(self, model, budget: OracleBudget, condition: torch.Tensor | None = None, seed: int = 0,
                 patience: int = 30, greedy: bool = True, scaffold=None,
                 condition_values: Mapping[str, float | str] | None = None, label: str = ""):
        self.model, self.budget, self.greedy = model, budget, greedy
        self.scaffold = scaffold  # a graph model's scaffold constraint: every decoded molecule contains it
        self.condition = condition  # one condition vector (1, c_dim) for a conditional model, or None
        self.condition_values = condition_values  # the same condition by name, to encode molecules with
        self.label = label  # the model's name, telling several sessions on one budget apart
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.decode_generator = torch.Generator(device=model.device).manual_seed(seed)
        self.Z: list[np.ndarray] = []
        self.y: list[float] = []
        self.smiles: list[str] = []  # canonical SMILES of each known point
        self.points: dict[str, np.ndarray] = {}  # one latent point per molecule this session knows
        self.foreign: set[str] = set()  # molecules this model cannot encode (an atom or token it lacks)
        self.patience, self.idle = patience, 0

    @property
    def dim(self) -> int:
        return self.model.latent_dim

    @property
    def done(self) -> bool:
        return self.budget.exhausted

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.y:
            return np.zeros((0, self.dim)), np.zeros(0)
        return np.stack(self.Z), np.asarray(self.y, dtype=float)

    def best(self, k: int = 1) -> np.ndarray:
        """Latent points of the ``k`` best known molecules (best first)."""
        Z, y = self.arrays()
        return Z[np.argsort(-y)[:k]]

    def prior(self, n: int) -> torch.Tensor:
        """Points from the prior the model was trained against (N(0, I), or its VampPrior), even when it
        samples from a fitted one: the optimisers' search radii are scaled to the training prior."""
        return self.model.training_prior.sample(n, self.generator)

    def propose_initial(self, n: int, start: np.ndarray | None, offsets: Callable[[int], np.ndarray],
                        max_radius: float | None = None) -> None:
        """The first design: ``n`` prior points, or the start molecule and then ``start + offsets(n)``
        kept within ``max_radius`` of it (each optimiser chooses its own spread)."""
        if start is None:
            self.propose(self.prior(n), "initial")
            return
        self.propose(start[None, :], "start")
        self.propose(clip_to_ball(start + offsets(n), start, max_radius), "initial")

    def propose(self, z: torch.Tensor | np.ndarray, source: str, c: torch.Tensor | None = None) -> list[Outcome]:
        """Decode latent points (N, D), score the new valid molecules and remember what was learned."""
        if self.done or len(z) == 0:
            return []
        z = np.asarray(z, dtype=np.float32)
        return self.submit(z, self.decode(z, c), source)

    def decode(self, z: np.ndarray, c: torch.Tensor | None = None) -> list[str]:
        """Canonical SMILES of latent points (N, D) under the session's condition ("" when invalid)."""
        points = torch.as_tensor(np.asarray(z), dtype=torch.float32)
        if c is None and self.condition is not None:
            c = self.condition.expand(len(points), -1)
        frame = decode(self.model, points, c, greedy=self.greedy, properties=False,
                       generator=None if self.greedy else self.decode_generator, scaffold=self.scaffold)
        return frame["smiles"].tolist()

    def fresh(self, z: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Decode candidate points and keep one point per valid molecule that may still be scored
        (not yet evaluated, allowed by the budget's constraints): the pool a molecule-level model ranks."""
        smiles = self.decode(z)
        keep, seen = [], set()
        for i, text in enumerate(smiles):
            if text and text not in seen and self.budget.admissible(text):
                keep.append(i)
                seen.add(text)
        return np.asarray(z)[keep], [smiles[i] for i in keep]

    def encodable(self, smiles: str) -> bool:
        """Whether this model can encode a (valid, canonical) molecule: every token or atom type known."""
        try:
            self.model.featurizer.featurize(smiles)
        except InvalidMoleculeError:
            return False
        return True

    def latent_points(self, smiles: Sequence[str]) -> np.ndarray:
        """Latent points of molecules, in order, leaving out those this model cannot encode: the point
        that decoded to the molecule here, else its encoder mean (a molecule another model found)."""
        missing = [text for text in dict.fromkeys(smiles) if text not in self.points and text not in self.foreign]
        self.foreign.update(text for text in missing if not self.encodable(text))
        missing = [text for text in missing if text not in self.foreign]
        if missing:
            mu, _, _ = encode(self.model, missing, self.condition_values)
            self.points.update(zip(missing, mu.numpy().astype(np.float64), strict=True))
        rows = [self.points[text] for text in smiles if text in self.points]
        return np.stack(rows) if rows else np.zeros((0, self.dim))

    def submit(self, z: np.ndarray, smiles: list[str], source: str) -> list[Outcome]:
        """Score decoded molecules (one per latent point) through the budget and remember the known ones."""
        outcomes = self.budget.evaluate(smiles, source)
        new = 0
        for point, outcome in zip(np.asarray(z), outcomes, strict=True):
            if outcome.known:
                self.Z.append(point.astype(np.float64))
                self.y.append(self.budget.oracle.utility(outcome.value))
                self.smiles.append(outcome.smiles)
                self.points.setdefault(outcome.smiles, self.Z[-1])
            new += outcome.status in ("evaluated", "oracle_error")
        self.idle = 0 if new else self.idle + 1
        if self.idle >= self.patience and not self.done:
            raise StalledSearch(f"{self.patience} batches in a row brought no new molecule")
        return outcomes


def clip_to_ball(points: np.ndarray, center: np.ndarray, max_radius: float | None) -> np.ndarray:
    """Pull points that lie farther than ``max_radius`` from ``center`` back onto that sphere."""
    if max_radius is None:
        return points
    offset = points - center
    norms = np.linalg.norm(offset, axis=1, keepdims=True)
    return center + offset * np.minimum(1.0, max_radius / np.maximum(norms, 1e-9))
