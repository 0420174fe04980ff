"""The training campaign's curve: validation −ELBO and FCD/Test against molecules seen (a PNG).

Validation −ELBO comes from ``training/campaign/metrics.csv`` (every epoch end and every stop);
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
    """Steps before the campaign and batch size, from training/campaign.py itself."""
    spec = importlib.util.spec_from_file_location("campaign", ROOT / "training" / "campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STEPS_BEFORE, module.BATCH


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", default=str(ROOT / "benchmarks/results/campaign_curve.png"))
    args = p.parse_args()
    import matplotlib  # noqa: PLC0415 - an optional extra, needed by this script only

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    steps_before, batch = campaign_constants()
    metrics = pd.read_csv(ROOT / "training/campaign/metrics.csv")
    seen = (steps_before + metrics["step"]) * batch / 1e6
    fcd_file = ROOT / "benchmarks/results/campaign_fcd.csv"
    fcd = pd.read_csv(fcd_file) if fcd_file.exists() else pd.DataFrame(columns=["molecules_seen", "fcd_test"])
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(seen, metrics["val_neg_elbo"], "o-", color="tab:blue")
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
