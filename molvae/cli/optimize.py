"""Optimise an objective in a model's latent space under an oracle budget.

Every proposal is decoded, validated by RDKit and deduplicated; invalid or repeated molecules cost
no oracle call and are never replaced by other molecules. The output CSV lists every oracle call:
call (1-based index), smiles, score, status (evaluated or oracle_error) and source (which step of the
optimiser proposed it). Objectives: a built-in name (see --list-objectives), similarity:SMILES,
weighted:A=w,B=w, desirability:A=worst..best, or module:function (a Python function of a SMILES).
"""

from __future__ import annotations

import argparse

from molvae.cli.common import add_condition_argument, add_model_arguments, parse_conditions
from molvae.errors import MolvaeError
from molvae.optimization import optimize
from molvae.optimization.bayesian import ACQUISITIONS, SURROGATES
from molvae.optimization.objectives import get_oracle
from molvae.optimization.predictors import GRADIENT_PREDICTORS
from molvae.optimization.record import read_run
from molvae.optimization.run import METHODS
from molvae.optimization.tasks import GUACAMOL_TASKS, PROPERTY_ORACLES

HELP = "optimise a property in latent space (BO, gradient, conditional) under an oracle budget"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", help="what to maximise (SA is minimised), e.g. QED, penalized_logP, "
                                       "celecoxib_rediscovery, mypackage.scores:activity")
    p.add_argument("--budget", type=int, help="oracle calls allowed (default 1000)")
    p.add_argument("--method", choices=METHODS,
                   help="bo: Gaussian-process Bayesian optimisation (default); gradient: ascent on a "
                        "predictor in a trust region; cvae: search over z and conditions of a conditional model")
    p.add_argument("--start", metavar="SMILES", help="optimise near this molecule")
    p.add_argument("--min-similarity", type=float, metavar="D",
                   help="only score molecules with Tanimoto ≥ D (0..1) to --start")
    p.add_argument("--acquisition", choices=ACQUISITIONS,
                   help=f"BO acquisition (default {ACQUISITIONS[0]})")
    p.add_argument("--surrogate", choices=SURROGATES,
                   help="BO model: fingerprint (Tanimoto GP on the decoded molecules, default) or latent "
                        "(RBF GP on z)")
    p.add_argument("--predictor", choices=GRADIENT_PREDICTORS,
                   help="predictor for --method gradient: mlp ensemble (default), gp or ridge fitted on the "
                        "scores so far, or head: the model's own property head (molvae train --property-head)")
    p.add_argument("--batch-size", type=int, help="proposals per round (default: budget/20, 10..100)")
    p.add_argument("--scaffold", metavar="SMILES",
                   help="graph models: every proposal contains this scaffold ([*] marks where it may grow)")
    p.add_argument("--max-heavy-atoms", type=int, help="only score molecules with at most this many heavy atoms")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--top", type=int, default=10, help="how many of the best molecules to print (default 10)")
    p.add_argument("-o", "--out", help="output CSV of every evaluated molecule (rewritten after every batch; the "
                                       "run's settings go to OUT.run.json beside it)")
    p.add_argument("--resume", metavar="OUT.csv",
                   help="continue the interrupted run that wrote OUT.csv, with its settings and budget; molecules "
                        "it scored are answered from the file, never by the oracle again")
    p.add_argument("--list-objectives", action="store_true", help="print the built-in objectives and exit")
    add_model_arguments(p, several="checkpoint files or shipped models (bundled, selfies, property-head, graph); "
                                   "several are searched together (method bo). Default: bundled and selfies "
                                   "together, or bundled alone with --start, another method or surrogate")
    add_condition_argument(p)


DEFAULTS = {"budget": 1000, "method": METHODS[0], "acquisition": ACQUISITIONS[0], "surrogate": SURROGATES[0],
            "predictor": "mlp", "seed": 0}
# search settings that are command-line options, under their optimize() names
OPTIONS = {"budget": "budget", "method": "method", "start": "start", "min_similarity": "min_similarity",
           "seed": "seed", "batch_size": "batch_size", "acquisition": "acquisition", "surrogate": "surrogate",
           "predictor": "predictor", "max_heavy_atoms": "max_heavy_atoms", "scaffold": "scaffold"}


def _from_record(args: argparse.Namespace) -> None:
    """Fill the options of a resumed run from its record; an option given again must agree with it."""
    settings, _ = read_run(args.resume)
    if args.out and args.out != args.resume:
        raise MolvaeError("--resume continues the run in its own output file; leave out -o")
    recorded_objective = settings["objective"]
    if args.objective and get_oracle(args.objective).name != recorded_objective:
        raise MolvaeError(f"cannot resume: the run optimised {recorded_objective}, not {args.objective}")
    if args.model and one_or_several(args.model) != settings["model"]:
        raise MolvaeError(f"cannot resume: the run used model {settings['model']}, not {' '.join(args.model)}")
    for option in OPTIONS:
        given, recorded = getattr(args, option), settings.get(option)
        if given is not None and given != recorded and not (option == "start" and given and recorded):
            raise MolvaeError(f"cannot resume: the run used --{option.replace('_', '-')} {recorded}, not {given}")
        setattr(args, option, recorded)
    if args.condition and parse_conditions(args.condition) != settings["conditions"]:
        raise MolvaeError(f"cannot resume: the run used the conditions {settings['conditions']}")
    recorded_model = settings["model"]
    args.objective, args.out = recorded_objective, args.resume
    args.model = recorded_model if isinstance(recorded_model, list) else [recorded_model]
    args.condition = [f"{k}={v}" for k, v in settings["conditions"].items()]


def one_or_several(models: list[str] | None) -> str | list[str] | None:
    """``--model`` as optimize() takes it: None, one model, or a list searched together."""
    return models[0] if models and len(models) == 1 else models


def run(args: argparse.Namespace) -> None:
    if args.list_objectives:
        for name, (description, *_) in {**PROPERTY_ORACLES, **GUACAMOL_TASKS}.items():
            print(f"{name:26s} {description}")
        return
    if args.resume:
        _from_record(args)
    for option, value in DEFAULTS.items():
        if getattr(args, option) is None:
            setattr(args, option, value)
    if not args.objective:
        raise MolvaeError("--objective is required (see --list-objectives)")
    if not args.out:
        raise MolvaeError("-o/--out is required: the CSV that receives every evaluated molecule")
    # optimize() checks every input before it loads the model
    result = optimize(args.objective, one_or_several(args.model), args.method, args.budget, args.start,
                      args.min_similarity, args.seed, args.out, parse_conditions(args.condition),
                      batch_size=args.batch_size, acquisition=args.acquisition, surrogate=args.surrogate,
                      predictor=args.predictor, max_heavy_atoms=args.max_heavy_atoms, top_k=args.top,
                      device=args.device, scaffold=args.scaffold, resume=bool(args.resume))
    summary = result.summary
    free = {k.removeprefix("failed_"): v for k, v in summary.items()
            if k.startswith("failed_") and k != "failed_oracle_error"}
    print(f"{summary['calls']} of {summary['budget']} oracle calls for {summary['objective']} written to {args.out}"
          + (f"; objective failed on {summary['failed_oracle_error']} molecules"
             if summary.get("failed_oracle_error") else "")
          + (f"; {summary['replayed']} of them answered from the interrupted run" if summary.get("replayed") else "")
          + (f"; rejected without a call: {', '.join(f'{k} {v}' for k, v in free.items())}" if free else ""))
    print(f"first designs drawn from {summary['designs_from']}")
    print(f"top {len(result.top)}:")
    for row in result.top.itertuples():
        print(f"  {row.score:10.4f}  call {row.call:5d}  {row.smiles}")
