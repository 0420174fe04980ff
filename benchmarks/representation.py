"""SMILES or SELFIES for the shipped model: two models of the same size, the same data and the same
CPU time, benchmarked side by side.

Both models are trained at once, one thread each (so each gets the same share of the machine), from
scratch on the first ``--limit`` molecules of the MOSES training split for ``--minutes``; then each
draws ``--samples`` molecules (invalid SMILES re-drawn, as ``molvae sample`` does) and is scored
against the MOSES test split, with raw validity beside the validity as returned.

    python benchmarks/representation.py --minutes 30 -o benchmarks/results/representation.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from sample_quality import ring_statistics

from molvae.chem import silence_rdkit
from molvae.evaluation.benchmark import benchmark_moses
from molvae.training.checkpoint import read_checkpoint

REPRESENTATIONS = ("smiles", "selfies")
SIZE = ["--embed-dim", "64", "--encoder-hidden", "256", "--decoder-hidden", "384", "--latent-dim", "64",
        "--word-dropout", "0.2"]                      # the shipped model's size
RECIPE = ["--batch-size", "256", "--lr", "1e-3", "--beta", "0.5", "--beta-warmup-steps", "1", "--free-bits", "0.1",
          "--patience", "0", "--epochs", "1000", "--seed", "0", "--no-progress"]   # the shipped model's recipe
METRICS = ("valid (raw)", "valid", "unique@10000", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv",
           "Filters", "Novelty")


def train_both(out: Path, minutes: float, limit: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    runs = []
    for rep in REPRESENTATIONS:
        cmd = [sys.executable, "-m", "molvae", "train", "--data", "moses", "--limit", str(limit),
               "--representation", rep, *SIZE, *RECIPE, "--max-minutes", str(minutes), "-o", str(out / rep)]
        runs.append(subprocess.Popen(cmd, env=env))
    if any(run.wait() for run in runs):
        sys.exit("a training run failed")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30, help="training time of each model")
    p.add_argument("--limit", type=int, default=300_000, help="training molecules (first N of MOSES train)")
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--runs", default="runs/representation", help="where the two run folders go")
    p.add_argument("--skip-training", action="store_true", help="benchmark the run folders as they are")
    p.add_argument("-o", "--out", help="JSON file for the rows")
    args = p.parse_args()
    silence_rdkit()
    runs = Path(args.runs)
    if not args.skip_training:
        train_both(runs, args.minutes, args.limit)
    report = {"minutes": args.minutes, "limit": args.limit, "samples": args.samples, "rows": {}}
    for rep in REPRESENTATIONS:
        result = benchmark_moses(runs / rep / "last.pt", n=args.samples, seed=0)
        counts = json.loads((runs / rep / "config.json").read_text())["counts"]
        progress = read_checkpoint(runs / rep / "last.pt")["metadata"]["progress"]
        row = {k: round(result.metrics[k], 4) for k in METRICS if result.metrics.get(k) is not None}
        quality = result.model_metrics
        row.update(drawn=result.settings["drawn"], recon_accuracy=round(quality["recon_accuracy"], 4),
                   elbo=round(quality["elbo"], 2), active_units=quality["active_units"],
                   train_molecules=counts["train"], steps=progress["step"],
                   molecules_seen=progress["step"] * 256,
                   **ring_statistics(result.samples.loc[result.samples["valid"], "smiles"].tolist()))
        report["rows"][rep] = row
        print(rep, row, flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
