"""Round trip SMILES → tokens → SMILES over a whole MOSES split, for both representations.

Counts molecules whose decoded string is not the same canonical molecule as the input.

    python benchmarks/roundtrip.py --split test
"""

from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool

from molvae.chem import canonical_smiles
from molvae.datasets import moses_path, read_smiles
from molvae.errors import InvalidMoleculeError
from molvae.representations import get_representation


def check(smiles: str) -> tuple[bool, bool]:
    target = canonical_smiles(smiles)
    results = []
    for name in ("smiles", "selfies"):
        rep = get_representation(name)
        try:
            results.append(canonical_smiles(rep.detokenize(rep.tokenize(smiles))) == target)
        except InvalidMoleculeError:
            results.append(False)
    return tuple(results)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--split", default="test", choices=["train", "test", "test_scaffolds"])
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    smiles = read_smiles(moses_path(args.split))
    start = time.perf_counter()
    with Pool(args.workers) as pool:
        results = pool.map(check, smiles, chunksize=2000)
    failures = {name: [s for s, r in zip(smiles, results) if not r[i]] for i, name in enumerate(("smiles", "selfies"))}
    print(json.dumps({"split": args.split, "molecules": len(smiles), "seconds": round(time.perf_counter() - start, 1),
                      **{f"{k}_failures": len(v) for k, v in failures.items()},
                      **{f"{k}_examples": v[:5] for k, v in failures.items()}}))


if __name__ == "__main__":
    main()
