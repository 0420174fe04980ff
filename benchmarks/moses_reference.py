"""Score a molvae benchmark's samples with the MOSES reference implementation, beside molvae's scores.

molvae computes the MOSES metrics itself (`molvae benchmark moses`); this script checks that it
computes them the same way, by running the original code (PyPI `molsets` 0.3.1, with `fcd_torch`)
on the very samples molvae scored. That package no longer imports on current pandas and RDKit, so
it lives in a separate benchmark environment, never in molvae's, and this script patches the three
things that break under current libraries:

- ``rdkit.six`` (removed from RDKit; MOSES's SA scorer imports ``iteritems`` from it);
- ``pandas.DataFrame.append`` (removed in pandas 2; MOSES joins its MCF and PAINS tables with it);
- Frag's cosine similarity: MOSES hands integer fragment counts to SciPy, whose current
  ``cosine`` multiplies their int64 sums of squares and overflows on 30,000 molecules against the
  test set, so Frag reads 1.0000 whatever the molecules; the counts are given as floats.

Set-up and run (MOSES's own test, scaffold-test and training splits and its precomputed test
statistics are used, as the published tables did):

    python -m venv runs/moses-venv
    runs/moses-venv/bin/pip install torch==2.13.0 rdkit pandas numpy scipy tqdm matplotlib
    runs/moses-venv/bin/pip install --no-deps molsets==0.3.1 fcd_torch
    molvae benchmark moses --n 30000 --seed 0 -o runs/bench              # molvae's scores and samples
    runs/moses-venv/bin/python benchmarks/moses_reference.py runs/bench --workers 2

Prints a Markdown table (metric, MOSES, molvae, difference) and writes the JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import types
from pathlib import Path

COMPARED = ("valid", "unique@1000", "unique@10000", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test",
            "FCD/TestSF", "SNN/TestSF", "Frag/TestSF", "Scaf/TestSF", "IntDiv", "IntDiv2", "Filters",
            "logP", "SA", "QED", "weight", "Novelty")


def patch_for_current_libraries() -> None:
    """Give MOSES 0.3.1 the two names it expects from older RDKit and pandas (before it is imported)."""
    import pandas as pd
    import rdkit

    six = types.ModuleType("rdkit.six")
    six.iteritems = lambda mapping: iter(mapping.items())  # type: ignore[attr-defined]
    sys.modules["rdkit.six"] = six
    rdkit.six = six  # type: ignore[attr-defined]
    if not hasattr(pd.DataFrame, "append"):
        pd.DataFrame.append = lambda self, other, sort=False, **_: pd.concat([self, other], sort=sort)


def patch_fragment_similarity(metrics_module) -> None:
    """Compute MOSES's Frag cosine on float counts, as it did before SciPy's integer overflow."""
    import numpy as np
    from scipy.spatial.distance import cosine

    metrics_module.cos_distance = lambda u, v: cosine(np.asarray(u, dtype=float), np.asarray(v, dtype=float))


def read_samples(run: Path) -> list[str]:
    with open(run / "samples.csv", newline="") as handle:
        return [row["smiles"] for row in csv.DictReader(handle)]


def table(moses: dict, ours: dict) -> str:
    lines = ["| metric | MOSES 0.3.1 | molvae | molvae − MOSES |", "|---|---|---|---|"]
    for name in COMPARED:
        a, b = moses.get(name), ours.get(name)
        diff = f"{b - a:+.4f}" if a is not None and b is not None else ""
        lines.append(f"| {name} | {'' if a is None else f'{a:.4f}'} | {'' if b is None else f'{b:.4f}'} | {diff} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="output folder of `molvae benchmark moses` (samples.csv, metrics.json)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", type=Path, help="write the scores of both here")
    args = p.parse_args()
    missing = [name for name in ("samples.csv", "metrics.json") if not (args.run / name).is_file()]
    if missing:
        raise SystemExit(f"{args.run} has no {' or '.join(missing)}: give a `molvae benchmark moses` output folder")
    patch_for_current_libraries()
    here = Path(__file__).resolve().parent  # benchmarks/moses.py would shadow the package
    sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    import moses  # after the patches
    import moses.metrics.metrics

    patch_fragment_similarity(moses.metrics.metrics)

    samples = read_samples(args.run)
    ours = json.loads((args.run / "metrics.json").read_text())
    started = time.perf_counter()
    scores = {k: float(v) for k, v in moses.get_all_metrics(samples, n_jobs=args.workers, device="cpu").items()}
    seconds = round(time.perf_counter() - started, 1)
    print(table(scores, ours))
    print(f"\n{len(samples)} molecules from {args.run}; MOSES scored them in {seconds} s")
    if args.json:
        report = {"run": str(args.run), "molecules": len(samples), "moses_seconds": seconds,
                  "moses": scores, "molvae": {k: ours.get(k) for k in COMPARED}}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
