"""Interpolate between two molecules in latent space and decode each point."""

from __future__ import annotations

import argparse

from molvae.cli.common import add_condition_argument, add_model_arguments, draw, load, parse_conditions, write_table
from molvae.generation import interpolate
from molvae.generation.latent import INTERPOLATIONS

HELP = "interpolate between two molecules"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("start", help="SMILES of the first molecule")
    p.add_argument("end", help="SMILES of the last molecule")
    p.add_argument("-o", "--out", required=True, help="output CSV")
    p.add_argument("--steps", type=int, default=10, help="points on the path, ends included (default 10)")
    p.add_argument("--method", choices=INTERPOLATIONS, default=INTERPOLATIONS[0])
    add_model_arguments(p)
    add_condition_argument(p)
    p.add_argument("--grid", help="also draw the path into this PNG")


def run(args: argparse.Namespace) -> None:
    model = load(args)
    out = interpolate(model, args.start, args.end, args.steps, args.method, parse_conditions(args.condition))
    write_table(out, args.out)
    draw(out[out["valid"]], args.grid, legend="step")
    print(f"wrote {len(out)} points to {args.out}: {int(out['valid'].sum())} valid, "
          f"{out.loc[out['valid'], 'smiles'].nunique()} distinct molecules")
