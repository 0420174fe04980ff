"""Bayesian optimisation in latent space: a Gaussian process, EI or UCB, batch proposals.

Each round draws a pool of latent points (prior draws plus perturbations of the best molecules'
points inside a trust region whose radius grows after rounds that improved the best score and
shrinks after rounds that did not; Eriksson et al. 2019), refits the GP on everything scored so far
(capped at ``max_gp_points``: the best half and a random rest) and sends the ``batch_size`` best
candidates by acquisition to the oracle.

Two surrogates. ``fingerprint`` (default) decodes the whole pool first and models the score of each
*molecule* with a Tanimoto-kernel GP on Morgan bits; only valid molecules that were never scored and
meet the constraints compete, so no batch slot is spent on a repeat. ``latent`` models the score as
a function of z (RBF kernel) and decodes only the chosen points: cheaper per round, but it is only
as good as the latent space is smooth in the property.

With the fingerprint surrogate several models can search together on one budget: each round every
model decodes its share of the pool around its own latent codes of the best molecules (found by any
of them), and the GP ranks all the decoded molecules at once. Different decoders reach different
neighbours of the same molecules, which measurably helps (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr

from molvae.errors import MolvaeError
from molvae.optimization.fingerprint_gp import FingerprintGP
from molvae.optimization.predictors import GPPredictor
from molvae.optimization.session import LatentSession, clip_to_ball

log = logging.getLogger(__name__)

ACQUISITIONS = ("ei", "ucb")
SURROGATES = ("fingerprint", "latent")


def check_options(acquisition: str, surrogate: str) -> None:
    """A one-line error for an acquisition or surrogate this module does not know."""
    for name, value, allowed in (("acquisition", acquisition, ACQUISITIONS), ("surrogate", surrogate, SURROGATES)):
        if value not in allowed:
            raise MolvaeError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    std = np.maximum(std, 1e-9)
    gap = mean - best - xi
    u = gap / std
    return gap * ndtr(u) + std * np.exp(-0.5 * u ** 2) / math.sqrt(2 * math.pi)


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, kappa: float = 2.0) -> np.ndarray:
    return mean + kappa * std


def best_by_acquisition(mean: np.ndarray, std: np.ndarray, best: float, acquisition: str, kappa: float,
                        k: int) -> np.ndarray:
    """Indices of the ``k`` candidates with the highest EI (over ``best``) or UCB."""
    score = (expected_improvement(mean, std, best) if acquisition == "ei"
             else upper_confidence_bound(mean, std, kappa))
    return np.argsort(-score)[:k]


class TrustRegion:
    """A radius that doubles after ``grow_after`` improving rounds and halves after ``shrink_after`` failures."""

    def __init__(self, radius: float = 0.8, low: float = 0.05, high: float = 2.0, grow_after: int = 2,
                 shrink_after: int = 4):
        self.radius, self.low, self.high = radius, low, high
        self.grow_after, self.shrink_after = grow_after, shrink_after
        self.wins = self.losses = 0

    def update(self, improved: bool) -> None:
        if improved:
            self.wins, self.losses = self.wins + 1, 0
        else:
            self.wins, self.losses = 0, self.losses + 1
        if self.wins >= self.grow_after:
            self.radius, self.wins = min(self.high, self.radius * 2), 0
        if self.losses >= self.shrink_after:
            self.radius, self.losses = self.radius / 2, 0
            if self.radius < self.low:  # collapsed: restart wide so the search does not freeze
                self.radius = self.high / 2


def candidate_pool(session: LatentSession, size: int, radius: float, best: np.ndarray,
                   center: np.ndarray | None = None, max_radius: float | None = None,
                   prior_fraction: float = 0.25) -> np.ndarray:
    """Points to score with the acquisition: prior draws plus perturbations of ``best`` (latent points
    of the best molecules, best first).

    With ``center`` (a start molecule's z) every candidate stays within ``max_radius`` of it."""
    rng = session.rng
    dim = session.dim
    n_prior = int(size * prior_fraction) if center is None else 0
    parts = []
    if n_prior:
        parts.append(rng.standard_normal((n_prior, dim)))
    n_local = size - n_prior
    if len(best):
        weights = np.linspace(2.0, 1.0, len(best))
        picks = rng.choice(len(best), n_local, p=weights / weights.sum())
        scales = radius * rng.uniform(0.2 if center is None else 0.05, 1.0, (n_local, 1))
        parts.append(best[picks] + scales * rng.standard_normal((n_local, dim)) / math.sqrt(dim) * 3)
    elif n_local:
        scales = radius * rng.uniform(0.05, 1.0, (n_local, 1))
        parts.append(rng.standard_normal((n_local, dim)) if center is None else
                     center + scales * rng.standard_normal((n_local, dim)) / math.sqrt(dim) * 3)
    pool = np.concatenate(parts)
    return clip_to_ball(pool, center, max_radius) if center is not None else pool


def bayesian_optimization(session: LatentSession, batch_size: int = 50, initial: int = 100,
                          acquisition: str = "ei", kappa: float = 2.0, pool_size: int | None = None,
                          max_gp_points: int | None = None, start: np.ndarray | None = None,
                          max_radius: float | None = None, seed: int = 0, surrogate: str = "fingerprint",
                          also: Sequence[LatentSession] = ()) -> None:
    """Run until the session's budget is spent (or the search stalls).

    ``surrogate`` is ``fingerprint`` or ``latent`` (see the module notes). The fingerprint surrogate
    decodes a pool of 40 × ``batch_size`` points (at most 2,000) per round and trains on at most 1,000
    molecules; the latent one scores 3,000 points and trains on at most 500.

    ``also``: sessions of other models on the same budget (fingerprint surrogate, no start molecule).
    Every round then breeds the pool in every model's latent space around the best molecules found
    by any of them, and the GP chooses among all the decoded molecules."""
    check_options(acquisition, surrogate)
    if batch_size <= 0 or initial <= 0:
        raise MolvaeError("batch size and initial design must be positive")
    if also and (surrogate != "fingerprint" or start is not None):
        raise MolvaeError("several models search together only with the fingerprint surrogate and no start molecule")
    on_molecules = surrogate == "fingerprint"
    spaces = [session, *also]
    pool_size = pool_size or (min(2000, 40 * batch_size) if on_molecules else 3000)
    max_gp_points = max_gp_points or (1000 if on_molecules else 500)
    region = TrustRegion(radius=0.8 if start is None else 0.5,
                         high=2.0 if max_radius is None else max(max_radius, 0.1))
    def around_start(n: int) -> np.ndarray:  # near and far from the start, up to the trust radius
        scales = region.radius * session.rng.uniform(0.05, 1.0, (n, 1))
        return scales * session.rng.standard_normal((n, session.dim)) / math.sqrt(session.dim) * 3

    for space in spaces:
        space.propose_initial(max(1, initial // len(spaces)), start, around_start, max_radius)
    rounds = 0
    while not session.done:
        known, y = session.budget.known()
        if len(y) < 2:
            session.propose(session.prior(batch_size) if start is None else
                            candidate_pool(session, batch_size, region.radius, np.zeros((0, session.dim)),
                                           center=start, max_radius=max_radius), "random")
            continue
        best, before = [known[i] for i in np.argsort(-y)[:10]], float(y.max())
        if on_molecules:
            fingerprint_round(spaces, pool_size // len(spaces), region.radius, best, (known, y),
                              FingerprintGP(max_points=max_gp_points, seed=seed + rounds), acquisition, kappa,
                              batch_size, start, max_radius)
        else:
            pool = candidate_pool(session, pool_size, region.radius, session.latent_points(best), center=start,
                                  max_radius=max_radius)
            Z, values = session.arrays()
            latent_gp = GPPredictor(max_points=max_gp_points, seed=seed + rounds).fit(Z, values)
            chosen = best_by_acquisition(*latent_gp.predict(pool), before, acquisition, kappa, batch_size)
            session.propose(pool[chosen], f"bo-{acquisition}")
        after = float(session.budget.known()[1].max())
        region.update(after > before + 1e-9)
        rounds += 1
        log.debug("round %d: best %.4f, radius %.3f, calls %d", rounds, after, region.radius, session.budget.calls)


def fingerprint_round(spaces: Sequence[LatentSession], pool_size: int, radius: float, best: list[str],
                      known: tuple[list[str], np.ndarray], gp: FingerprintGP, acquisition: str, kappa: float,
                      batch_size: int, start: np.ndarray | None, max_radius: float | None) -> None:
    """One round of the fingerprint surrogate: decode a pool in every latent space, rank the molecules
    no one has scored with the GP, and score the ``batch_size`` best through the space that found each."""
    owners, points, candidates, seen = [], [], [], set()
    for k, space in enumerate(spaces):
        pool = candidate_pool(space, pool_size, radius, space.latent_points(best), center=start, max_radius=max_radius)
        z_new, smiles_new = space.fresh(pool)
        for point, smiles in zip(z_new, smiles_new, strict=True):
            if smiles not in seen:
                seen.add(smiles)
                owners.append(k)
                points.append(point)
                candidates.append(smiles)
    if not candidates:  # a stalled round: nothing new to rank
        spaces[0].submit(np.zeros((0, spaces[0].dim)), [], f"bo-{acquisition}")
        return
    chosen = best_by_acquisition(*gp.fit(*known).predict(candidates), float(known[1].max()), acquisition, kappa,
                                 batch_size)
    for k, space in enumerate(spaces):
        mine = [i for i in chosen if owners[i] == k]
        if mine:
            source = f"bo-{acquisition}" + (f" {space.label}" if len(spaces) > 1 else "")
            space.submit(np.stack([points[i] for i in mine]), [candidates[i] for i in mine], source)
    for space in spaces:  # every chosen molecule is new: no space has stalled
        space.idle = 0
