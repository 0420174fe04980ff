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
from molvae.optimization.predictors import GRADIENT_PREDICTORS
from molvae.optimization.run import METHODS
from molvae.optimization.tasks import GUACAMOL_TASKS, PROPERTY_ORACLES

HELP = "optimise a property in latent space (BO, gradient, conditional) under an oracle budget"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", help="what to maximise (SA is minimised), e.g. QED, penalized_logP, "
                                       "celecoxib_rediscovery, mypackage.scores:activity")
    p.add_argument("--budget", type=int, default=1000, help="oracle calls allowed (default 1000)")
    p.add_argument("--method", default=METHODS[0], choices=METHODS,
                   help="bo: Gaussian-process Bayesian optimisation (default); gradient: ascent on a "
                        "predictor in a trust region; cvae: search over z and conditions of a conditional model")
    p.add_argument("--start", metavar="SMILES", help="optimise near this molecule")
    p.add_argument("--min-similarity", type=float, metavar="D",
                   help="only score molecules with Tanimoto ≥ D (0..1) to --start")
    p.add_argument("--acquisition", default=ACQUISITIONS[0], choices=ACQUISITIONS,
                   help=f"BO acquisition (default {ACQUISITIONS[0]})")
    p.add_argument("--surrogate", default=SURROGATES[0], choices=SURROGATES,
                   help="BO model: fingerprint (Tanimoto GP on the decoded molecules, default) or latent "
                        "(RBF GP on z)")
    p.add_argument("--predictor", default="mlp", choices=GRADIENT_PREDICTORS,
                   help="predictor for --method gradient: mlp ensemble (default), gp or ridge fitted on the "
                        "scores so far, or head: the model's own property head (molvae train --property-head)")
    p.add_argument("--batch-size", type=int, help="proposals per round (default: budget/20, 10..100)")
    p.add_argument("--scaffold", metavar="SMILES",
                   help="graph models: every proposal contains this scaffold ([*] marks where it may grow)")
    p.add_argument("--max-heavy-atoms", type=int, help="only score molecules with at most this many heavy atoms")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--top", type=int, default=10, help="how many of the best molecules to print (default 10)")
    p.add_argument("-o", "--out", help="output CSV of every evaluated molecule")
    p.add_argument("--list-objectives", action="store_true", help="print the built-in objectives and exit")
    add_model_arguments(p)
    add_condition_argument(p)


def run(args: argparse.Namespace) -> None:
    if args.list_objectives:
        for name, (description, *_) in {**PROPERTY_ORACLES, **GUACAMOL_TASKS}.items():
            print(f"{name:26s} {description}")
        return
    if not args.objective:
        raise MolvaeError("--objective is required (see --list-objectives)")
    if not args.out:
        raise MolvaeError("-o/--out is required: the CSV that receives every evaluated molecule")
    # optimize() checks every input before it loads the model
    result = optimize(args.objective, args.model, args.method, args.budget, args.start, args.min_similarity, args.seed,
                      args.out, parse_conditions(args.condition), batch_size=args.batch_size,
                      acquisition=args.acquisition, surrogate=args.surrogate, predictor=args.predictor,
                      max_heavy_atoms=args.max_heavy_atoms, top_k=args.top, device=args.device,
                      scaffold=args.scaffold)
    summary = result.summary
    free = {k.removeprefix("failed_"): v for k, v in summary.items()
            if k.startswith("failed_") and k != "failed_oracle_error"}
    print(f"{summary['calls']} of {summary['budget']} oracle calls for {summary['objective']} written to {args.out}"
          + (f"; objective failed on {summary['failed_oracle_error']} molecules"
             if summary.get("failed_oracle_error") else "")
          + (f"; rejected without a call: {', '.join(f'{k} {v}' for k, v in free.items())}" if free else ""))
    print(f"first designs drawn from {summary['designs_from']}")
    print(f"top {len(result.top)}:")
    for row in result.top.itertuples():
        print(f"  {row.score:10.4f}  call {row.call:5d}  {row.smiles}")
