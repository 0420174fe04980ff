"""Where a model's sample quality is lost: prior, decoder, precision or temperature.

Decodes ``--n`` molecules (default 10,000) under each setting and scores them against the MOSES
test split (FCD, SNN, Frag, Scaf, Filters, validity, uniqueness), with aromatic-ring and ring-size
statistics beside those of the test molecules:

- ``prior N(0,I)``: z from the standard normal, at the default precision (bf16 where the CPU has
  it), ``fp32``, and temperature 0.8;
- ``posterior q(z|x)``: one z ~ q(z|x) for each of ``--n`` held-out test molecules (the decoder on
  latent points it knows; the gap to the prior rows is what the prior's holes cost);
- ``mixture prior``: z from a Gaussian mixture fitted to z ~ q(z|x) of ``--fit-molecules`` training
  molecules (``molvae fit-prior``), or the model's own fitted prior.

    python benchmarks/sample_quality.py --n 10000 -o benchmarks/results/sample_quality.json

``--knobs`` instead asks whether a sampling setting alone buys closeness to the data: ``--n`` draws
each at softmax temperatures 1.0, 0.9, 0.8, 0.7 (z ~ N(0, I)) and at prior scales 0.7, 0.85, 1.15
(z ~ N(0, s²I), temperature 1), invalid strings not re-drawn; every row gives raw validity and
scores its valid molecules (SNN and Novelty included, novelty against the MOSES training split).

    python benchmarks/sample_quality.py --knobs --n 10000 -o benchmarks/results/sampling_knobs.json

FCD from 10,000 samples reads higher than from 30,000 (the estimate is biased upwards at small n);
rows of one run are comparable with each other, the MOSES benchmark's 30,000-sample rows are not.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

import molvae
from molvae.chem import silence_rdkit
from molvae.datasets import moses_path, read_smiles
from molvae.generation.common import condition_matrix, seeded_generator
from molvae.generation.prior_fit import fit_prior
from molvae.generation.sampler import describe_prior

METRICS = ("valid", "unique@10000", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv", "Filters",
           "Novelty")
TEMPERATURES = (1.0, 0.9, 0.8, 0.7)
PRIOR_SCALES = (0.7, 0.85, 1.15)


def ring_statistics(smiles: list[str]) -> dict[str, float]:
    """Aromatic rings per molecule, rings per molecule, and the share of rings of each size."""
    aromatic, rings, sizes = [], [], Counter()
    for s in smiles:
        mol = Chem.MolFromSmiles(s) if s else None
        if mol is None:
            continue
        aromatic.append(rdMolDescriptors.CalcNumAromaticRings(mol))
        ring_sizes = [len(r) for r in mol.GetRingInfo().AtomRings()]
        rings.append(len(ring_sizes))
        sizes.update(min(size, 8) for size in ring_sizes)
    total = max(sum(sizes.values()), 1)
    shares = {f"rings_of_{k if k < 8 else '8+'}": round(sizes[k] / total, 4) for k in range(3, 9)}
    return {"aromatic_rings": round(float(np.mean(aromatic)), 3), "rings": round(float(np.mean(rings)), 3), **shares}


def score(smiles: list[str], workers: int, novelty: bool = False) -> dict[str, float]:
    metrics = molvae.evaluate(smiles, reference=[moses_path("test")], train="moses" if novelty else None,
                              workers=workers, guacamol=False)
    return {k: round(metrics[k], 4) for k in METRICS if metrics.get(k) is not None} | ring_statistics(smiles)


def posterior_samples(model, smiles: list[str], seed: int, precision: str) -> list[str]:
    """One z ~ q(z|x) per molecule, decoded by sampling at temperature 1 with the molecule's conditions."""
    mu, logvar, kept = molvae.encode(model, smiles, skip_invalid=True)
    generator = seeded_generator(seed)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
    c = condition_matrix(model, [smiles[i] for i in kept])
    frame = molvae.decode(model, z, c, greedy=False, properties=False, precision=precision,
                          generator=seeded_generator(seed, model.device))
    return frame["smiles"].tolist()


def knob_rows(model, n: int, seed: int, workers: int) -> dict[str, dict[str, float]]:
    """Raw validity and the scores of the valid molecules among ``n`` draws at each temperature and
    prior scale, each from the same seed (so the rows differ only by the setting)."""
    settings = [(f"prior N(0,I), T {t}", 1.0, t) for t in TEMPERATURES]
    settings += [(f"prior N(0, {s}²I), T 1.0", s, 1.0) for s in PRIOR_SCALES]
    rows = {}
    for name, scale, temperature in settings:
        generator = seeded_generator(seed)
        z = scale * torch.randn(n, model.latent_dim, generator=generator)
        c = model.conditions.encode({}, n, generator) if model.conditions else None
        frame = molvae.decode(model, z, c, temperature=temperature, greedy=False, properties=False,
                              generator=seeded_generator(seed, model.device))
        valid = frame.loc[frame["valid"], "smiles"].tolist()
        rows[name] = {"raw_validity": round(len(valid) / n, 4)} | score(valid, workers, novelty=True)
        print(name, rows[name], flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint or shipped model name (default: bundled)")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--fit-molecules", type=int, default=50_000, help="training molecules the mixture is fitted to")
    p.add_argument("--components", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--knobs", action="store_true", help="only the temperature and prior-scale rows")
    p.add_argument("-o", "--out", help="JSON file for the rows")
    args = p.parse_args()
    silence_rdkit()
    started = time.perf_counter()
    model = molvae.load_model(args.model)
    if args.knobs:
        write_report(args, model, knob_rows(model, args.n, args.seed, args.workers), started)
        return
    test = read_smiles(moses_path("test"))
    held_out = [test[i] for i in np.random.default_rng(args.seed).choice(len(test), args.n, replace=False)]
    rows = {"test molecules (reference)": ring_statistics(held_out)}
    settings = [("prior N(0,I), T 1.0, default precision", {"prior": "standard"}),
                ("prior N(0,I), T 1.0, fp32", {"prior": "standard", "precision": "fp32"}),
                ("prior N(0,I), T 0.8, default precision", {"prior": "standard", "temperature": 0.8})]
    for name, options in settings:
        frame = molvae.sample(model, args.n, seed=args.seed, properties=False, **options)
        rows[name] = score(frame["smiles"].tolist(), args.workers)
        print(name, rows[name], flush=True)
    for precision in ("auto", "fp32"):
        name = f"posterior q(z|x) of test molecules, T 1.0, {'default precision' if precision == 'auto' else precision}"
        rows[name] = score(posterior_samples(model, held_out, args.seed, precision), args.workers)
        print(name, rows[name], flush=True)
    if model.prior.kind != "mixture":
        train = read_smiles(moses_path("train"))
        train = [train[i] for i in np.random.default_rng(args.seed).choice(len(train), args.fit_molecules,
                                                                           replace=False)]
        model.prior = fit_prior(model, train, args.components, args.seed)
    name = f"mixture prior ({model.prior.components} components), T 1.0, default precision"
    rows[name] = score(molvae.sample(model, args.n, seed=args.seed, properties=False)["smiles"].tolist(),
                       args.workers)
    print(name, rows[name], flush=True)
    write_report(args, model, rows, started)


def write_report(args: argparse.Namespace, model, rows: dict, started: float) -> None:
    report = {"model": args.model or "bundled", "n": args.n, "seed": args.seed,
              "prior_info": getattr(model.prior, "info", describe_prior(model.prior)),
              "seconds": round(time.perf_counter() - started, 1), "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
