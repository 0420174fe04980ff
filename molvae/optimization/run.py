"""``molvae.optimize``: one call that runs any latent-space optimiser under an oracle budget.

Inputs are checked before the model loads, so a mistake costs nothing: an unknown objective lists
the available ones, the budget must be positive, δ must lie in [0, 1], and the start molecule must
parse. Whatever happens during the run (the end of the budget, a stalled search, Ctrl-C), every
molecule evaluated so far is written to ``out``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molvae.core.priors import StandardNormal
from molvae.errors import MolvaeError
from molvae.generation import encode
from molvae.generation.common import condition_matrix, resolve_model
from molvae.generation.sampler import describe_prior
from molvae.optimization.budget import OracleBudget
from molvae.optimization.conditional import conditional_optimization
from molvae.optimization.constraints import (
    check_similarity,
    heavy_atom_constraint,
    similarity_constraint,
    start_molecule,
)
from molvae.optimization.gradient import gradient_optimization
from molvae.optimization.objectives import get_oracle
from molvae.optimization.oracle import Oracle
from molvae.optimization.predictors import GRADIENT_PREDICTORS, PropertyHeadPredictor
from molvae.optimization.record import check_same_run, model_fingerprint, read_run, write_settings
from molvae.optimization.session import LatentSession, StalledSearch
from molvae.progress import progress

log = logging.getLogger(__name__)

METHODS = ("bo", "gradient", "cvae")
# the shipped models a search uses together when no model is given (method bo, fingerprint surrogate)
SEARCH_TOGETHER = ("bundled", "selfies")


@dataclass
class OptimizationResult:
    """Every oracle call (``history``), the best molecules (``top``) and counts (``summary``)."""

    history: pd.DataFrame
    top: pd.DataFrame
    summary: dict
    budget: OracleBudget = field(repr=False)


def fixed_condition_values(model, given: Mapping[str, float | str] | None = None) -> dict[str, float | str] | None:
    """The conditions a search decodes with, by name: given values, else the training mean
    (continuous) or the first label (categorical), so each z always decodes to the same molecule."""
    encoder = model.conditions
    if not encoder:
        return None
    given = encoder.check_names(dict(given or {}))
    return {**{n: encoder.parse_number(n, given[n]) if n in given else mean
               for n, (mean, _) in encoder.continuous.items()},
            **{n: str(given.get(n, labels[0])) for n, labels in encoder.categorical.items()}}


def fixed_condition(model, given: Mapping[str, float | str] | None = None) -> torch.Tensor | None:
    """:func:`fixed_condition_values` as one condition vector (1, dim)."""
    values = fixed_condition_values(model, given)
    if values is None:
        return None
    encoder = model.conditions
    return encoder.encode_columns({n: [values[n]] for n in encoder.continuous},
                                  {n: [str(values[n])] for n in encoder.categorical})


def optimize(objective: str | Oracle | Callable[[str], float], model=None, method: str = "bo", budget: int = 1000,
             start: str | None = None, min_similarity: float | None = None, seed: int = 0,
             out: str | Path | None = None, conditions: Mapping[str, float | str] | None = None,
             batch_size: int | None = None, initial: int | None = None, acquisition: str = "ei",
             surrogate: str = "fingerprint", predictor: str = "mlp", max_heavy_atoms: int | None = None,
             max_radius: float | None = None, top_k: int = 10, device: str | None = None,
             scaffold: str | None = None, resume: bool = False) -> OptimizationResult:
    """Maximise ``objective`` over the model's latent space with at most ``budget`` oracle calls.

    ``method``: ``bo`` (GP Bayesian optimisation; ``surrogate`` ``fingerprint`` models the decoded
    molecules with a Tanimoto GP, ``latent`` models z with an RBF GP), ``gradient`` (ascent on a
    ``predictor`` in a trust region: ``mlp``, ``gp`` or ``ridge`` fitted on the scores so far, or
    ``head``, the model's own property head for the objective) or ``cvae`` (cross-entropy search over
    z and conditions of a conditional model). With ``start`` the search stays near that molecule's
    latent code; with ``min_similarity`` only molecules at least that Tanimoto-similar to it are
    scored. ``out`` receives every evaluated molecule. ``model`` is a model, a checkpoint path or a
    shipped model's name, or a list of them searched together (``bo`` with the fingerprint surrogate,
    no ``start`` or ``scaffold``); None means :data:`SEARCH_TOGETHER` where several models can search
    together, else the bundled model. Models load onto ``device`` only after every other input has
    been checked. With
    ``scaffold`` (graph models) every proposal is decoded around that scaffold and contains it.

    ``out`` is rewritten after every batch, with the run's settings in ``OUT.run.json`` beside it.
    ``resume=True`` continues the interrupted run that wrote ``out`` (called with the same
    arguments): the seeded search is replayed, molecules the file holds are answered from it (never
    by the oracle again), and the run goes on with new calls until the budget is spent.
    """
    oracle = get_oracle(objective)
    if method not in METHODS:
        raise MolvaeError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget <= 0:
        raise MolvaeError(f"budget must be a positive number of oracle calls, got {budget}")
    if method == "bo":
        from molvae.optimization.bayesian import check_options  # noqa: PLC0415 (loads scikit-learn)

        check_options(acquisition, surrogate)
    if method == "gradient" and predictor not in GRADIENT_PREDICTORS:
        raise MolvaeError(f"unknown predictor {predictor!r}; choose one of: {', '.join(GRADIENT_PREDICTORS)}")
    for name, value in (("batch size", batch_size), ("initial design size", initial), ("top-k", top_k)):
        if value is not None and value < 1:
            raise MolvaeError(f"{name} must be positive, got {value}")
    constraints = []
    if min_similarity is not None:
        check_similarity(min_similarity)
        if start is None:
            raise MolvaeError("a minimum similarity needs a start molecule (--start SMILES)")
    if start is not None:
        start = start_molecule(start)
        if method == "cvae":
            raise MolvaeError("method cvae samples freely; use bo or gradient to optimise from a start molecule")
        if min_similarity is not None:
            constraints.append(similarity_constraint(start, min_similarity))
    if max_heavy_atoms is not None:
        constraints.append(heavy_atom_constraint(int(max_heavy_atoms)))
    settings = {"objective": oracle.name, "method": method, "budget": int(budget), "start": start,
                "min_similarity": min_similarity, "seed": seed, "conditions": dict(conditions or {}),
                "batch_size": batch_size, "initial": initial, "acquisition": acquisition, "surrogate": surrogate,
                "predictor": predictor, "max_heavy_atoms": max_heavy_atoms, "max_radius": max_radius,
                "scaffold": scaffold}
    arguments = search_models(model, method, surrogate, start, scaffold)
    answers = _resumed_answers(out, settings, arguments) if resume else None

    loaded = [resolve_model(argument, device) for argument in arguments]
    model = loaded[0]
    for each in loaded:
        each.eval()
    constraint = model.scaffold_constraint(scaffold) if scaffold is not None else None
    chosen: str | PropertyHeadPredictor = predictor
    if method == "gradient" and predictor == "head":  # the model's own head; checked before any call
        chosen = PropertyHeadPredictor(model, oracle.name, maximize=oracle.maximize)
    tracker = OracleBudget(oracle, int(budget), constraints, out=out, answers=answers)
    if out is not None and not resume:
        write_settings(out, {**settings, **model_fingerprint(arguments)})
    z_start = None
    if start is None:  # one session per model, each with its own random stream
        sessions = [LatentSession(each, tracker, fixed_condition(each, conditions), seed + 1000 * i,
                                  condition_values=fixed_condition_values(each, conditions), label=label)
                    for i, (each, label) in enumerate(zip(loaded, model_labels(arguments), strict=True))]
    else:
        mu, _, _ = encode(model, [start], conditions)
        z_start = mu[0].numpy().astype(np.float64)
        sessions = [LatentSession(model, tracker, condition_matrix(model, [start], conditions), seed, greedy=False)]
    session = sessions[0]
    session.scaffold = constraint
    torch.manual_seed(seed)
    batch = batch_size or max(10, min(100, budget // 20))
    first = initial or max(10, min(100, budget // 10))
    tracker.bar = progress(total=int(budget), desc=f"optimising {oracle.name}", unit="call", min_total=100)
    try:
        _dispatch(method, session, batch, first, acquisition, surrogate, chosen, z_start, max_radius, seed,
                  also=sessions[1:])
    except StalledSearch as err:
        log.warning("stopped early after %d of %d calls: %s", tracker.calls, budget, err)
    finally:  # Ctrl-C included: what was evaluated is written
        tracker.bar.close()
        if out is not None:
            tracker.write(out)
    if tracker.replayed:
        log.info("%d of the %d calls were answered from %s (paid for before the interruption)",
                 tracker.replayed, tracker.calls, out)
    together = [each.label for each in sessions] if len(sessions) > 1 else None
    summary = {**tracker.summary(), "designs_from": designs_from(model, method, start, together),
               "replayed": tracker.replayed}
    return OptimizationResult(tracker.history(), tracker.top(top_k), summary, tracker)


def _resumed_answers(out: str | Path | None, settings: dict, model) -> dict[str, float]:
    """The answers of the interrupted run in ``out``, after checking it is this very search."""
    if out is None:
        raise MolvaeError("resuming needs the output file of the interrupted run (out=..., --resume OUT.csv)")
    recorded, answers = read_run(out)
    check_same_run(recorded, settings, model)
    return answers


def search_models(model, method: str, surrogate: str, start: str | None, scaffold: str | None) -> list:
    """The model arguments a search uses: those given (one, or a list searched together), else
    :data:`SEARCH_TOGETHER` where several models can search together, else the bundled model."""
    can_share = method == "bo" and surrogate == "fingerprint" and start is None and scaffold is None
    if model is None:
        return list(SEARCH_TOGETHER) if can_share else [None]
    models = list(model) if isinstance(model, list | tuple) else [model]
    if not models:
        raise MolvaeError("no model given")
    if len(models) > 1 and not can_share:
        raise MolvaeError("several models search together only with method bo and the fingerprint surrogate, "
                          "without a start molecule or scaffold; give one model")
    return models


def model_labels(arguments: list) -> list[str]:
    """Short names for models in the output's source column: shipped names or file stems, numbered
    where two would read the same."""
    labels = ["bundled" if argument is None else Path(argument).stem if isinstance(argument, str | Path)
              else "model" for argument in arguments]
    return [f"{label}#{i + 1}" if labels.count(label) > 1 else label for i, label in enumerate(labels)]


def designs_from(model, method: str, start: str | None, together: list[str] | None = None) -> str:
    """Where the search draws its first latent points, in words (for the user and the log);
    ``together`` names the models when several search together."""
    if start is not None:
        return f"the neighbourhood of the latent code of {start}"
    if together:
        return f"the training priors of {len(together)} models searched together ({', '.join(together)})"
    # cvae's cross-entropy search starts from N(0, I) in z whatever prior the model samples from
    return f"the {describe_prior(StandardNormal(model.latent_dim) if method == 'cvae' else model.training_prior)}"


def _dispatch(method: str, session: LatentSession, batch: int, initial: int, acquisition: str, surrogate: str,
              predictor: str | PropertyHeadPredictor, z_start: np.ndarray | None, max_radius: float | None,
              seed: int, also: list[LatentSession]) -> None:
    if z_start is not None and max_radius is None:
        max_radius = 2.0
    if method == "bo":
        from molvae.optimization.bayesian import bayesian_optimization  # noqa: PLC0415 (loads scikit-learn)

        bayesian_optimization(session, batch, initial, acquisition, start=z_start, max_radius=max_radius, seed=seed,
                              surrogate=surrogate, also=also)
    elif method == "gradient":
        gradient_optimization(session, predictor, initial, starts=max(2, batch // 4), start=z_start,
                              max_radius=max_radius, seed=seed)
    else:
        conditional_optimization(session, batch, seed=seed)
