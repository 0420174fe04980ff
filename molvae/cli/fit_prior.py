"""Fit a model's sampling prior to encoded molecules and write the model with it.

``--kind mixture`` (the default): a Gaussian mixture over z ~ q(z|x) of the given molecules, an
estimate of where the encoder puts real molecules. ``--kind exemplar``: the encoder's posteriors at
the molecules themselves, widened by ``--spread``; each sample then starts from a random molecule of
``--data`` and keeps its conditions (the file is read when sampling: ``moses`` names the shipped
training split, any other file is stored as an absolute path). `molvae sample` draws z from the
fitted prior unless `--prior standard` is given. The output is a complete checkpoint; the input model
is left unchanged unless -o names it.
"""

from __future__ import annotations

import argparse

from molvae.cli.common import add_model_arguments, load
from molvae.core.priors import FITTED_PRIORS
from molvae.datasets import read_molecules, resolve_data_path
from molvae.generation.prior_fit import fit_exemplar_prior, fit_prior
from molvae.generation.sampler import describe_prior
from molvae.training.checkpoint import read_checkpoint, save_checkpoint

HELP = "fit a sampling prior (Gaussian mixture or exemplar prior) to encoded molecules"
MIXTURE_LIMIT = 100_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_file", nargs="?", metavar="MODEL", help="checkpoint or shipped model name (default: bundled)")
    p.add_argument("--data", required=True, help="molecule file (.csv, .csv.gz, .smi, .txt) or 'moses' (train split)")
    p.add_argument("--smiles-column", help="CSV column holding SMILES (default: smiles/SMILES)")
    p.add_argument("--kind", choices=FITTED_PRIORS, default="mixture",
                   help="mixture (Gaussian mixture over encoded molecules) or exemplar (their posteriors)")
    p.add_argument("--limit", type=int,
                   help=f"use the first N molecules (default: {MIXTURE_LIMIT} for a mixture, all for exemplars)")
    p.add_argument("--components", type=int, default=32, help="mixture components (default 32)")
    p.add_argument("--spread", type=float, default=1.0,
                   help="exemplar prior: scale of each posterior's standard deviation (default 1: q(z) itself)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", required=True, help="checkpoint to write (the model with its fitted prior)")
    add_model_arguments(p)


def run(args: argparse.Namespace) -> None:
    args.model = args.model_file or args.model
    model = load(args)
    if args.kind == "exemplar":
        model.prior = fit_exemplar_prior(model, args.data, args.spread, args.smiles_column, args.limit)
    else:
        frame = read_molecules(resolve_data_path(args.data), args.smiles_column, args.limit or MIXTURE_LIMIT)
        model.prior = fit_prior(model, frame["smiles"].tolist(), args.components, args.seed)
    metadata = read_checkpoint(args.model).get("metadata", {})
    save_checkpoint(args.out, model.cpu(), metadata={**metadata, "prior_fitted_on": str(args.data)})
    info = model.prior.info
    detail = f"{info['molecules']} molecules encoded, {info['skipped']} skipped" if args.kind == "mixture" else \
        f"{info['readable_of_first'][0]} of the first {info['readable_of_first'][1]} molecules readable"
    print(f"{describe_prior(model.prior)} ({detail}); wrote {args.out}")
