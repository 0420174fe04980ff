"""The README's commands timed as a user runs them: whole processes, start-up included.

    python benchmarks/cli_speed.py --repeats 3 -o benchmarks/results/cli_speed.json

Times, with the bundled model on the CPU:
- ``molvae sample -n 20000`` with its default columns (and with ``--no-properties``, and from
  N(0, I) with ``--prior standard``), and the same with the graph model (``--graph-model``, default
  the shipped ``graph``; valid by construction, so nothing is re-drawn);
- ``molvae encode`` and ``molvae reconstruct`` of the first 10,000 MOSES test molecules;
- ``molvae evaluate`` of 30,000 samples against the MOSES splits, with a warm cache and as on a
  brand-new install (an empty cache each run: only the statistics shipped with the package);
- ``molvae sample -n 1000`` on a brand-new install, which builds the lookup of the training
  molecules behind the ``novel`` column, and with that lookup cached;
- the first ``molvae train --data moses --condition logP QED SA`` on a brand-new install, to its
  first optimisation step (``--max-steps 1``, an empty cache each run).

Each figure is min / median / max wall-clock seconds of ``--repeats`` runs, and molecules per second
from the median.

``--floor`` measures instead what ``molvae sample -n 20000`` cannot do without: start-up (a whole
``sample -n 1``), drawing z from the model's default prior per string (for an exemplar prior that
is encoding a training molecule), decoding per string on one thread, RDKit validation per string
and each default property per valid molecule, all on the same ``--floor-strings`` decoded strings,
each part as CPU time of this process (so that other work on the machine inflates it less). With
the raw validity that gives the CPU-seconds of the exact work and the fastest wall time on
``--cores`` cores if they were shared perfectly.

    python benchmarks/cli_speed.py --floor -o benchmarks/results/sample_floor_default_prior.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import molvae as api
from molvae.chem import silence_rdkit
from molvae.chem.molecules import validate
from molvae.chem.properties import load_property_tables, molecule_properties
from molvae.datasets import moses_path, read_smiles
from molvae.devices import torch_threads
from molvae.generation.common import OUTPUT_PROPERTIES, seeded_generator
from molvae.generation.prior_fit import exemplar_batches
from molvae.generation.sampler import decoding_precision, describe_prior, sampling_prior


def timed(cmd: list[str], repeats: int, fresh_cache: bool = False, fresh_folder: Path | None = None
          ) -> dict[str, float]:
    seconds = []
    for _ in range(repeats):
        if fresh_folder is not None:
            shutil.rmtree(fresh_folder, ignore_errors=True)
        env = dict(os.environ)
        if fresh_cache:
            env["MOLVAE_CACHE"] = tempfile.mkdtemp(prefix="cli_speed_cache_")
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds.append(time.perf_counter() - started)
        if done.returncode:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return {"min": round(min(seconds), 2), "median": round(statistics.median(seconds), 2),
            "max": round(max(seconds), 2)}


def per_item_ms(function, items: list) -> tuple[float, list]:
    started = time.process_time()
    results = [function(item) for item in items]
    return 1000 * (time.process_time() - started) / max(len(items), 1), results


def default_prior_latents(model, strings: int) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """``strings`` draws of (z, c) from the model's default sampling prior in batches of 1,000, as
    ``molvae sample`` makes them (an exemplar prior encodes one training molecule per draw)."""
    prior, generator = sampling_prior(model), seeded_generator(3)
    if prior.kind == "exemplar":
        return [(z, c) for z, c, _ in exemplar_batches(model, prior, strings, {}, generator, 1000)]
    z = prior.sample(strings, generator)
    c = model.conditions.encode({}, strings, generator) if model.conditions else None
    return [(z[s:s + 1000], None if c is None else c[s:s + 1000]) for s in range(0, strings, 1000)]


def sample_floor(strings: int, n: int, cores: int, molvae: list[str]) -> dict:
    """The cheapest wall time of ``molvae sample -n n`` with its default columns on ``cores`` cores,
    from measured parts (see the module docstring)."""
    silence_rdkit()
    startup = timed([*molvae, "sample", "-n", "1", "--no-properties", "-o", os.devnull], 1)["median"]
    model = api.load_model(None)
    with torch_threads(1), decoding_precision(model.device):
        started = time.process_time()
        latents = default_prior_latents(model, strings)
        prior_ms = 1000 * (time.process_time() - started) / strings
        started = time.process_time()
        raws = [raw for z, c in latents for raw in model.generate(z, c, generator=seeded_generator(3))]
        decode_ms = 1000 * (time.process_time() - started) / strings
    validate_ms, checks = per_item_ms(validate, raws)
    molecules = [check.molecule for check in checks if check.valid]
    load_property_tables(OUTPUT_PROPERTIES)
    property_ms = {name: per_item_ms(lambda m, name=name: molecule_properties(m, [name]), molecules)[0]
                   for name in OUTPUT_PROPERTIES}
    together_ms = per_item_ms(lambda m: molecule_properties(m, OUTPUT_PROPERTIES), molecules)[0]
    validity = len(molecules) / strings
    per_molecule_ms = (prior_ms + decode_ms + validate_ms) / validity + together_ms
    cpu_s = per_molecule_ms * n / 1000
    return {"strings": strings, "prior": describe_prior(sampling_prior(model)), "raw_validity": round(validity, 4),
            "startup_s": startup, "prior_ms_per_string": round(prior_ms, 3),
            "decode_ms_per_string": round(decode_ms, 3), "validate_ms_per_string": round(validate_ms, 3),
            "property_ms_per_molecule": {k: round(v, 3) for k, v in property_ms.items()},
            "all_properties_ms_per_molecule": round(together_ms, 3), "cpu_ms_per_molecule": round(per_molecule_ms, 3),
            f"cpu_s_for_{n}": round(cpu_s, 1), "cores": cores,
            "fastest_wall_s": round(startup + cpu_s / cores, 1),
            "fastest_molecules_per_s": round(n / (startup + cpu_s / cores))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("-o", "--out", help="JSON file for the timings")
    p.add_argument("--only", help="time only the commands whose name contains this text")
    p.add_argument("--floor", action="store_true", help="measure the parts of sample -n 20000 instead")
    p.add_argument("--floor-strings", type=int, default=5000, help="decoded strings the parts are measured on")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--graph-model", default="graph", help="the graph model to time (default: the shipped one)")
    args = p.parse_args()
    molvae = [sys.executable, "-m", "molvae", "-q"]
    if args.floor:
        report = sample_floor(args.floor_strings, 20_000, args.cores, molvae)
        print(json.dumps(report, indent=2))
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        return
    work = Path(tempfile.mkdtemp(prefix="cli_speed_"))
    test = work / "test10k.smi"
    test.write_text("\n".join(read_smiles(moses_path("test"), limit=10_000)) + "\n")
    samples = work / "samples30k.csv"
    if not args.only or "evaluate" in args.only:
        subprocess.run([*molvae, "sample", "-n", "30000", "--seed", "0", "--no-properties", "-o", str(samples)],
                       check=True)
    evaluate = [*molvae, "evaluate", "-i", str(samples), "-o", str(work / "m.json")]
    commands = {
        "sample -n 20000": ([*molvae, "sample", "-n", "20000", "--seed", "3", "-o", str(work / "s.csv")], 20_000),
        "sample -n 20000 --no-properties": ([*molvae, "sample", "-n", "20000", "--seed", "3", "--no-properties",
                                             "-o", str(work / "s.csv")], 20_000),
        "sample -n 20000 --prior standard": ([*molvae, "sample", "-n", "20000", "--seed", "3", "--prior", "standard",
                                              "-o", str(work / "s.csv")], 20_000),
        "sample -n 20000 --model graph": ([*molvae, "sample", "-n", "20000", "--seed", "3", "--model",
                                           args.graph_model, "-o", str(work / "s.csv")], 20_000),
        "sample -n 1000 (fresh install: builds the novelty lookup)": (
            [*molvae, "sample", "-n", "1000", "--seed", "3", "-o", str(work / "s.csv")], 1000),
        "sample -n 1000 (lookup cached)": ([*molvae, "sample", "-n", "1000", "--seed", "3", "-o", str(work / "s.csv")],
                                           1000),
        "encode 10,000 test molecules": ([*molvae, "encode", "-i", str(test), "-o", str(work / "z.csv")], 10_000),
        "reconstruct 10,000 test molecules": ([*molvae, "reconstruct", "-i", str(test), "-o", str(work / "r.csv")],
                                              10_000),
        "evaluate 30,000 samples (cached reference)": (evaluate, 30_000),
        "evaluate 30,000 samples (fresh install)": (evaluate, 30_000),
        "train on MOSES to the first step (fresh install)": (
            [*molvae, "train", "--data", "moses", "--condition", "logP", "QED", "SA", "--max-steps", "1",
             "--workers", str(args.cores), "--no-progress", "-o", str(work / "run")], 1),
    }
    report = {}
    for name, (cmd, molecules) in commands.items():
        if args.only and args.only not in name:
            continue
        t = timed(cmd, args.repeats, fresh_cache="fresh install" in name, fresh_folder=work / "run")
        shown = " ".join(["molvae", *cmd[4:]]).replace(f"{work}/", "")
        report[name] = {**t, "molecules_per_s": round(molecules / t["median"]), "command": shown}
        print(f"{name:45s} {t['min']:7.2f} {t['median']:7.2f} {t['max']:7.2f} s  "
              f"{report[name]['molecules_per_s']:6d} mol/s", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
