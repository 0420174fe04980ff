"""Encode molecules into the latent space: posterior means mu_i and log-variances logvar_i.

Other columns of the input file pass through to the output.
"""

from __future__ import annotations

import argparse

import pandas as pd

from molvae.cli.common import (
    add_condition_argument,
    add_input_arguments,
    add_model_arguments,
    load,
    parse_conditions,
    read_inputs,
    write_table,
)
from molvae.generation import encode

HELP = "encode molecules to latent vectors (CSV)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    p.add_argument("-o", "--out", required=True, help="output CSV with mu_* and logvar_* columns")
    add_model_arguments(p)
    add_condition_argument(p)


def run(args: argparse.Namespace) -> None:
    model = load(args)
    frame = read_inputs(args)
    mu, logvar, kept = encode(model, frame["smiles"].tolist(), parse_conditions(args.condition), args.skip_invalid)
    latent = pd.DataFrame(mu.numpy(), columns=[f"mu_{i}" for i in range(mu.shape[1])])
    spread = pd.DataFrame(logvar.numpy(), columns=[f"logvar_{i}" for i in range(mu.shape[1])])
    out = pd.concat([frame.iloc[kept].reset_index(drop=True), latent, spread], axis=1)
    write_table(out, args.out)
    skipped = len(frame) - len(kept)
    print(f"encoded {len(kept)} molecules to {args.out}" + (f" ({skipped} skipped)" if skipped else ""))
