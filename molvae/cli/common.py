"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path

import pandas as pd

from molvae.chem.draw import draw_grid
from molvae.datasets import read_molecules
from molvae.errors import MolvaeError
from molvae.files import refuse_overwriting, replace_atomically
from molvae.training.checkpoint import checkpoint_path, load_model

log = logging.getLogger(__name__)


def add_model_arguments(p: argparse.ArgumentParser, several: str | None = None) -> None:
    """``--model`` (and ``--device``); ``several`` is the help of a ``--model`` that takes one or more."""
    if several:
        p.add_argument("--model", nargs="+", metavar="MODEL", help=several)
    else:
        p.add_argument("--model", help="checkpoint file, or a shipped model: bundled (the default), selfies, "
                                       "property-head or graph")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, mps")


def add_condition_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--condition", nargs="+", default=[], metavar="NAME=VALUE",
                   help="condition values for a conditional model, e.g. logP=2.5 QED=0.8")


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("-i", "--input", help="molecule file (.csv, .csv.gz, .smi, .txt)")
    source.add_argument("--smiles", nargs="+", help="SMILES given on the command line")
    p.add_argument("--smiles-column", help="CSV column holding SMILES (default: smiles/SMILES)")
    p.add_argument("--skip-invalid", action="store_true",
                   help="skip molecules that cannot be encoded instead of stopping with an error")


def parse_conditions(items: list[str]) -> dict[str, str]:
    """NAME=VALUE pairs; values stay strings so the model can check them against its conditions."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise MolvaeError(f"condition {item!r} must look like NAME=VALUE, e.g. logP=2.5")
        out[name] = value
    return out


def read_inputs(args: argparse.Namespace) -> pd.DataFrame:
    """Molecules from --input or --smiles as a DataFrame with a ``smiles`` column first."""
    if args.smiles:
        return pd.DataFrame({"smiles": args.smiles})

    return read_molecules(args.input, args.smiles_column).drop(columns="line")


INPUT_OPTIONS = {"input": "-i/--input", "data": "--data", "reference": "--reference", "train": "--train",
                 "model": "--model", "model_file": "MODEL"}


def refuse_output_over_input(args: argparse.Namespace) -> None:
    """A one-line error, before any work, when -o names a file the command also reads (a model by its
    shipped name included): the result would replace its own input."""
    inputs = [(option, checkpoint_path(value) if name.startswith("model") and value else value)
              for name, option in INPUT_OPTIONS.items() if isinstance(value := getattr(args, name, None), str)]
    refuse_overwriting(getattr(args, "out", None), inputs)


def load(args: argparse.Namespace):
    return load_model(args.model, args.device)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a CSV, creating the folder; a path that cannot be written is a one-line error."""
    return _writing(path, lambda p: frame.to_csv(p, index=False))


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file (UTF-8), creating the folder; a path that cannot be written is a one-line error."""
    return _writing(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(data: dict, path: str | Path) -> Path:
    """Write JSON (NaN written as null); an unwritable path is a one-line error."""
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in data.items()}
    return write_text(json.dumps(clean, indent=2) + "\n", path)


def _writing(path: str | Path, write) -> Path:
    return replace_atomically(path, write)


def draw(frame: pd.DataFrame, path: str | Path | None, legend: str | None = None, numbered: bool = False) -> None:
    """Draw the molecules of ``frame`` into a PNG grid, each labelled with its ``legend`` column's value
    and, when ``numbered``, its row number in the output table (1-based, as a spreadsheet shows it)."""
    if not path:
        return
    labels = []
    for row, value in zip(frame.index, frame[legend] if legend else [None] * len(frame)):
        shown = "" if value is None else f"{legend} {value:.2f}" if isinstance(value, float) else f"{legend} {value}"
        labels.append(f"#{row + 1}  {shown}".strip() if numbered else shown)
    draw_grid(frame["smiles"].tolist(), path, legends=labels)
    log.info("drew %s", path)


def check_column(frame: pd.DataFrame, column: str | None, option: str) -> None:
    """A one-line error listing the columns when ``column`` is not one of the table's."""
    if column is not None and column not in frame.columns:
        raise MolvaeError(f"{option} {column!r} is not a column of the output; columns: {', '.join(frame.columns)}")
