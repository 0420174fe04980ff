"""Time preparing the MOSES training split for training: read, validate and tokenise (first time),
then the same from the on-disk cache; prints one JSON line with seconds and peak memory.

    python benchmarks/prepare_data.py                  # SELFIES, unconditional, 2 workers
    python benchmarks/prepare_data.py --condition logP QED SA
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from molvae.datasets import moses_path, read_molecules
from molvae.models.sequence import SequenceVAE
from molvae.representations import Vocabulary
from molvae.training.cache import cached_preparation
from molvae.training.data import prepare_molecules


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--representation", default="selfies")
    p.add_argument("--condition", nargs="*", default=[])
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    path = moses_path("train")
    settings = {"representation": args.representation, "conditions": args.condition, "labels": [], "max_tokens": 98}
    start = time.perf_counter()
    frame = read_molecules(path)
    read_s = time.perf_counter() - start
    prepared = cached_preparation(path, {**settings, "smiles_column": None, "limit": None},
                                  lambda: prepare_molecules(frame, **settings, workers=args.workers))
    prepare_s = time.perf_counter() - start - read_s
    vocab = Vocabulary.build(prepared.tokens)
    model = SequenceVAE({"representation": args.representation}, vocab)
    items = [model.featurizer.featurize_tokens(t) for t in prepared.tokens]
    total_s = time.perf_counter() - start
    print(json.dumps({"molecules": len(items), "rejected": len(prepared.rejects), "read_s": round(read_s, 1),
                      "prepare_or_cache_s": round(prepare_s, 1), "total_to_token_ids_s": round(total_s, 1),
                      "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)}))


if __name__ == "__main__":
    main()
