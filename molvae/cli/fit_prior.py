"""Fit a model's sampling prior to encoded molecules and write the model with it.

A Gaussian mixture over z ~ q(z|x) of the given molecules (an estimate of where the encoder puts
real molecules); `molvae sample` then draws z from it unless `--prior standard` is given. The
output is a complete checkpoint; the input model is left unchanged unless -o names it.
"""

from __future__ import annotations

import argparse

from molvae.cli.common import add_model_arguments, load
from molvae.datasets import read_molecules, resolve_data_path
from molvae.generation.prior_fit import fit_prior
from molvae.training.checkpoint import read_checkpoint, save_checkpoint

HELP = "fit a sampling prior (Gaussian mixture) to encoded molecules"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_file", nargs="?", metavar="MODEL", help="checkpoint or shipped model name (default: bundled)")
    p.add_argument("--data", required=True, help="molecule file (.csv, .csv.gz, .smi, .txt) or 'moses' (train split)")
    p.add_argument("--smiles-column", help="CSV column holding SMILES (default: smiles/SMILES)")
    p.add_argument("--limit", type=int, default=100_000, help="use the first N molecules (default 100000)")
    p.add_argument("--components", type=int, default=32, help="mixture components (default 32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", required=True, help="checkpoint to write (the model with its fitted prior)")
    add_model_arguments(p)


def run(args: argparse.Namespace) -> None:
    args.model = args.model_file or args.model
    frame = read_molecules(resolve_data_path(args.data), args.smiles_column, args.limit)
    model = load(args)
    prior = fit_prior(model, frame["smiles"].tolist(), args.components, args.seed)
    model.prior = prior
    metadata = read_checkpoint(args.model).get("metadata", {})
    save_checkpoint(args.out, model.cpu(), metadata={**metadata, "prior_fitted_on": str(args.data)})
    info = prior.info
    print(f"fitted a {info['components']}-component prior to {info['molecules']} molecules "
          f"({info['skipped']} skipped); wrote {args.out}")
