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
from multiprocessing import Pool

import torch

import molvae
from molvae.chem import canonical_smiles
from molvae.datasets import moses_path, read_smiles
from molvae.errors import InvalidMoleculeError
from molvae.evaluation import importance_weighted_bound
from molvae.generation.common import condition_matrix
from molvae.training.trainer import Dataset, evaluate_model


def test_dataset(model, smiles: list[str]) -> Dataset:
    items, kept = [], []
    for s in smiles:
        canonical = canonical_smiles(s)
        try:
            items.append(model.featurize(canonical))
            kept.append(canonical)
        except InvalidMoleculeError:
            continue  # a token outside the vocabulary: counted below
    return Dataset(items, condition_matrix(model, kept), kept)


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
    with Pool(args.workers) as pool:
        train = set(pool.map(canonical_smiles, read_smiles(moses_path("train")), chunksize=5000))
    unique = set(valid)
    test = read_smiles(moses_path("test"), limit=args.test)
    data = test_dataset(model, test)
    quality = evaluate_model(model, data, batch_size=500, diagnostic_molecules=len(data), seed=args.seed)
    subset = Dataset(data.items[:args.iwae_molecules], data.conditions[:args.iwae_molecules]
                     if data.conditions is not None else None, data.smiles[:args.iwae_molecules])
    iwae = importance_weighted_bound(model, subset, k=100, generator=torch.Generator().manual_seed(args.seed))
    print(json.dumps({
        "model": args.model or "bundled", "samples": args.samples,
        "validity": round(len(valid) / len(frame), 4), "uniqueness": round(len(unique) / max(len(valid), 1), 4),
        "unique@10k": round(big_valid.nunique() / max(len(big_valid), 1), 4), "validity@10k": round(len(big_valid) / 10_000, 4),
        "novelty": round(len(unique - train) / max(len(unique), 1), 4),
        "test_molecules": len(data), "test_out_of_vocabulary": len(test) - len(data),
        "test_recon_nll": round(quality["val_recon"], 2), "test_kl": round(quality["val_kl"], 2),
        "test_neg_elbo": round(quality["val_neg_elbo"], 2),
        "test_iwae_k100_neg_log_likelihood": round(-iwae.mean().item(), 2), "iwae_molecules": len(iwae),
        "recon_accuracy": round(quality["recon_accuracy"], 4),
        "active_units": quality["active_units"], "latent_dim": model.latent_dim,
        "seconds": round(time.perf_counter() - start, 1), "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
