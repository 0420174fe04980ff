"""A training campaign's curve: validation −ELBO and FCD/Test against molecules seen (a PNG).

Validation −ELBO comes from the campaign's ``metrics.csv`` files (every epoch end and every stop;
each finished phase's in ``<run>/phaseN/``, the current one's in the run folder itself); FCD/Test
points from ``benchmarks/results/<name>_fcd.csv`` (``campaign_fcd.csv`` for the SMILES campaign),
one row per ``molvae benchmark moses`` run of a campaign checkpoint (molecules_seen, fcd_test,
samples, command).

    pip install -e ".[bench]"
    python benchmarks/campaign_curve.py -o benchmarks/results/campaign_curve.png
    python benchmarks/campaign_curve.py --model graph -o benchmarks/results/graph_campaign_curve.png
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def campaign(model: str):
    """The campaign's constants (run folder, steps of earlier phases, batch) from training/campaign.py."""
    spec = importlib.util.spec_from_file_location("campaign", ROOT / "training" / "campaign.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["campaign"] = module
    spec.loader.exec_module(module)
    return module.CAMPAIGNS[model]


def validation_curve(model: str) -> pd.DataFrame:
    """Molecules seen and validation −ELBO of every phase: the finished ones (``phase1/``, ``phase2/``,
    …, each ran to the end of its schedule, so its last step is its length), then the current one."""
    constants = campaign(model)
    steps_before, batch, run = constants.steps_before, constants.batch, constants.run
    finished = sorted(run.glob("phase*/metrics.csv"), key=lambda path: int(path.parent.name.removeprefix("phase")))
    frames, offset = [], 0
    for path in finished:
        metrics = pd.read_csv(path)
        frames.append(metrics.assign(seen=(offset + metrics["step"]) * batch))
        offset += int(metrics["step"].max())
    if (run / "metrics.csv").exists():
        metrics = pd.read_csv(run / "metrics.csv")
        frames.append(metrics.assign(seen=(steps_before + metrics["step"]) * batch))
    return pd.concat(frames, ignore_index=True)[["seen", "val_neg_elbo"]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=("smiles", "graph"), default="smiles", help="which campaign")
    p.add_argument("-o", "--out", default=str(ROOT / "benchmarks/results/campaign_curve.png"))
    args = p.parse_args()
    import matplotlib  # noqa: PLC0415 - an optional extra, needed by this script only

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    curve = validation_curve(args.model)
    fcd_name = "campaign_fcd.csv" if args.model == "smiles" else "graph_campaign_fcd.csv"
    fcd_file = ROOT / "benchmarks/results" / fcd_name
    fcd = pd.read_csv(fcd_file) if fcd_file.exists() else pd.DataFrame(columns=["molecules_seen", "fcd_test"])
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(curve["seen"] / 1e6, curve["val_neg_elbo"], "o-", color="tab:blue")
    left.set_xlabel("molecules seen (millions)")
    left.set_ylabel("validation −ELBO (nats / molecule, β = 1)", color="tab:blue")
    right = left.twinx()
    right.plot(fcd["molecules_seen"] / 1e6, fcd["fcd_test"], "s--", color="tab:red")
    right.set_ylabel("FCD/Test (MOSES benchmark)", color="tab:red")
    left.set_title(f"molvae training campaign ({'SMILES' if args.model == 'smiles' else 'graph'} CVAE, MOSES train)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
