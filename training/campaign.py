"""Continue one of the long training campaigns by one bounded stretch.

A campaign is one model trained for far longer than any single sitting: its run folder is kept in
the repository, and every continuation resumes exactly from its ``last.pt`` (weights, optimiser,
learning-rate schedule, position inside the epoch, random state) for ``--minutes`` more, then
appends a row to the folder's ``log.csv``: when, the command, the hardware, the minutes it trained,
the steps and the molecules seen in all. Both campaigns train on the whole MOSES training split,
conditioned on logP, QED and SA, and differ only in the constants of their :class:`Campaign`.

    python training/campaign.py --minutes 150                 # the SMILES campaign (the bundled model)
    python training/campaign.py --model graph --minutes 150   # the graph campaign

Beside other work at normal priority, start it with ``OMP_NUM_THREADS=1 nice -n 10``: with two
threads, one of them starved by the other process, the graph campaign once trained 123 steps in 49
minutes instead of about 67 a minute on one thread (log.csv, 2026-12-07).

**SMILES** (``training/campaign/``): a SMILES CVAE of the first shipped model's size; at equal CPU
time SMILES beat SELFIES by far on every distribution metric (benchmarks/representation.py;
RESULTS.md). It runs in phases, each one cosine learning-rate schedule over ``total_steps``; every
continuation inside a phase passes the same bounds, only the time bound grows. A SIGTERM (passed on
to the trainer) or Ctrl-C saves the current step. Phase 1 trained from scratch for 120,000 steps
(lr 1e-3 → 5e-5); its final
weights were exported as the bundled model and its metrics kept in ``phase1/``. Phase 2 is a warm
restart: it starts from those weights (``--init-from bundled`` at the time it began) with a fresh
optimiser and a shorter, lower cosine schedule; ``steps_before`` counts phase 1's steps so that the
log's molecules-seen column runs on across phases. Phase 2 ended at its step 20,000 (140,000 in
all) and was exported; its metrics are in ``phase2/``. Phase 3 started from that export with word
dropout halved (0.2 → 0.1, so the decoder trains on inputs closer to the whole strings it sees when
sampling) and lr 2e-4; it ended at its step 20,000 (160,000 in all), metrics in ``phase3/``. Phase 4
started from the bundled model with no word dropout at all (the decoder then trains on exactly the
prefixes it sees when sampling; free bits keep the latent in use) and lr 1.5e-4; it ended at its step
20,000 (180,000 in all) and was exported as the bundled model (2026-12-07). A phase 5 would first move
this phase's ``config.json``, ``metrics.csv`` and ``kl_per_dim.csv`` into ``phase4/``.

**Graph** (``training/graph_campaign/``): the graph VAE at its default size (message passing 4 × 192,
valence-masked action decoder 384, z 64), half of its molecules generated scaffold first; phase 1
trains from scratch with the SMILES phase 1 recipe (β 0.5, free bits 0.1, lr 1e-3 → 5e-5) over a
cosine schedule of 80,000 steps (20.5 M molecules). From step 31,511 on (2026-12-07) its decoder may
not close a ring of more than 7 atoms (``--max-ring-size 7``: the MOSES training split has none, and
8 % of the shipped samples had one); the mask came in on a resume, so the optimiser and schedule run on.
From step 54,173 on its checkpoints store the sampling temperature 0.8 (``--sampling-temperature``,
chosen by FCD against training molecules; it changes no weights).

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
from dataclasses import dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
LOG_COLUMNS = ["date", "command", "hardware", "minutes", "steps_from", "steps_to", "molecules_seen",
               "val_neg_elbo"]


@dataclass(frozen=True)
class Campaign:
    """One campaign's run folder and the bounds and options of its current phase."""

    run: Path
    total_steps: int        # this phase's cosine schedule
    steps_before: int       # optimisation steps of the earlier phases
    first: list[str]        # options of the command that starts this phase
    batch: int = 256
    always: tuple[str, ...] = ()  # options every continuation passes (ones a resumed run may change)

    @property
    def settings(self) -> list[str]:
        """Options of every continuation (data preparation is redone where its cache is missing)."""
        return ["--epochs", "1000", "--max-steps", str(self.total_steps), "--checkpoint-minutes", "5",
                "--no-progress", "--workers", "2", *self.always]


# SMILES phase 1 (from scratch) began with: --data moses --representation smiles --condition logP QED SA
# --embed-dim 64 --encoder-hidden 256 --decoder-hidden 384 --latent-dim 64 --word-dropout 0.2
# --batch-size 256 --lr 1e-3 --epoch-size 500000 --beta 0.5 --beta-warmup-steps 1 --free-bits 0.1
# --patience 0 --seed 0 (and --max-steps 120000). Seed 0 keeps phase 1's validation split.
# Phase 2 (warm restart from phase 1's export) began with --init-from bundled --lr 3e-4, otherwise as below;
# phase 3 with --word-dropout 0.1 --lr 2e-4.
CAMPAIGNS = {
    "smiles": Campaign(
        run=ROOT / "training" / "campaign", total_steps=20_000, steps_before=160_000,
        first=["--data", "moses", "--init-from", "bundled", "--word-dropout", "0.0", "--batch-size", "256",
               "--lr", "1.5e-4", "--epoch-size", "500000", "--beta", "0.5", "--beta-warmup-steps", "1",
               "--free-bits", "0.1", "--patience", "0", "--seed", "0"]),
    "graph": Campaign(
        run=ROOT / "training" / "graph_campaign", total_steps=80_000, steps_before=0,
        first=["--data", "moses", "--model", "graph", "--condition", "logP", "QED", "SA", "--batch-size", "256",
               "--lr", "1e-3", "--epoch-size", "500000", "--beta", "0.5", "--beta-warmup-steps", "1",
               "--free-bits", "0.1", "--patience", "0", "--seed", "0"],
        always=("--max-ring-size", "7", "--sampling-temperature", "0.8")),
}


def progress(campaign: Campaign) -> dict:
    """The campaign's step (counted across phases) and this phase's training minutes, from ``last.pt``."""
    path = campaign.run / "last.pt"
    if not path.exists():
        return {"step": campaign.steps_before, "minutes": 0.0}
    done = torch.load(path, map_location="cpu", weights_only=True)["trainer"]["progress"]
    return {"step": campaign.steps_before + done["step"], "minutes": done["minutes"]}


def command(campaign: Campaign, minutes: float, device: str) -> list[str]:
    before = progress(campaign)
    bound = ["--max-minutes", f"{before['minutes'] + minutes:.1f}", "--device", device]
    start = [] if (campaign.run / "last.pt").exists() else campaign.first
    resume = ["--resume"] if not start else []
    return [sys.executable, "-m", "molvae", "train", "-o", str(campaign.run), *resume, *start,
            *campaign.settings, *bound]


def last_validation(campaign: Campaign) -> str:
    path = campaign.run / "metrics.csv"
    if not path.exists():
        return ""
    rows = list(csv.DictReader(path.open()))
    return rows[-1]["val_neg_elbo"] if rows else ""


def shown(cmd: list[str]) -> str:
    """The child command as a user would type it, with repository-relative paths."""
    words = ["molvae", *cmd[3:]]
    return shlex.join(str(Path(w).relative_to(ROOT)) if w.startswith(str(ROOT)) else w for w in words)


def append_log(campaign: Campaign, text: str, before: dict, after: dict, hardware: str) -> None:
    path = campaign.run / "log.csv"
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                         "command": text, "hardware": hardware,
                         "minutes": round(after["minutes"] - before["minutes"], 1),
                         "steps_from": before["step"], "steps_to": after["step"],
                         "molecules_seen": after["step"] * campaign.batch,
                         "val_neg_elbo": last_validation(campaign)})


def logged(campaign: Campaign) -> dict:
    """The last step ``log.csv`` covers and the minutes it logs for this phase."""
    path = campaign.run / "log.csv"
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    phase = [row for row in rows if int(row["steps_from"]) >= campaign.steps_before]
    return {"step": max([campaign.steps_before, *(int(row["steps_to"]) for row in rows)]),
            "minutes": sum(float(row["minutes"]) for row in phase)}


def recover_unlogged(campaign: Campaign, hardware: str) -> None:
    """Log a stretch that ended without a clean stop (killed session): its steps are in last.pt."""
    before, after = logged(campaign), progress(campaign)
    if after["step"] > before["step"]:
        append_log(campaign, "(stretch ended without a clean stop; row recovered from last.pt)",
                   before, after, hardware)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=CAMPAIGNS, default="smiles", help="which campaign to continue")
    parser.add_argument("--minutes", type=float, required=True, help="training time of this continuation")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--hardware", default=f"{torch.get_num_threads()}-thread {platform.machine()} CPU",
                        help="what to write in the log's hardware column")
    args = parser.parse_args()
    campaign = CAMPAIGNS[args.model]
    recover_unlogged(campaign, args.hardware)
    before = progress(campaign)
    cmd = command(campaign, args.minutes, args.device)
    child = subprocess.Popen(cmd, cwd=ROOT)
    # SIGTERM, not SIGINT: a job started in the background with & ignores SIGINT, and so does its child
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    try:
        code = child.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the trainer too; wait for it to save
        code = child.wait()
    after = progress(campaign)
    if after["step"] > before["step"]:
        append_log(campaign, shown(cmd), before, after, args.hardware)
    return code


if __name__ == "__main__":
    sys.exit(main())
