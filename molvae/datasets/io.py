"""Read molecules from ``.csv``, ``.csv.gz``, ``.smi`` and ``.txt`` files.

The result is a DataFrame with a ``smiles`` column first and every other column of the file
passed through unchanged, plus ``line``: the 1-based line of the file each row came from, so a
rejects file can point the user at the exact line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from molvae.errors import MolvaeError

SMILES_COLUMN_GUESSES = ("smiles", "SMILES", "Smiles", "canonical_smiles")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
LINE_SUFFIXES = (".smi", ".txt", ".smi.gz", ".txt.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in TABLE_SUFFIXES + LINE_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def read_molecules(path: str | Path, smiles_column: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Read a molecule file into a DataFrame whose first column is ``smiles``.

    CSV files need a header; the SMILES column is ``smiles_column`` or the first of the usual names.
    ``.smi``/``.txt`` files hold one molecule per line, SMILES first, optional name after whitespace.
    """
    path = _existing_file(path)
    suffix = _suffix(path)
    try:
        if suffix in TABLE_SUFFIXES:
            frame = _read_table(path, suffix, smiles_column, limit)
        elif suffix in LINE_SUFFIXES:
            frame = _read_lines(path, limit)
        else:
            raise MolvaeError(f"unsupported file type {path.name!r}; use .csv, .csv.gz, .smi or .txt")
    except MolvaeError:
        raise
    except (OSError, UnicodeDecodeError, EOFError, pd.errors.ParserError) as err:
        raise MolvaeError(f"cannot read {path}: {_one_line(err)}") from None
    if frame.empty:
        raise MolvaeError(f"no molecules in {path}")
    return frame


def read_table(path: str | Path) -> pd.DataFrame:
    """Read any CSV (e.g. latent vectors) with the same one-line errors as :func:`read_molecules`."""
    path = _existing_file(path)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise MolvaeError(f"{path} is empty") from None
    except (OSError, UnicodeDecodeError, EOFError, pd.errors.ParserError) as err:
        raise MolvaeError(f"cannot read {path}: {_one_line(err)}") from None
    if frame.empty:
        raise MolvaeError(f"no rows in {path}")
    return frame


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise MolvaeError(f"file not found: {path}")
    if path.is_dir():
        raise MolvaeError(f"expected a file, got a folder: {path}")
    return path


def read_smiles(path: str | Path, smiles_column: str | None = None, limit: int | None = None) -> list[str]:
    """Just the SMILES strings of a molecule file."""
    return read_molecules(path, smiles_column, limit)["smiles"].tolist()


def _read_table(path: Path, suffix: str, smiles_column: str | None, limit: int | None) -> pd.DataFrame:
    sep = "\t" if suffix.startswith(".tsv") else ","
    try:
        frame = pd.read_csv(path, sep=sep, nrows=limit, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise MolvaeError(f"no molecules in {path}: the file is empty") from None
    column = smiles_column or next((c for c in SMILES_COLUMN_GUESSES if c in frame.columns), None)
    if column is None or column not in frame.columns:
        wanted = f"column {smiles_column!r}" if smiles_column else "a SMILES column"
        raise MolvaeError(f"{path} has no {wanted}; available columns: {', '.join(map(str, frame.columns))}"
                          " (choose one with --smiles-column)")
    frame = frame.rename(columns={column: "smiles"})
    rest = [c for c in frame.columns if c != "smiles"]
    frame = frame[["smiles", *rest]]
    frame.insert(len(frame.columns), "line", range(2, len(frame) + 2))
    return frame.reset_index(drop=True)


def _read_lines(path: Path, limit: int | None) -> pd.DataFrame:
    opener = __import__("gzip").open if path.name.lower().endswith(".gz") else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            fields = text.strip().split(maxsplit=1)
            if not fields:
                continue
            if number == 1 and fields[0].lower() in {"smiles", "canonical_smiles"}:
                continue  # a header line
            rows.append((fields[0], fields[1] if len(fields) > 1 else "", number))
            if limit is not None and len(rows) >= limit:
                break
    frame = pd.DataFrame(rows, columns=["smiles", "name", "line"])
    if not frame["name"].astype(bool).any():
        frame = frame.drop(columns="name")
    return frame


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
