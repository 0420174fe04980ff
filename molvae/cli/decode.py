"""Decode latent vectors into molecules.

The input CSV holds one latent point per row in columns mu_0..mu_{D-1} (as written by encode) or
z_0..z_{D-1}; a conditional model also reads columns named after its conditions when present.
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

from molvae.cli.common import add_condition_argument, add_model_arguments, load, parse_conditions, write_table
from molvae.datasets.io import read_table
from molvae.errors import MolvaeError
from molvae.generation import decode
from molvae.generation.common import seeded_generator

HELP = "decode latent vectors to molecules (CSV)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", required=True, help="CSV with mu_* or z_* columns")
    p.add_argument("-o", "--out", required=True, help="output CSV")
    add_model_arguments(p)
    p.add_argument("--sample", action="store_true", help="sample tokens instead of greedy decoding")
    p.add_argument("--temperature", type=float,
                   help="softmax temperature with --sample (default: the model's own, 1.0 unless it stores another)")
    p.add_argument("--seed", type=int)
    add_condition_argument(p)


def latent_columns(frame: pd.DataFrame, dim: int) -> list[str]:
    for prefix in ("z_", "mu_"):
        columns = [f"{prefix}{i}" for i in range(dim)]
        if all(c in frame.columns for c in columns):
            return columns
    raise MolvaeError(f"input needs columns z_0..z_{dim - 1} or mu_0..mu_{dim - 1} for this model's "
                      f"{dim}-dimensional latent space; found: {', '.join(map(str, frame.columns[:8]))}"
                      + (", ..." if len(frame.columns) > 8 else ""))


def run(args: argparse.Namespace) -> None:
    model = load(args)
    frame = read_table(args.input)
    columns = latent_columns(frame, model.latent_dim)
    try:
        z = torch.tensor(frame[columns].astype(float).to_numpy(), dtype=torch.float32)
    except ValueError:
        raise MolvaeError(f"latent columns of {args.input} must be numbers") from None
    if not torch.isfinite(z).all():
        raise MolvaeError(f"latent columns of {args.input} contain missing or non-finite values")
    given = parse_conditions(args.condition)
    c = None
    if model.conditions:
        given = model.conditions.check_names(given)
        c = model.conditions.encode(given, len(z))
        for j, name in enumerate(model.conditions.continuous):
            if name not in given and name in frame.columns:
                mean, std = model.conditions.continuous[name]
                c[:, j] = torch.tensor(((frame[name].astype(float) - mean) / std).to_numpy(), dtype=torch.float32)
    out = decode(model, z, c, temperature=args.temperature, greedy=not args.sample,
                 generator=seeded_generator(args.seed, model.device))
    rest = frame.drop(columns=[c for c in frame.columns if c.startswith(("mu_", "logvar_", "z_"))])
    out = pd.concat([out, rest.rename(columns={"smiles": "input_smiles"}).reset_index(drop=True)], axis=1)
    write_table(out, args.out)
    print(f"decoded {len(out)} latent points to {args.out}: {int(out['valid'].sum())} valid")
