"""Time the full MOSES metric suite: 30,000 molecules against the full test and scaffold-test splits.

By default the molecules are 30,000 random molecules of the MOSES training split (seed 0), the set
whose reference-implementation scores are known (FCD/Test 0.050, SNN/Test 0.642, Scaf/Test 0.945,
IntDiv 0.857; 522 s on a 2-core CPU). Reference statistics are built first (once, cached under
$MOLVAE_CACHE) and are not part of the timed run. Prints one JSON object: the metrics, wall seconds
and CPU seconds (this process plus its workers) of the timed evaluation.

    python benchmarks/moses.py --n 30000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import time

import numpy as np
import torch


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=30000)
    p.add_argument("--samples", help="score this file instead of random training molecules")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reference-limit", type=int, help="a random subset of N molecules of each reference split")
    p.add_argument("--no-train", action="store_true", help="skip Novelty (and its training-set cache)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.workers)

    from molvae.datasets import moses_path, read_smiles
    from molvae.evaluation import canonical_set, evaluate, reference_stats

    if args.samples:
        smiles = read_smiles(args.samples)[: args.n]
    else:
        train = read_smiles(moses_path("train"))
        rng = np.random.default_rng(args.seed)
        smiles = [train[i] for i in rng.choice(len(train), size=args.n, replace=False)]
    warm_start = time.perf_counter()
    for split in ("test", "test_scaffolds"):
        reference_stats(moses_path(split), args.workers, fcd=True, limit=args.reference_limit)
    if not args.no_train:
        canonical_set(moses_path("train"), args.workers)
        canonical_set(moses_path("train"), args.workers, stereo=False)
    warm = time.perf_counter() - warm_start

    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    metrics = evaluate(smiles, "moses", None if args.no_train else "moses", workers=args.workers,
                       reference_limit=args.reference_limit)
    wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
    print(json.dumps({"n": len(smiles), "workers": args.workers, "reference_limit": args.reference_limit,
                      "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
                      "cache_build_seconds": round(warm, 1), "cores": os.cpu_count(),
                      "metrics": {k: (round(v, 4) if v is not None else None) for k, v in metrics.items()}},
                     indent=1))


if __name__ == "__main__":
    main()
