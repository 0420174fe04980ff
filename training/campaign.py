"""Continue the long training campaign of the shipped model by one bounded stretch.

The campaign is one model trained for far longer than any single sitting: its run folder
(``training/campaign/``) is kept in the repository, and every continuation resumes exactly from its
``last.pt`` (weights, optimiser, learning-rate schedule, position inside the epoch, random state)
for ``--minutes`` more, then appends a row to ``training/campaign/log.csv``: when, the command, the
minutes it trained, the steps and the molecules seen in all.

    python training/campaign.py --minutes 150            # start (first time) or continue

The model is a SMILES CVAE (conditioned on logP, QED and SA) of the first shipped model's size,
trained from scratch on the whole MOSES training split: at equal CPU time SMILES beat SELFIES by far
on every distribution metric (benchmarks/representation.py; RESULTS.md). The schedule is fixed for
the whole campaign (cosine over ``TOTAL_STEPS``), so every continuation passes the same bounds; only
the time bound grows. A SIGTERM or Ctrl-C saves the current step.
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
TOTAL_STEPS = 120_000              # cosine schedule length: 30.7 M molecules at batch 256
BATCH = 256
STEPS_BEFORE = 0                   # optimisation steps of the model the campaign starts from (from scratch)
SETTINGS = ["--epochs", "1000", "--max-steps", str(TOTAL_STEPS), "--checkpoint-minutes", "5", "--no-progress",
            "--workers", "2"]  # data preparation, redone where its cache is missing
FIRST = ["--data", "moses", "--representation", "smiles", "--condition", "logP", "QED", "SA",
         "--embed-dim", "64", "--encoder-hidden", "256", "--decoder-hidden", "384", "--latent-dim", "64",
         "--word-dropout", "0.2", "--batch-size", str(BATCH), "--lr", "1e-3", "--epoch-size", "500000",
         "--beta", "0.5", "--beta-warmup-steps", "1", "--free-bits", "0.1", "--patience", "0", "--seed", "0"]
LOG_COLUMNS = ["date", "command", "hardware", "minutes", "steps_from", "steps_to", "molecules_seen",
               "val_neg_elbo"]


def progress() -> dict:
    """The campaign's progress (step, cumulative minutes) from its ``last.pt``; zeros before the start."""
    path = RUN / "last.pt"
    if not path.exists():
        return {"step": 0, "minutes": 0.0}
    return torch.load(path, map_location="cpu", weights_only=True)["trainer"]["progress"]


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
                         "molecules_seen": (STEPS_BEFORE + after["step"]) * BATCH,
                         "val_neg_elbo": last_validation()})


def logged() -> dict:
    """Step and cumulative minutes covered by ``log.csv`` so far."""
    path = RUN / "log.csv"
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    return {"step": int(rows[-1]["steps_to"]) if rows else 0,
            "minutes": sum(float(row["minutes"]) for row in rows)}


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
