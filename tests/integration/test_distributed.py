"""Data-parallel training: two processes under torchrun on CPU (gloo) train one model in step."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import torch

from molvae.training.checkpoint import read_checkpoint

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without distributed")


def torchrun(args: list[str], cwd) -> subprocess.CompletedProcess:
    """One ``molvae train`` under torchrun with two CPU processes; stderr is kept for the report."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "molvae", "train", *args, "--device", "cpu", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def test_two_processes_stay_in_sync_and_resume(tmp_path, moses_test_smiles):
    data = tmp_path / "molecules.csv"
    pd.DataFrame({"smiles": moses_test_smiles[:600]}).to_csv(data, index=False)
    run = tmp_path / "run"
    size = ["--batch-size", "32", "--embed-dim", "16", "--encoder-hidden", "32", "--decoder-hidden", "32",
            "--latent-dim", "8", "--val-fraction", "0.05"]
    first = torchrun(["--data", str(data), "-o", str(run), "--epochs", "1", *size], tmp_path)
    assert first.returncode == 0, first.stderr[-6000:]
    # 570 training molecules in batches of 32 make 18 batches; each of the two processes takes 9.
    # The trainer compares the processes' weights at the end and fails the run if they differ.
    assert read_checkpoint(run / "last.pt")["trainer"]["progress"]["step"] == 9
    assert first.stdout.count("stopped after epoch") == 1  # only rank 0 reports
    resumed = torchrun(["-o", str(run), "--resume", "--epochs", "2"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-6000:]
    metrics = pd.read_csv(run / "metrics.csv")
    assert metrics["epoch"].tolist() == [1, 2]
    assert metrics["step"].tolist() == [9, 18]
