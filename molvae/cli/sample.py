"""Sample molecules from a model's prior; every sample is RDKit-validated and canonicalised, and
invalid strings are re-drawn (bounded) unless --keep-invalid is given.

Writes columns smiles (canonical, empty when invalid), raw, valid, and logP, QED, SA, MW (see
--properties and --no-properties).
"""

from __future__ import annotations

import argparse

from molvae.cli.common import (
    add_condition_argument,
    add_model_arguments,
    check_column,
    draw,
    load,
    parse_conditions,
    write_table,
)
from molvae.errors import MolvaeError
from molvae.generation import neighbours, sample
from molvae.generation.rows import OUTPUT_PROPERTIES
from molvae.generation.sampler import PRECISIONS, SAMPLING_PRIORS, describe_prior, sampling_prior

HELP = "sample molecules (CSV, optional grid image)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", type=int, default=1000, help="number of samples (default 1000)")
    p.add_argument("-o", "--out", required=True, help="output CSV")
    add_model_arguments(p)
    p.add_argument("--seed", type=int, help="random seed (same seed, same molecules)")
    p.add_argument("--temperature", type=float,
                   help="softmax temperature (default: the model's own, 1.0 unless it stores another)")
    p.add_argument("--greedy", action="store_true", help="most likely token at each step")
    p.add_argument("--max-length", type=int, help="longest sequence to decode (default: the model's)")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--precision", choices=PRECISIONS, default=PRECISIONS[0],
                   help="decoding precision; auto: bf16 on GPUs and CPUs with native bf16, else fp32")
    p.add_argument("--prior", choices=SAMPLING_PRIORS, default="auto",
                   help="where z comes from: auto (the model's fitted prior if it has one, else the one it was "
                        "trained against), standard (N(0, I)), vamp (its learned VampPrior), mixture or "
                        "exemplar (the fitted one)")
    columns = p.add_mutually_exclusive_group()
    columns.add_argument("--properties", nargs="+", metavar="NAME",
                         help=f"property columns to compute (default: {' '.join(OUTPUT_PROPERTIES)})")
    columns.add_argument("--no-properties", action="store_true", help="no property columns (fastest)")
    p.add_argument("--keep-invalid", action="store_true",
                   help="return the first -n draws as they are instead of re-drawing invalid strings")
    p.add_argument("--scaffold", metavar="SMILES",
                   help="graph models: every molecule contains this scaffold, built first and then decorated; "
                        "[*] atoms mark where it may grow (default: any atom with free valence)")
    p.add_argument("--novel-only", action="store_true",
                   help="re-draw molecules the model was trained on, as invalid ones are (bounded)")
    p.add_argument("--unique", action=argparse.BooleanOptionalAction, default=None,
                   help="re-draw molecules already in the table, as invalid ones are (bounded), so that every row "
                        "is a different molecule (default: on with --scaffold, else off)")
    p.add_argument("--train", metavar="FILE",
                   help="the model's training molecules (a file or 'moses'), for the novel column and "
                        "--novel-only (default: those its checkpoint records)")
    p.add_argument("--around", metavar="SMILES", help="sample the neighbourhood of this molecule instead of the prior")
    p.add_argument("--radius", type=float, default=0.5, help="noise scale around --around's latent code")
    add_condition_argument(p)
    p.add_argument("--grid", help="also draw the first valid molecules into this PNG, each labelled with its row "
                                  "number and QED (see --grid-legend)")
    p.add_argument("--grid-legend", metavar="COLUMN",
                   help="the column whose value labels each molecule in --grid (default: QED when computed)")


def run(args: argparse.Namespace) -> None:
    model = load(args)
    if args.around and (args.scaffold is not None or args.novel_only or args.unique):
        raise MolvaeError("--around samples one molecule's neighbourhood; it cannot be combined with --scaffold, "
                          "--novel-only or --unique")
    source = [f"around {args.around}" if args.around else describe_prior(sampling_prior(model, args.prior))]
    if args.scaffold is not None:
        model.scaffold_constraint(args.scaffold)  # a bad scaffold is reported before any work
        source.append(f"around the scaffold {args.scaffold}")
    if args.around:
        frame = neighbours(model, args.around, args.n, args.radius, parse_conditions(args.condition), seed=args.seed)
    else:
        frame = sample(model, args.n, parse_conditions(args.condition), temperature=args.temperature,
                       greedy=args.greedy, seed=args.seed, batch_size=args.batch_size, max_length=args.max_length,
                       precision=args.precision, prior=args.prior, redraw_invalid=not args.keep_invalid,
                       properties=False if args.no_properties else args.properties or True, scaffold=args.scaffold,
                       novel_only=args.novel_only, train=args.train, unique=args.unique)
    temperature = frame.attrs.get("temperature", 1.0)  # what sample() drew at (--around decodes greedily)
    if not args.greedy and temperature != 1:
        source.insert(1, f"temperature {temperature:g}")
    legend = args.grid_legend or ("QED" if "QED" in frame else None)
    check_column(frame, legend, "--grid-legend")
    write_table(frame, args.out)
    draw(frame[frame["valid"]], args.grid, legend, numbered=True)
    valid = int(frame["valid"].sum())
    unique = frame.loc[frame["valid"], "smiles"].nunique()
    print(f"wrote {len(frame)} samples ({', '.join(source)}) to {args.out}: {valid} valid ({valid / len(frame):.1%}), "
          f"{unique} unique ({unique / max(valid, 1):.1%} of valid){novel_note(frame)}{redraw_note(frame)}"
          f"{exemplar_note(frame)}")


def novel_note(frame) -> str:
    """How many samples are new molecules, when the model knows its training molecules."""
    if "novel" not in frame:
        return ""
    new = int(frame["novel"].sum())
    return f", {new} new ({new / len(frame):.1%}, column novel)"


def exemplar_note(frame) -> str:
    """How many samples of an exemplar prior gave back the training molecule they started from."""
    if "exemplar" not in frame:
        return ""
    copies = int((frame["valid"] & (frame["smiles"] == frame["exemplar"])).sum())
    return f"; {copies} ({copies / len(frame):.1%}) are the training molecule they started from (column exemplar)"


def redraw_note(frame) -> str:
    """How many strings were decoded to fill the table, when invalid ones were re-drawn."""
    drawn = frame.attrs.get("drawn", len(frame))
    if drawn == len(frame):
        return ""
    return f"; {drawn} strings decoded, {frame.attrs['raw_validity']:.1%} of them valid"
