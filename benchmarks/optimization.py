"""Latent-space optimisation benchmarks with the bundled model; each subcommand prints one JSON line.

    python benchmarks/optimization.py qed --budget 1000
    python benchmarks/optimization.py plogp --budget 2500 --max-heavy-atoms 38
    python benchmarks/optimization.py constrained --molecules 800 --budget 80 --runs benchmarks/results/constrained
    python benchmarks/optimization.py pmo --budget 10000 --seeds 0 1 2 --runs benchmarks/results/pmo_default
    python benchmarks/optimization.py conditional --samples 1000
    python benchmarks/optimization.py predictors --molecules 2000
    python benchmarks/optimization.py predictors --molecules 2000 --model property-head

``--model`` runs a benchmark with another checkpoint or shipped model than the bundled one; without
it, ``pmo`` runs the default search of ``molvae optimize`` (the shipped models searched together). For a model
with a property head (``property-head``, or ``molvae train --property-head``), ``predictors`` also
scores the head, and ``--method gradient --predictor head`` climbs it (qed, plogp).

Every number comes from the oracle calls made in the run (counted by molvae's budget); invalid and
duplicate decodes cost no call and are never replaced by dataset molecules. Use OMP_NUM_THREADS=1
on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

import numpy as np
import torch

import molvae
from molvae.cli.common import parse_conditions
from molvae.optimization import auc_top_k, conditional_quality, optimize
from molvae.optimization.predictors import GRADIENT_PREDICTORS, PREDICTORS, PropertyHeadPredictor
from molvae.optimization.run import SEARCH_TOGETHER
from molvae.optimization.tasks import penalized_logp

PMO_TASKS = ["albuterol_similarity", "amlodipine_mpo", "celecoxib_rediscovery", "deco_hop", "fexofenadine_mpo",
             "isomers_c7h8n2o2", "isomers_c9h10n2o2pf2cl", "median1", "median2", "mestranol_similarity",
             "osimertinib_mpo", "perindopril_mpo", "qed", "ranolazine_mpo", "scaffold_hop", "sitagliptin_mpo",
             "thiothixene_rediscovery", "troglitazone_rediscovery", "valsartan_smarts", "zaleplon_mpo"]
PMO_17 = PMO_TASKS[:17]  # the tasks of the PMO paper's RDKit table (the published sums over 17)


def top_molecules(result, k: int = 3) -> list[dict]:
    from molvae.chem.properties import compute_properties

    rows = []
    for row in result.top.head(k).itertuples():
        props = compute_properties(row.smiles, ("QED", "SA"))
        rows.append({"smiles": row.smiles, "score": round(float(row.score), 4), "call": int(row.call),
                     "QED": round(props["QED"], 3), "SA": round(props["SA"], 3),
                     "heavy_atoms": int(molvae.chem.parse_smiles(row.smiles).GetNumHeavyAtoms())})
    return rows


def optimiser(args) -> dict:
    """The optimiser settings of a run, as passed to optimize() and recorded with its result."""
    return {"method": args.method, "surrogate": args.surrogate, "predictor": args.predictor,
            "conditions": parse_conditions(args.condition)}


def run_qed(args, model) -> dict:
    started = time.perf_counter()
    result = optimize("QED", model, budget=args.budget, seed=args.seed, out=args.csv, **optimiser(args))
    return {"task": "qed", "budget": args.budget, **optimiser(args), "seed": args.seed,
            "summary": result.summary, "top": top_molecules(result),
            "seconds": round(time.perf_counter() - started, 1)}


def run_plogp(args, model) -> dict:
    started = time.perf_counter()
    result = optimize("penalized_logP", model, budget=args.budget, seed=args.seed, out=args.csv,
                      max_heavy_atoms=args.max_heavy_atoms, **optimiser(args))
    return {"task": "penalized_logP", "budget": args.budget, "max_heavy_atoms": args.max_heavy_atoms,
            **optimiser(args), "seed": args.seed, "summary": result.summary, "top": top_molecules(result),
            "seconds": round(time.perf_counter() - started, 1)}


def lowest_plogp_test_molecules(n: int) -> list[tuple[str, float]]:
    """The ``n`` MOSES test molecules with the lowest penalized logP (cached next to this script)."""
    from molvae.chem import parse_smiles
    from molvae.datasets import moses_path, read_smiles

    cache = Path(__file__).with_name("results") / "moses_test_lowest_plogp.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        if len(data) >= n:
            return [tuple(x) for x in data[:n]]
    smiles = read_smiles(moses_path("test"))
    values = [(s, penalized_logp(parse_smiles(s))) for s in smiles]
    values.sort(key=lambda x: x[1])
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(json.dumps(values[:800]))
    return values[:n]


def constrained_record(args) -> Path | None:
    """The JSON-lines file that keeps each finished start molecule and δ (with ``--runs``)."""
    if not args.runs:
        return None
    return Path(args.runs) / f"constrained-{args.method}-{args.surrogate}-b{args.budget}-s{args.seed}.jsonl"


def finished(record: Path | None) -> dict[str, float]:
    """Improvements already in the record, read afresh each time so two processes can share one file."""
    if record is None or not record.exists():
        return {}
    lines = [line for line in record.read_text().splitlines(keepends=True) if line.endswith("\n")]
    return {row["key"]: row["improvement"] for row in map(json.loads, lines)}


def constrained_run(smiles: str, start_value: float, delta: float, args, model, record: Path | None) -> float:
    """Improvement of one start molecule at one δ (0 when nothing better within δ was found); with
    ``--runs`` each result is appended to a JSON-lines file and reused by a later, resumed run."""
    from molvae.chem import parse_smiles
    from molvae.chem.fingerprints import tanimoto

    key = f"{delta}|{smiles}"
    done = finished(record)
    if key in done:
        return done[key]
    result = optimize("penalized_logP", model, args.method, args.budget, start=smiles, min_similarity=delta,
                      seed=args.seed, batch_size=10, initial=20, surrogate=args.surrogate)
    history = result.history
    others = history[(history["status"] == "evaluated") & (history["smiles"] != smiles)]
    improvement = 0.0
    if len(others) and float(others["score"].max()) > start_value:
        winner = others.loc[others["score"].idxmax(), "smiles"]  # check the constraint really held
        assert tanimoto(parse_smiles(winner), parse_smiles(smiles)) >= delta
        improvement = float(others["score"].max()) - start_value
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        with record.open("a") as handle:
            handle.write(json.dumps({"key": key, "improvement": improvement}) + "\n")
    return improvement


def run_constrained(args, model) -> dict:
    molecules = lowest_plogp_test_molecules(800)[: args.molecules]
    out = {"task": "constrained_penalized_logP", "molecules": len(molecules), "of": 800,
           "budget_per_molecule": args.budget, "method": args.method, "surrogate": args.surrogate,
           "seed": args.seed, "deltas": {}}
    record = constrained_record(args)
    started = time.perf_counter()
    for delta in args.delta:
        order = molecules[::-1] if args.from_end else molecules
        found = {smiles: constrained_run(smiles, value, delta, args, model, record) for smiles, value in order}
        imp = np.asarray([found[smiles] for smiles, _ in molecules])
        ok = imp[imp > 0]
        out["deltas"][str(delta)] = {
            "success_rate": round(len(ok) / len(molecules), 4),
            "improvement_all_mean": round(float(imp.mean()), 3), "improvement_all_sd": round(float(imp.std()), 3),
            "improvement_success_mean": round(float(ok.mean()), 3) if len(ok) else None,
            "improvement_success_sd": round(float(ok.std()), 3) if len(ok) else None}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def pmo_run(task: str, seed: int, args, model) -> dict:
    """One task and seed: AUC top-10 and best score, remembered in ``--runs`` (when given) so an
    interrupted benchmark continues where it stopped."""
    name = f"{task}-{args.method}-{args.surrogate}-b{args.budget}-s{seed}.json"
    record = Path(args.runs) / name if args.runs else None
    if record and record.exists():
        return json.loads(record.read_text())
    started = time.perf_counter()
    result = optimize("QED" if task == "qed" else task, model, args.method, args.budget, seed=seed,
                      surrogate=args.surrogate)
    scores = result.history["score"].to_numpy(dtype=float)
    run = {"task": task, "seed": seed, "auc_top10": auc_top_k(scores, k=10, every=100, max_calls=args.budget),
           "top1": float(np.nanmax(scores)), "calls": result.summary["calls"],
           "seconds": round(time.perf_counter() - started, 1)}
    if record:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(run) + "\n")
    return run


def run_pmo(args, model) -> dict:
    tasks = args.tasks or PMO_TASKS
    out = {"task": "pmo", "budget": args.budget, "log_every": 100, "seeds": args.seeds, "method": args.method,
           "surrogate": args.surrogate, "auc_top10": {}, "auc_top10_sd": {}, "top1": {}, "seconds_per_run": {}}
    for task in tasks:
        runs = [pmo_run(task, seed, args, model) for seed in args.seeds]
        aucs = [r["auc_top10"] for r in runs]
        out["auc_top10"][task] = round(float(np.mean(aucs)), 4)
        out["auc_top10_sd"][task] = round(float(np.std(aucs)), 4)
        out["top1"][task] = round(float(np.mean([r["top1"] for r in runs])), 4)
        out["seconds_per_run"][task] = round(float(np.mean([r["seconds"] for r in runs])), 1)
        print(json.dumps({"task": task, "auc_top10": aucs, "seconds": [r["seconds"] for r in runs]}), flush=True)
    out["sum_auc_top10"] = round(sum(out["auc_top10"].values()), 3)
    if set(PMO_17) <= set(out["auc_top10"]):
        out["sum_auc_top10_17"] = round(sum(out["auc_top10"][t] for t in PMO_17), 3)
    return out


def run_conditional(args, model) -> dict:
    started = time.perf_counter()
    frames = [conditional_quality(model, "logP", [0, 1, 2, 3, 4, 5], args.samples, args.seed,
                                  baseline_pool=args.pool),
              conditional_quality(model, "QED", [0.5, 0.6, 0.7, 0.8, 0.9], args.samples, args.seed,
                                  baseline_pool=args.pool)]
    rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for frame in frames for row in frame.to_dict("records")]
    return {"task": "conditional", "samples": args.samples, "pool": args.pool, "rows": rows,
            "seconds": round(time.perf_counter() - started, 1)}


def run_predictors(args, model) -> dict:
    from molvae.chem.properties import property_table
    from molvae.datasets import moses_path, read_smiles
    from molvae.optimization import heldout_r2, latent_means

    started = time.perf_counter()
    smiles = read_smiles(moses_path("test"), limit=args.molecules)
    Z, kept = latent_means(model, smiles)
    kept_smiles = [smiles[i] for i in kept]
    table = property_table(kept_smiles, ("logP", "QED", "SA"))
    table["penalized_logP"] = [penalized_logp(molvae.chem.parse_smiles(s)) for s in kept_smiles]
    with_head = getattr(model, "properties", [])  # a jointly trained head predicts these from z
    scores = {}
    for name in table.columns:  # the head's own R² too where it predicts the property
        head = PropertyHeadPredictor(model, name) if name in with_head else None
        kinds = PREDICTORS if head is None else GRADIENT_PREDICTORS
        r2 = heldout_r2(Z, table[name].to_numpy(), kinds, seed=args.seed, predictor=head)
        scores[name] = {k: round(v, 4) for k, v in r2.items()}
    return {"task": "predictors", "model": args.model or "bundled", "molecules": len(kept), "test_fraction": 0.2,
            "r2": scores, "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("benchmark", choices=["qed", "plogp", "constrained", "pmo", "conditional", "predictors"])
    p.add_argument("--budget", type=int, default=None, help="oracle calls (per molecule for constrained)")
    p.add_argument("--method", default="bo", choices=["bo", "gradient", "cvae"])
    p.add_argument("--surrogate", default="fingerprint", choices=["fingerprint", "latent"],
                   help="BO model (qed, plogp, constrained, pmo)")
    p.add_argument("--predictor", default="mlp", choices=GRADIENT_PREDICTORS,
                   help="what --method gradient climbs (qed, plogp); head: the --model's own property head")
    p.add_argument("--runs", help="pmo, constrained: keep each finished run here and skip it when resumed")
    p.add_argument("--from-end", action="store_true",
                   help="constrained: start from the last molecule, so a second process with the same --runs "
                        "works towards the first one")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--tasks", nargs="+", choices=PMO_TASKS)
    p.add_argument("--molecules", type=int, default=800)
    p.add_argument("--delta", type=float, nargs="+", default=[0.4, 0.6])
    p.add_argument("--max-heavy-atoms", type=int, default=38)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--pool", type=int, default=10000, help="unconditional samples to filter (conditional)")
    p.add_argument("--csv", help="write every oracle call here (qed, plogp)")
    p.add_argument("--json", help="also write the result here")
    p.add_argument("--model", help="checkpoint to benchmark (default: the bundled model)")
    p.add_argument("--condition", nargs="+", default=[], metavar="NAME=VALUE",
                   help="qed, plogp: decode a conditional model at these values instead of the training mean")
    args = p.parse_args()
    defaults = {"qed": 1000, "plogp": 2500, "constrained": 80, "pmo": 10000}
    args.budget = args.budget or defaults.get(args.benchmark, 0)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    torch.set_num_threads(1)
    if args.benchmark == "pmo" and args.model is None:  # the default search: the shipped models it uses together
        model = [molvae.load_model(name) for name in SEARCH_TOGETHER]
    else:
        model = molvae.load_model(args.model)
    result = globals()[f"run_{args.benchmark}"](args, model)
    result["hardware"] = f"{platform.machine()} CPU, torch threads {torch.get_num_threads()}"
    line = json.dumps(result)
    print(line)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(line + "\n")


if __name__ == "__main__":
    main()
