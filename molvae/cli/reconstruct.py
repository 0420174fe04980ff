"""Encode molecules and decode them again (greedy from the posterior mean); reports how many match."""

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
from molvae.generation import reconstruct

HELP = "encode and decode molecules, report exact reconstructions"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    p.add_argument("-o", "--out", required=True, help="output CSV (input, smiles, raw, match, valid, ...)")
    add_model_arguments(p)
    add_condition_argument(p)


def run(args: argparse.Namespace) -> None:
    model = load(args)
    frame = read_inputs(args)
    out = reconstruct(model, frame["smiles"].tolist(), parse_conditions(args.condition),
                      skip_invalid=args.skip_invalid)
    rest = frame.iloc[out.attrs["kept"]].drop(columns="smiles").reset_index(drop=True)
    out = pd.concat([out, rest], axis=1)
    write_table(out, args.out)
    print(f"reconstructed {int(out['match'].sum())} of {len(out)} molecules exactly "
          f"({out['match'].mean():.1%}); wrote {args.out}")
