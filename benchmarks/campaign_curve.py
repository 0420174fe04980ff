"""The training campaign's curve: validation −ELBO and FCD/Test against molecules seen (a PNG).

Validation −ELBO comes from the campaign's ``metrics.csv`` files (every epoch end and every stop;
each finished phase's in ``training/campaign/phaseN/``, the current one's in ``training/campaign/``);
FCD/Test points from ``benchmarks/results/campaign_fcd.csv``, one row per ``molvae benchmark moses``
run of a campaign checkpoint (molecules_seen, fcd_test, samples, command).

    pip install -e ".[bench]"
    python benchmarks/campaign_curve.py -o benchmarks/results/campaign_curve.png
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def campaign_constants() -> tuple[int, int]:
    """Steps of the earlier phases and batch size, from training/campaign.py itself."""
    spec = importlib.util.spec_from_file_location("campaign", ROOT / "training" / "campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STEPS_BEFORE, module.BATCH


def validation_curve() -> pd.DataFrame:
    """Molecules seen and validation −ELBO of every phase: the finished ones (``phase1/``, ``phase2/``,
    …, each ran to the end of its schedule, so its last step is its length), then the current one."""
    steps_before, batch = campaign_constants()
    run = ROOT / "training/campaign"
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
    p.add_argument("-o", "--out", default=str(ROOT / "benchmarks/results/campaign_curve.png"))
    args = p.parse_args()
    import matplotlib  # noqa: PLC0415 - an optional extra, needed by this script only

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    curve = validation_curve()
    fcd_file = ROOT / "benchmarks/results/campaign_fcd.csv"
    fcd = pd.read_csv(fcd_file) if fcd_file.exists() else pd.DataFrame(columns=["molecules_seen", "fcd_test"])
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(curve["seen"] / 1e6, curve["val_neg_elbo"], "o-", color="tab:blue")
    left.set_xlabel("molecules seen (millions)")
    left.set_ylabel("validation −ELBO (nats / molecule, β = 1)", color="tab:blue")
    right = left.twinx()
    right.plot(fcd["molecules_seen"] / 1e6, fcd["fcd_test"], "s--", color="tab:red")
    right.set_ylabel("FCD/Test (MOSES benchmark)", color="tab:red")
    left.set_title("molvae training campaign (SMILES CVAE, MOSES train)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
