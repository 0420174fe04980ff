"""How much of a benchmark's closeness to the data comes from returning training molecules.

Reads the samples a ``molvae benchmark moses`` run wrote (``samples.csv``), splits the valid ones
into those that are MOSES training molecules and the novel rest, and scores each part against the
MOSES test split (FCD/Test, SNN/Test, Scaf/Test, Filters, the full test statistics):

    python benchmarks/novel_split.py runs/bench_bundled runs/bench_p3end -o benchmarks/results/novel_split.json

FCD from fewer molecules reads higher (the estimate is biased upwards at small n): compare the
novel part of one run with the novel part of another of similar size, not with the 30,000-sample row.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

import molvae
from molvae.chem import silence_rdkit
from molvae.datasets import moses_path
from molvae.datasets.canonical import canonical_set

METRICS = ("FCD/Test", "SNN/Test", "Scaf/Test", "Filters")


def split_scores(folder: Path, train: set[str], workers: int) -> dict:
    samples = pd.read_csv(folder / "samples.csv", keep_default_na=False)
    valid = [s for s in samples["smiles"] if s]
    parts = {"training molecules": [s for s in valid if s in train], "novel": [s for s in valid if s not in train]}
    row = {"prior": json.loads((folder / "metrics.json").read_text()).get("prior", "standard normal prior"),
           "valid": len(valid)}
    for name, smiles in parts.items():
        metrics = molvae.evaluate(smiles, reference=[moses_path("test")], train=None, workers=workers, guacamol=False)
        row[name] = {"molecules": len(smiles), **{k: round(metrics[k], 4) for k in METRICS}}
        print(folder.name, name, row[name], flush=True)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", type=Path, help="output folders of molvae benchmark moses")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("-o", "--out", help="JSON file for the rows")
    args = p.parse_args()
    silence_rdkit()
    missing = [str(f) for f in args.folders if not (f / "samples.csv").exists() or not (f / "metrics.json").exists()]
    if missing:
        raise SystemExit(f"error: not a benchmark output folder (samples.csv and metrics.json): {', '.join(missing)}")
    started = time.perf_counter()
    train = canonical_set(moses_path("train"), args.workers)
    rows = {str(folder): split_scores(folder, train, args.workers) for folder in args.folders}
    report = {"seconds": round(time.perf_counter() - started, 1), "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
