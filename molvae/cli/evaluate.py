"""Score generated molecules with the MOSES metrics and GuacaMol distribution-learning scores.

Reads SMILES from a CSV (column ``smiles`` or --smiles-column) or a .smi file; empty and invalid
strings count as invalid. Reference statistics of the MOSES test splits (or --reference FILE) are
computed once and cached under $MOLVAE_CACHE (default ~/.cache/molvae).
"""

from __future__ import annotations

import argparse
import logging

from molvae.cli.common import write_json
from molvae.datasets import read_molecules
from molvae.errors import MolvaeError
from molvae.evaluation.metrics import evaluate
from molvae.evaluation.report import report_from_details
from molvae.training.checkpoint import load_model

HELP = "MOSES and GuacaMol metrics of generated molecules (JSON, optional HTML report)"
log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", required=True, help="generated molecules (.csv, .csv.gz, .smi, .txt)")
    p.add_argument("--smiles-column", help="CSV column holding SMILES (default: smiles/SMILES)")
    p.add_argument("--reference", default="moses",
                   help="'moses' (test and scaffold-test splits) or a reference file (default: moses)")
    p.add_argument("--train", default="moses",
                   help="training molecules for Novelty: 'moses', a file, or 'none' (default: moses)")
    p.add_argument("-o", "--out", required=True, help="metrics JSON")
    p.add_argument("--report", help="also write a self-contained HTML report here")
    p.add_argument("--model", help="checkpoint whose latent space the report maps (default: none)")
    p.add_argument("--workers", type=int, default=2, help="processes for RDKit work (default 2)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda for ChemNet/similarity")
    p.add_argument("--reference-limit", type=int, help="use a random subset of N reference molecules (quick checks)")


def run(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise MolvaeError(f"--workers must be at least 1, got {args.workers}")
    smiles = read_molecules(args.input, args.smiles_column)["smiles"].tolist()
    train = None if str(args.train).lower() == "none" else args.train
    metrics, details = evaluate(smiles, args.reference, train, workers=args.workers, device=args.device,
                                reference_limit=args.reference_limit, return_details=True)
    write_json(metrics, args.out)
    print(f"wrote {len(metrics)} metrics of {len(smiles)} molecules to {args.out}: "
          + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()
                      if k in ("valid", "unique@1000", "FCD/Test", "SNN/Test", "Novelty") and v is not None))
    if args.report:
        model = None
        if args.model:
            model = load_model(args.model, args.device)
        report_from_details(args.report, metrics, details, model=model, title=f"molvae evaluation of {args.input}")
        print(f"wrote report {args.report}")
