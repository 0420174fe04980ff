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

``--pairing`` asks whether drawing z and the conditions independently (as prior sampling does) pairs
a latent point with properties it cannot carry: one z ~ q(z|x) for each of ``--n`` held-out test
molecules, decoded once with the molecule's own logP, QED and SA and once with those of another
test molecule (a seeded shuffle); then ``--n`` prior draws decoded with independent conditions and
with those of the training molecule (of ``--fit-molecules``) whose latent mean is nearest.

    python benchmarks/sample_quality.py --pairing --n 10000 -o benchmarks/results/condition_pairing.json

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


def posterior_samples(model, smiles: list[str], seed: int, precision: str = "auto",
                      shuffle_conditions: bool = False) -> list[str]:
    """One z ~ q(z|x) per molecule, decoded by sampling at temperature 1 with the molecule's conditions,
    or with another molecule's (``shuffle_conditions``: z and c then meet as independently as in prior
    sampling, so the gap between the two says what drawing them apart costs)."""
    mu, logvar, kept = molvae.encode(model, smiles, skip_invalid=True)
    generator = seeded_generator(seed)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
    c = condition_matrix(model, [smiles[i] for i in kept])
    if shuffle_conditions and c is not None:
        c = c[torch.randperm(len(c), generator=generator)]
    frame = molvae.decode(model, z, c, greedy=False, properties=False, precision=precision,
                          generator=seeded_generator(seed, model.device))
    return frame["smiles"].tolist()


def drawn_row(model, z: torch.Tensor, c: torch.Tensor | None, temperature: float, seed: int,
              workers: int) -> dict[str, float]:
    """Raw validity of decoding z (invalid strings not re-drawn) and the scores of the valid molecules."""
    frame = molvae.decode(model, z, c, temperature=temperature, greedy=False, properties=False,
                          generator=seeded_generator(seed, model.device))
    valid = frame.loc[frame["valid"], "smiles"].tolist()
    return {"raw_validity": round(len(valid) / len(z), 4)} | score(valid, workers, novelty=True)


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
        rows[name] = drawn_row(model, z, c, temperature, seed, workers)
        print(name, rows[name], flush=True)
    return rows


def pairing_rows(model, molecules: list[str], fit: list[str], n: int, seed: int,
                 workers: int) -> dict[str, dict[str, float]]:
    """Posterior samples of ``molecules`` decoded with their own conditions and with shuffled ones; then
    ``n`` prior draws decoded with independent conditions (the default) and with the conditions of the
    ``fit`` molecule whose latent mean lies nearest (the conditions z would have if it were encoded)."""
    rows = {}
    for shuffled in (False, True):
        name = f"posterior q(z|x) of test molecules, {'shuffled' if shuffled else 'own'} conditions"
        rows[name] = score(posterior_samples(model, molecules, seed, shuffle_conditions=shuffled), workers,
                           novelty=True)
        print(name, rows[name], flush=True)
    mu, _, kept = molvae.encode(model, fit, skip_invalid=True)
    fit_conditions = condition_matrix(model, [fit[i] for i in kept])
    generator = seeded_generator(seed)
    z = torch.randn(n, model.latent_dim, generator=generator)
    independent = model.conditions.encode({}, n, generator)
    nearest = fit_conditions[torch.cdist(z, mu).argmin(dim=1)]
    for name, c in (("prior N(0,I), independent conditions", independent),
                    (f"prior N(0,I), conditions of the nearest of {len(kept)} encoded training molecules", nearest)):
        rows[name] = drawn_row(model, z, c, 1.0, seed, workers)
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
    p.add_argument("--pairing", action="store_true",
                   help="only the rows that pair z with its own, shuffled, independent or nearest conditions")
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
    if args.pairing:
        if not model.conditions:
            raise SystemExit("--pairing needs a conditional model")
        rows = pairing_rows(model, held_out, training_sample(args), args.n, args.seed, args.workers)
        write_report(args, model, rows, started)
        return
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
        model.prior = fit_prior(model, training_sample(args), args.components, args.seed)
    name = f"mixture prior ({model.prior.components} components), T 1.0, default precision"
    rows[name] = score(molvae.sample(model, args.n, seed=args.seed, properties=False)["smiles"].tolist(),
                       args.workers)
    print(name, rows[name], flush=True)
    write_report(args, model, rows, started)


def training_sample(args: argparse.Namespace) -> list[str]:
    """``--fit-molecules`` random molecules of the MOSES training split."""
    train = read_smiles(moses_path("train"))
    return [train[i] for i in np.random.default_rng(args.seed).choice(len(train), args.fit_molecules, replace=False)]


def write_report(args: argparse.Namespace, model, rows: dict, started: float) -> None:
    report = {"model": args.model or "bundled", "n": args.n, "seed": args.seed,
              "prior_info": getattr(model.prior, "info", describe_prior(model.prior)),
              "seconds": round(time.perf_counter() - started, 1), "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
