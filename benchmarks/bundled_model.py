"""Quality of a trained model (default: the bundled one), as quoted in the README.

- prior samples: validity and uniqueness of ``--samples`` molecules, unique@10k, novelty against the
  MOSES training split (canonicalised with the installed RDKit);
- on the first ``--test`` molecules of the MOSES test split: reconstruction NLL, KL and negative
  ELBO in nats per molecule (β = 1), greedy reconstruction accuracy, active units; and on the first
  ``--iwae-molecules`` of them the importance-weighted bound with K = 100.

    python benchmarks/bundled_model.py --samples 1000 --test 5000
"""

from __future__ import annotations

import argparse
import json
import time

import torch

import molvae
from molvae.datasets import moses_path, read_smiles
from molvae.datasets.canonical import canonical_set
from molvae.evaluation.model_metrics import model_metrics


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint (default: bundled)")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--test", type=int, default=5000)
    p.add_argument("--iwae-molecules", type=int, default=500, help="test molecules for the K=100 IWAE bound")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    start = time.perf_counter()
    model = molvae.load_model(args.model)
    frame = molvae.sample(model, args.samples, seed=args.seed)
    big = molvae.sample(model, 10_000, seed=args.seed + 1, properties=False)
    valid = frame.loc[frame["valid"], "smiles"]
    big_valid = big.loc[big["valid"], "smiles"]
    train = canonical_set(moses_path("train"), args.workers)  # cached after the first run
    unique = set(valid)
    test = read_smiles(moses_path("test"), limit=args.test)
    quality = model_metrics(model, test, iwae_molecules=args.iwae_molecules, k=100, seed=args.seed)
    print(json.dumps({
        "model": args.model or "bundled", "samples": args.samples,
        "validity": round(len(valid) / len(frame), 4), "uniqueness": round(len(unique) / max(len(valid), 1), 4),
        "unique@10k": round(big_valid.nunique() / max(len(big_valid), 1), 4),
        "validity@10k": round(len(big_valid) / 10_000, 4),
        "novelty": round(len(unique - train) / max(len(unique), 1), 4),
        "test_molecules": quality["molecules"], "test_out_of_vocabulary": quality["left_out"],
        "test_recon_nll": round(quality["recon_nll"], 2), "test_kl": round(quality["kl"], 2),
        "test_neg_elbo": round(-quality["elbo"], 2),
        "test_iwae_k100_neg_log_likelihood": round(-quality["iwae_k100"], 2),
        "iwae_molecules": quality["iwae_molecules"],
        "recon_accuracy": round(quality["recon_accuracy"], 4),
        "active_units": quality["active_units"], "latent_dim": model.latent_dim,
        "seconds": round(time.perf_counter() - start, 1), "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
