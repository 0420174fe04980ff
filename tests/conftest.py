"""Shared fixtures: small slices of the shipped MOSES data and one tiny trained model per session."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from molvae.datasets import moses_path, read_smiles


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Caches (prepared data, reference statistics) go to a fresh folder, never the user's own."""
    os.environ["MOLVAE_CACHE"] = str(tmp_path_factory.mktemp("molvae-cache"))


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def moses_test_smiles() -> list[str]:
    """The first 3,000 molecules of the MOSES test split."""
    return read_smiles(moses_path("test"), limit=3000)


@pytest.fixture(scope="session")
def moses_train_file(tmp_path_factory, moses_test_smiles) -> str:
    """A CSV of 2,000 MOSES molecules with an extra column that must pass through."""
    import pandas as pd

    path = tmp_path_factory.mktemp("data") / "train.csv"
    pd.DataFrame({"SMILES": moses_test_smiles[:2000], "id": range(2000)}).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, moses_train_file) -> dict:
    """One epoch of a small conditional SELFIES model on 2,000 molecules (about 20 s on 2 cores)."""
    from molvae import TrainConfig, train

    run_dir = tmp_path_factory.mktemp("tiny_run")
    config = TrainConfig(epochs=1, batch_size=64, beta_warmup_steps=20, warmup_steps=5,
                         diagnostic_molecules=50, show_progress=False, seed=0, device="cpu")
    summary = train(moses_train_file, run_dir, model_config={"embed_dim": 32, "encoder_hidden": 64,
                                                             "decoder_hidden": 96, "latent_dim": 16},
                    train_config=config, conditions=["logP", "QED"])
    return {"dir": run_dir, "model": str(run_dir / "last.pt"), "summary": summary, "data": moses_train_file}
