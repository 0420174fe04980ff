"""The README's commands timed as a user runs them: whole processes, start-up included.

    python benchmarks/cli_speed.py --repeats 3 -o benchmarks/results/cli_speed.json

Times, with the bundled model on the CPU:
- ``molvae sample -n 20000`` with its default columns (and with ``--no-properties``);
- ``molvae encode`` and ``molvae reconstruct`` of the first 10,000 MOSES test molecules;
- ``molvae evaluate`` of 30,000 samples against the MOSES splits, with a warm cache and as on a
  brand-new install (an empty cache each run: only the statistics shipped with the package).

Each figure is min / median / max wall-clock seconds of ``--repeats`` runs, and molecules per second
from the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from molvae.datasets import moses_path, read_smiles


def timed(cmd: list[str], repeats: int, fresh_cache: bool = False) -> dict[str, float]:
    seconds = []
    for _ in range(repeats):
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("-o", "--out", help="JSON file for the timings")
    p.add_argument("--only", help="time only the commands whose name contains this text")
    args = p.parse_args()
    molvae = [sys.executable, "-m", "molvae", "-q"]
    work = Path(tempfile.mkdtemp(prefix="cli_speed_"))
    test = work / "test10k.smi"
    test.write_text("\n".join(read_smiles(moses_path("test"), limit=10_000)) + "\n")
    samples = work / "samples30k.csv"
    subprocess.run([*molvae, "sample", "-n", "30000", "--seed", "0", "--no-properties", "-o", str(samples)], check=True)
    evaluate = [*molvae, "evaluate", "-i", str(samples), "-o", str(work / "m.json")]
    commands = {
        "sample -n 20000": ([*molvae, "sample", "-n", "20000", "--seed", "3", "-o", str(work / "s.csv")], 20_000),
        "sample -n 20000 --no-properties": ([*molvae, "sample", "-n", "20000", "--seed", "3", "--no-properties",
                                             "-o", str(work / "s.csv")], 20_000),
        "encode 10,000 test molecules": ([*molvae, "encode", "-i", str(test), "-o", str(work / "z.csv")], 10_000),
        "reconstruct 10,000 test molecules": ([*molvae, "reconstruct", "-i", str(test), "-o", str(work / "r.csv")],
                                              10_000),
        "evaluate 30,000 samples (cached reference)": (evaluate, 30_000),
        "evaluate 30,000 samples (fresh install)": (evaluate, 30_000),
    }
    report = {}
    for name, (cmd, molecules) in commands.items():
        if args.only and args.only not in name:
            continue
        t = timed(cmd, args.repeats, fresh_cache="fresh install" in name)
        shown = " ".join(["molvae", *cmd[4:]]).replace(f"{work}/", "")
        report[name] = {**t, "molecules_per_s": round(molecules / t["median"]), "command": shown}
        print(f"{name:45s} {t['min']:7.2f} {t['median']:7.2f} {t['max']:7.2f} s  "
              f"{report[name]['molecules_per_s']:6d} mol/s", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
