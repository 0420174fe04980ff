"""Continue the long training campaign of the shipped model by one bounded stretch.

The campaign is one model trained for far longer than any single sitting: its run folder
(``training/campaign/``) is kept in the repository, and every continuation resumes exactly from its
``last.pt`` (weights, optimiser, learning-rate schedule, position inside the epoch, random state)
for ``--minutes`` more, then appends a row to ``training/campaign/log.csv``: when, the command, the
minutes it trained, the steps and the molecules seen in all.

    python training/campaign.py --minutes 150            # start (first time) or continue

The model is a SMILES CVAE (conditioned on logP, QED and SA) of the first shipped model's size,
trained on the whole MOSES training split: at equal CPU time SMILES beat SELFIES by far on every
distribution metric (benchmarks/representation.py; RESULTS.md). The campaign runs in phases, each
one cosine learning-rate schedule over ``TOTAL_STEPS``; every continuation inside a phase passes the
same bounds, only the time bound grows. A SIGTERM or Ctrl-C saves the current step.

Phase 1 trained from scratch for 120,000 steps (lr 1e-3 → 5e-5); its final weights were exported as
the bundled model and its metrics kept in ``phase1/``. Phase 2 is a warm restart: it starts from
those weights (``--init-from bundled`` at the time it began) with a fresh optimiser and a shorter,
lower cosine schedule; ``STEPS_BEFORE`` counts phase 1's steps so that the log's molecules-seen
column runs on across phases. Phase 2 ended at its step 20,000 (140,000 in all) and was exported;
its metrics are in ``phase2/``. Phase 3 started from that export with word dropout halved (0.2 → 0.1,
so the decoder trains on inputs closer to the whole strings it sees when sampling) and lr 2e-4; it
ended at its step 20,000 (160,000 in all), metrics in ``phase3/``. Phase 4 starts from the bundled
model with no word dropout at all (the decoder then trains on exactly the prefixes it sees when
sampling; free bits keep the latent in use) and lr 1.5e-4.
A new phase starts when ``last.pt`` is absent.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import platform
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "training" / "campaign"
TOTAL_STEPS = 20_000               # this phase's cosine schedule: 5.1 M molecules at batch 256
BATCH = 256
STEPS_BEFORE = 160_000             # optimisation steps of the earlier phases (phases 1-3: 40.96 M molecules)
SETTINGS = ["--epochs", "1000", "--max-steps", str(TOTAL_STEPS), "--checkpoint-minutes", "5", "--no-progress",
            "--workers", "2"]  # data preparation, redone where its cache is missing
# Phase 1 (from scratch) began with: --data moses --representation smiles --condition logP QED SA
# --embed-dim 64 --encoder-hidden 256 --decoder-hidden 384 --latent-dim 64 --word-dropout 0.2
# --batch-size 256 --lr 1e-3 --epoch-size 500000 --beta 0.5 --beta-warmup-steps 1 --free-bits 0.1
# --patience 0 --seed 0 (and --max-steps 120000). Seed 0 keeps phase 1's validation split.
# Phase 2 (warm restart from phase 1's export) began with --init-from bundled --lr 3e-4, otherwise as below;
# phase 3 with --word-dropout 0.1 --lr 2e-4.
FIRST = ["--data", "moses", "--init-from", "bundled", "--word-dropout", "0.0", "--batch-size", str(BATCH),
         "--lr", "1.5e-4", "--epoch-size", "500000", "--beta", "0.5", "--beta-warmup-steps", "1", "--free-bits", "0.1",
         "--patience", "0", "--seed", "0"]
LOG_COLUMNS = ["date", "command", "hardware", "minutes", "steps_from", "steps_to", "molecules_seen",
               "val_neg_elbo"]


def progress() -> dict:
    """The campaign's step (counted across phases) and this phase's training minutes, from ``last.pt``."""
    path = RUN / "last.pt"
    if not path.exists():
        return {"step": STEPS_BEFORE, "minutes": 0.0}
    done = torch.load(path, map_location="cpu", weights_only=True)["trainer"]["progress"]
    return {"step": STEPS_BEFORE + done["step"], "minutes": done["minutes"]}


def command(minutes: float, device: str) -> list[str]:
    before = progress()
    bound = ["--max-minutes", f"{before['minutes'] + minutes:.1f}", "--device", device]
    start = [] if (RUN / "last.pt").exists() else FIRST
    resume = ["--resume"] if not start else []
    return [sys.executable, "-m", "molvae", "train", "-o", str(RUN), *resume, *start, *SETTINGS, *bound]


def last_validation() -> str:
    path = RUN / "metrics.csv"
    if not path.exists():
        return ""
    rows = list(csv.DictReader(path.open()))
    return rows[-1]["val_neg_elbo"] if rows else ""


def shown(cmd: list[str]) -> str:
    """The child command as a user would type it, with repository-relative paths."""
    words = ["molvae", *cmd[3:]]
    return shlex.join(str(Path(w).relative_to(ROOT)) if w.startswith(str(ROOT)) else w for w in words)


def append_log(text: str, before: dict, after: dict, hardware: str) -> None:
    path = RUN / "log.csv"
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                         "command": text, "hardware": hardware,
                         "minutes": round(after["minutes"] - before["minutes"], 1),
                         "steps_from": before["step"], "steps_to": after["step"],
                         "molecules_seen": after["step"] * BATCH,
                         "val_neg_elbo": last_validation()})


def logged() -> dict:
    """The last step ``log.csv`` covers and the minutes it logs for this phase."""
    path = RUN / "log.csv"
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    phase = [row for row in rows if int(row["steps_from"]) >= STEPS_BEFORE]
    return {"step": max([STEPS_BEFORE, *(int(row["steps_to"]) for row in rows)]),
            "minutes": sum(float(row["minutes"]) for row in phase)}


def recover_unlogged(hardware: str) -> None:
    """Log a stretch that ended without a clean stop (killed session): its steps are in last.pt."""
    before, after = logged(), progress()
    if after["step"] > before["step"]:
        append_log("(stretch ended without a clean stop; row recovered from last.pt)",
                   before, after, hardware)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, required=True, help="training time of this continuation")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--hardware", default=f"{torch.get_num_threads()}-thread {platform.machine()} CPU",
                        help="what to write in the log's hardware column")
    args = parser.parse_args()
    recover_unlogged(args.hardware)
    before = progress()
    cmd = command(args.minutes, args.device)
    child = subprocess.Popen(cmd, cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGINT))
    try:
        code = child.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the trainer too; wait for it to save
        code = child.wait()
    after = progress()
    if after["step"] > before["step"]:
        append_log(shown(cmd), before, after, args.hardware)
    return code


if __name__ == "__main__":
    sys.exit(main())
