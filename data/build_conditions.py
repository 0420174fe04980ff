"""Write logP, QED and SA of every MOSES training molecule (``data/moses/train_conditions.npz``).

The bundled models are conditioned on these three properties, so training on ``--data moses`` and
sampling through the exemplar prior need them for the 1.58 M training molecules; computed once here
and shipped, they cost neither again. Run from the repository root when the split or the property
code changes:

    python data/build_conditions.py [--workers 2] [--from-prepared CACHE_FOLDER]

``--from-prepared`` reuses the values of a finished data preparation of the split (a folder under
``$MOLVAE_CACHE/prepared`` whose ``frame.csv`` has ``line``, ``logP``, ``QED`` and ``SA`` columns,
written by ``molvae train --data moses --condition logP QED SA``): the same function computed them.
Rows it lacks are computed here. Values are stored as float32, one per line of the split file.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit

from molvae.chem.properties import property_table
from molvae.datasets import moses_path, read_molecules
from molvae.datasets.cache import file_sha256
from molvae.datasets.moses import CONDITIONS_FILE, SHIPPED_CONDITIONS

NAMES = list(SHIPPED_CONDITIONS)


def from_prepared(folder: Path, lines: np.ndarray) -> pd.DataFrame:
    """The values of an earlier preparation, one row per line of the split (NaN where it has none)."""
    frame = pd.read_csv(folder / "frame.csv", usecols=["line", *NAMES]).set_index("line")
    return frame.reindex(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--from-prepared", type=Path, help="a prepared-data cache folder of the split")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train = moses_path("train")
    molecules = read_molecules(train)
    values = (from_prepared(args.from_prepared, molecules["line"].to_numpy()) if args.from_prepared
              else pd.DataFrame(index=molecules["line"], columns=NAMES, dtype=float))
    missing = values[NAMES].isna().any(axis=1).to_numpy()
    if missing.any():
        print(f"computing {int(missing.sum())} of {len(molecules)} rows")
        fresh = property_table(molecules["smiles"][missing].tolist(), NAMES, workers=args.workers)
        values.loc[values.index[missing], NAMES] = fresh[NAMES].to_numpy()
    out = train.parent / CONDITIONS_FILE
    np.savez_compressed(out, **{name: values[name].to_numpy(dtype=np.float32) for name in NAMES},
                        source_sha256=np.array(file_sha256(train)), rdkit=np.array(rdkit.__version__))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(values)} rows)")


if __name__ == "__main__":
    main()
