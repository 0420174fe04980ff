"""Benchmark a model on MOSES: sample, score, and place it beside the published baselines.

Writes OUTDIR/samples.csv, OUTDIR/metrics.json (distribution metrics plus model-level metrics on the
MOSES test split: greedy reconstruction accuracy, ELBO and IWAE K=100 in nats per molecule, active
units, KL per dimension), OUTDIR/moses.md (markdown table beside the published MOSES and GuacaMol
rows, with their source) and OUTDIR/report.html.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from molvae.cli.common import write_json, write_table, write_text
from molvae.evaluation.benchmark import benchmark_moses
from molvae.evaluation.report import report_from_details

HELP = "sample a model and score it beside the published MOSES baselines"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", choices=["moses"], help="benchmark suite (moses)")
    p.add_argument("--model", help="checkpoint file (default: the bundled pretrained model)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda")
    p.add_argument("--n", type=int, default=30000, help="samples to score (default 30000, as MOSES)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("-o", "--out", default="benchmark-moses", help="output folder (default benchmark-moses)")
    p.add_argument("--test-molecules", type=int, default=1000,
                   help="MOSES test molecules for the model-level metrics (default 1000; the full split is 176k)")
    p.add_argument("--iwae-molecules", type=int, default=200, help="of those, how many get the K=100 IWAE bound")
    p.add_argument("--workers", type=int, default=2, help="processes for RDKit work (default 2)")
    p.add_argument("--train", default="moses", help="training set for Novelty: 'moses', a file, or 'none'")
    p.add_argument("--reference-limit", type=int,
                   help="use a random subset of N molecules of each MOSES test split (quick checks, not comparable)")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    result = benchmark_moses(args.model, args.n, args.seed, args.device, args.workers,
                             None if str(args.train).lower() == "none" else args.train, args.reference_limit,
                             args.test_molecules, args.iwae_molecules)
    write_table(result.samples, out / "samples.csv")
    write_json(result.as_dict(), out / "metrics.json")
    write_text(result.markdown(), out / "moses.md")
    if not args.no_report:
        report_from_details(out / "report.html", result.metrics, result.details, model=result.model,
                            title=f"MOSES benchmark: {result.label}")
    quality = result.model_metrics
    print(f"wrote {out}/metrics.json, {out}/moses.md" + ("" if args.no_report else f", {out}/report.html")
          + f": valid {result.metrics['valid']:.4f}, FCD/Test {result.metrics['FCD/Test']:.3f}, "
          f"recon accuracy {quality['recon_accuracy']:.3f}")
