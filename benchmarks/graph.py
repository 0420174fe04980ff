"""Graph VAE against the sequence VAE trained for the same wall-clock time: sampling and MOSES metrics.

Train both models first, at the same time and for the same minutes on the same machine, e.g.::

    COMMON="--data moses --limit 120000 --val-fraction 0.02 --epochs 50 --epoch-size 20000 \\
            --max-minutes 15 --beta-warmup-steps 500 --seed 0 --no-progress"
    OMP_NUM_THREADS=1 molvae train --model graph $COMMON -o runs/graph &
    OMP_NUM_THREADS=1 molvae train --model sequence $COMMON -o runs/sequence &
    wait
    OMP_NUM_THREADS=1 python benchmarks/graph.py runs/graph runs/sequence --samples 30000 --out graph_vs_sequence.json

For each run folder this reads the training progress (molecules seen, minutes) from ``metrics.csv``,
draws ``--samples`` prior samples from ``last.pt`` (seeded) timing decoding plus RDKit validation,
and scores them: validity, unique@1k/10k and novelty against the canonicalised MOSES train split,
or with ``--full`` every MOSES metric through :func:`molvae.evaluation.metrics.evaluate`.
Prints one JSON object per run and writes them all to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from molvae import load_model, sample
from molvae.datasets import moses_path


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run folders written by molvae train")
    p.add_argument("--samples", type=int, default=30_000)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full", action="store_true", help="all MOSES metrics (FCD, SNN, Frag, Scaf, ...)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", help="JSON file for the results")
    return p.parse_args()


def training_progress(run: Path) -> dict:
    """Steps, molecules seen and minutes of a run, from its config and last metrics row."""
    config = json.loads((run / "config.json").read_text())
    last = pd.read_csv(run / "metrics.csv").iloc[-1]
    batch = config["train"]["batch_size"]
    return {"model": config["model"], "train_minutes": float(last["minutes"]), "steps": int(last["step"]),
            "molecules_seen": int(last["step"]) * batch, "epochs": int(last["epoch"]),
            "train_molecules": config["counts"]["train"], "rejected": config["counts"]["rejected"],
            "val_recon": float(last["val_recon"]), "val_kl": float(last["val_kl"]),
            "active_units": int(last["active_units"]), "recon_accuracy": float(last["recon_accuracy"])}


def score(smiles: list[str], full: bool, workers: int) -> dict:
    """Validity, uniqueness and novelty (MOSES definitions); every MOSES metric with ``full``."""
    if full:
        from molvae.evaluation.metrics import evaluate

        return evaluate(smiles, workers=workers, guacamol=False)
    from molvae.datasets.canonical import canonical_set

    valid = [s for s in smiles if s]
    train = canonical_set(moses_path("train"), workers)
    unique = set(valid)
    return {"valid": len(valid) / len(smiles),
            "unique@1000": len(set(valid[:1000])) / 1000 if len(valid) >= 1000 else None,
            "unique@10000": len(set(valid[:10000])) / 10000 if len(valid) >= 10000 else None,
            "Novelty": len(unique - train) / len(unique) if unique else None}


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    results = []
    for folder in map(Path, args.runs):
        row = {"run": str(folder), **training_progress(folder)}
        model = load_model(folder / "last.pt", "cpu")
        row["parameters"] = sum(p.numel() for p in model.parameters())
        sample(model, 200, seed=args.seed + 1, properties=False)  # warm-up
        start = time.perf_counter()
        frame = sample(model, args.samples, seed=args.seed, batch_size=args.batch_size, properties=False)
        seconds = time.perf_counter() - start
        row["sample_molecules_per_s"] = round(args.samples / seconds, 1)
        row["mean_heavy_atoms"] = round(float(frame.loc[frame["valid"], "smiles"].map(_heavy_atoms).mean()), 2)
        row.update(score(frame["smiles"].where(frame["valid"], "").tolist(), args.full, args.workers))
        row.update({"samples": args.samples, "threads": torch.get_num_threads(),
                    "cpu": platform.processor() or platform.machine()})
        print(json.dumps(row), flush=True)
        results.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


def _heavy_atoms(smiles: str) -> int:
    from rdkit import Chem

    return Chem.MolFromSmiles(smiles).GetNumHeavyAtoms()


if __name__ == "__main__":
    main()
