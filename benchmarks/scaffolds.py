"""Scaffold decoration: does the graph model grow a held-out scaffold into molecules like the real ones?

Draws ``--scaffolds`` Bemis–Murcko scaffolds at random (seeded) from the MOSES scaffold-test split,
whose scaffolds are absent from the training split by construction, among those that at least
``--min-molecules`` scaffold-test molecules share (so each has real decorations to compare with).
For each it samples ``--per-scaffold`` molecules with ``molvae.sample(model, n, scaffold=...)`` and
the same number without a scaffold, and reports:

- the share of returned molecules that contain the scaffold (RDKit substructure match, the scaffold
  as query), validity, and the draws needed (``raw_kept``: returned / decoded);
- uniqueness within the scaffold's samples and novelty against the MOSES training split, for
  independent draws (``unique=False``, the model's own variety) and for ``unique=True`` (repeats
  re-drawn, bounded; the default with a scaffold; ``with_unique``, with the draws that took in
  ``raw_kept`` and its SNN);
- SNN: mean over samples of the highest Tanimoto similarity (Morgan r2, 2048 bits) to the real
  scaffold-test molecules with that scaffold, for decorated and for unconstrained samples;
- property distance: |mean − real mean| of logP, QED, SA and MW, for decorated and unconstrained.

    python benchmarks/scaffolds.py --model graph -o benchmarks/results/scaffolds.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

import molvae
from molvae.chem import silence_rdkit
from molvae.chem.fingerprints import morgan_matrix
from molvae.chem.properties import compute_properties
from molvae.datasets import moses_path, read_smiles
from molvae.datasets.canonical import canonical_set
from molvae.evaluation.similarity import nearest_similarity

PROPERTIES = ("logP", "QED", "SA", "MW")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="graph", help="a graph model: checkpoint or shipped name (default graph)")
    p.add_argument("--scaffolds", type=int, default=50)
    p.add_argument("--per-scaffold", type=int, default=100)
    p.add_argument("--min-molecules", type=int, default=3,
                   help="draw only scaffolds shared by at least this many scaffold-test molecules")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("-o", "--out", help="JSON file for the per-scaffold rows and the summary")
    return p.parse_args()


def scaffold_groups(min_molecules: int) -> dict[str, list[str]]:
    """Scaffold-test molecules grouped by their Bemis–Murcko scaffold (ring-free molecules left out)."""
    groups: dict[str, list[str]] = {}
    for smiles in read_smiles(moses_path("test_scaffolds")):
        mol = Chem.MolFromSmiles(smiles)
        scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol) if mol is not None else ""
        if scaffold:
            groups.setdefault(scaffold, []).append(Chem.MolToSmiles(mol))
    return {k: v for k, v in groups.items() if len(v) >= min_molecules}


def closeness(samples: list[str], real: list[str]) -> dict:
    """SNN of ``samples`` to ``real`` and the distance of their property means."""
    snn = nearest_similarity(morgan_matrix(samples), morgan_matrix(real), device="cpu")
    mine, theirs = (pd.DataFrame([compute_properties(s, PROPERTIES) for s in group]) for group in (samples, real))
    return {"snn": float(snn.mean()),
            **{f"d_{name}": float(abs(mine[name].mean() - theirs[name].mean())) for name in PROPERTIES}}


def share_of(decorated: pd.DataFrame, query: Chem.Mol, train: set[str]) -> dict:
    """Containment, validity, draws needed, uniqueness and novelty of one scaffold's samples."""
    valid = decorated.loc[decorated["valid"], "smiles"].tolist()
    unique = set(valid)
    return {"contain_scaffold": float(np.mean([Chem.MolFromSmiles(s).HasSubstructMatch(query) for s in valid]))
            if valid else 0.0,
            "valid": float(decorated["valid"].mean()), "raw_kept": len(decorated) / decorated.attrs["drawn"],
            "unique": len(unique) / max(len(valid), 1), "novelty": len(unique - train) / max(len(unique), 1)}


def score_scaffold(model, scaffold: str, real: list[str], n: int, seed: int, train: set[str]) -> dict:
    """One scaffold: independent decorations (``unique=False``: the model's own variety), distinct ones
    (``unique=True``, what ``molvae.sample`` returns by default with a scaffold) and unconstrained samples."""
    decorated = molvae.sample(model, n, seed=seed, scaffold=scaffold, properties=False, unique=False)
    distinct = molvae.sample(model, n, seed=seed, scaffold=scaffold, properties=False, unique=True)
    free = molvae.sample(model, n, seed=seed, properties=False)
    query = Chem.MolFromSmiles(scaffold)
    valid = decorated.loc[decorated["valid"], "smiles"].tolist()
    return {"scaffold": scaffold, "real_molecules": len(real), "returned": len(decorated),
            **share_of(decorated, query, train),
            "bare_scaffold": float(np.mean([s == Chem.MolToSmiles(query) for s in valid])),
            "decorated": closeness(valid, real),
            "unconstrained": closeness(free.loc[free["valid"], "smiles"].tolist(), real),
            "with_unique": {**share_of(distinct, query, train),
                            "snn": closeness(distinct.loc[distinct["valid"], "smiles"].tolist(), real)["snn"]}}


def summary(rows: list[dict]) -> dict:
    frame = pd.json_normalize(rows)
    numeric = frame.select_dtypes("number")
    return {"scaffolds": len(rows), **{k: round(float(v), 4) for k, v in numeric.mean().items()},
            "min_unique": round(float(frame["unique"].min()), 4),
            "scaffolds_unique_below_0.9": int((frame["unique"] < 0.9).sum()),
            "with_unique.min_unique": round(float(frame["with_unique.unique"].min()), 4),
            "with_unique.scaffolds_unique_below_0.9": int((frame["with_unique.unique"] < 0.9).sum()),
            "min_contain_scaffold": float(frame["contain_scaffold"].min())}


def main() -> None:
    args = parse_args()
    silence_rdkit()
    torch.set_num_threads(1)
    started = time.perf_counter()
    model = molvae.load_model(args.model)
    groups = scaffold_groups(args.min_molecules)
    chosen = sorted(np.random.default_rng(args.seed).choice(sorted(groups), size=args.scaffolds, replace=False))
    train = canonical_set(moses_path("train"), args.workers)
    rows = []
    for i, scaffold in enumerate(chosen):
        rows.append(score_scaffold(model, scaffold, groups[scaffold], args.per_scaffold, args.seed + i, train))
        row = rows[-1]
        print(f"{i + 1:3d} {scaffold}: contain {row['contain_scaffold']:.2f} unique {row['unique']:.2f} "
              f"({row['with_unique']['unique']:.2f} with unique=True) "
              f"novel {row['novelty']:.2f} SNN {row['decorated']['snn']:.3f} "
              f"(unconstrained {row['unconstrained']['snn']:.3f})", flush=True)
    result = {"command": "python benchmarks/scaffolds.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
              "model": args.model, "candidates": len(groups), "hardware": f"{platform.machine()} CPU, 1 thread",
              "seconds": round(time.perf_counter() - started, 1), "summary": summary(rows), "scaffolds": rows}
    print(json.dumps(result["summary"], indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
