"""The training campaign's curve: validation −ELBO and FCD/Test against molecules seen (a PNG).

Validation −ELBO comes from the campaign's ``metrics.csv`` files (every epoch end and every stop;
phase 1's in ``training/campaign/phase1/``);
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
    """Molecules seen and validation −ELBO of every phase: phase 1 from ``phase1/``, then the current one."""
    steps_before, batch = campaign_constants()
    parts = [(ROOT / "training/campaign/phase1/metrics.csv", 0), (ROOT / "training/campaign/metrics.csv", steps_before)]
    frames = [pd.read_csv(path).assign(seen=lambda m, o=offset: (o + m["step"]) * batch)
              for path, offset in parts if path.exists()]
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
