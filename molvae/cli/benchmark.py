"""Benchmark a model on MOSES: sample, score, and place it beside the published baselines.

Writes OUTDIR/samples.csv, OUTDIR/metrics.json (distribution metrics plus model-level metrics on the
MOSES test split: greedy reconstruction accuracy, ELBO and IWAE K=100 in nats per molecule, active
units, KL per dimension), OUTDIR/moses.md (markdown table beside the published MOSES and GuacaMol
rows, with their source) and OUTDIR/report.html.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from molvae.errors import MolvaeError

HELP = "sample a model and score it beside the published MOSES baselines"
log = logging.getLogger(__name__)


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
    from molvae.cli.common import write_table
    from molvae.cli.evaluate import write_json
    from molvae.datasets import moses_path, read_smiles
    from molvae.evaluation.baselines import (GUACAMOL_BASELINES, GUACAMOL_COLUMNS, GUACAMOL_SOURCE,
                                             markdown_table)
    from molvae.evaluation.metrics import evaluate
    from molvae.evaluation.model_metrics import model_metrics
    from molvae.generation import sample
    from molvae.training.checkpoint import load_model

    if args.n < 1 or args.test_molecules < 1 or args.iwae_molecules < 1:
        raise MolvaeError("--n, --test-molecules and --iwae-molecules must be positive")
    out = Path(args.out)
    started = time.perf_counter()
    model = load_model(args.model, args.device)
    frame = sample(model, args.n, seed=args.seed, properties=False)
    frame["generated"] = [model.to_smiles(raw) for raw in frame["raw"]]
    write_table(frame, out / "samples.csv")
    sampled = time.perf_counter()
    train = None if str(args.train).lower() == "none" else args.train
    metrics, details = evaluate(frame["generated"].tolist(), "moses", train, workers=args.workers,
                                device=args.device, reference_limit=args.reference_limit, return_details=True)
    scored = time.perf_counter()
    quality = model_metrics(model, read_smiles(moses_path("test"), limit=args.test_molecules),
                            iwae_molecules=args.iwae_molecules, k=100, seed=args.seed)
    result = {"model": args.model or "bundled", "samples": args.n, "seed": args.seed,
              "reference_limit": args.reference_limit, **metrics,
              "model_metrics": quality,
              "seconds": {"sampling": round(sampled - started, 1), "metrics": round(scored - sampled, 1),
                          "model_metrics": round(time.perf_counter() - scored, 1)}}
    write_json(result, out / "metrics.json")
    label = f"molvae ({Path(args.model).name if args.model else 'bundled'})"
    text = [f"# MOSES benchmark: {label}, {args.n} samples, seed {args.seed}", "",
            markdown_table(metrics, label), "",
            markdown_table(metrics, label, GUACAMOL_COLUMNS, GUACAMOL_BASELINES, GUACAMOL_SOURCE), "",
            f"Model-level metrics on the first {quality['molecules']} encodable MOSES test molecules "
            f"(nats per molecule, β = 1): greedy reconstruction accuracy {quality['recon_accuracy']:.4f}, "
            f"ELBO {quality['elbo']:.2f}, IWAE K=100 {quality['iwae_k100']:.2f} "
            f"(first {quality['iwae_molecules']}), active units {quality['active_units']}/{quality['latent_dim']}, "
            f"KL {quality['kl']:.2f}.", ""]
    try:
        (out / "moses.md").write_text("\n".join(text), encoding="utf-8")
    except OSError as err:
        raise MolvaeError(f"cannot write {out / 'moses.md'}: {err.strerror or err}") from None
    if not args.no_report:
        from molvae.evaluation.report import report_from_details

        report_from_details(out / "report.html", metrics, details, model=model, title=f"MOSES benchmark: {label}")
    print(f"wrote {out}/metrics.json, {out}/moses.md" + ("" if args.no_report else f", {out}/report.html")
          + f": valid {metrics['valid']:.4f}, FCD/Test {metrics['FCD/Test']:.3f}, "
          f"recon accuracy {quality['recon_accuracy']:.3f}")
