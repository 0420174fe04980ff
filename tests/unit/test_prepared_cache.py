"""Prepared training data is cached by file content and settings, and reads back unchanged."""

import pandas as pd

from molvae.datasets import read_molecules
from molvae.training.cache import TokenTable, cached_preparation
from molvae.training.data import prepare_molecules


def test_second_preparation_comes_from_the_cache(tmp_path, monkeypatch, moses_test_smiles):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "molecules.csv"
    pd.DataFrame({"smiles": [*moses_test_smiles[:200], "not a molecule"], "batch": "007"}).to_csv(path, index=False)
    settings = {"representation": "selfies", "conditions": ["logP"], "labels": ["batch"], "max_tokens": 98}
    calls = []

    def prepare():
        calls.append(1)
        return prepare_molecules(read_molecules(path), **settings)

    fresh = cached_preparation(path, settings, prepare)
    cached = cached_preparation(path, settings, prepare)
    assert len(calls) == 1
    assert isinstance(cached.tokens, TokenTable)
    assert [cached.tokens[i] for i in range(len(cached.tokens))] == fresh.tokens
    assert cached.frame["smiles"].tolist() == fresh.frame["smiles"].tolist()
    assert cached.frame["logP"].astype(float).tolist() == fresh.frame["logP"].tolist()
    assert set(cached.frame["batch"]) == {"007"}  # labels keep their spelling
    assert cached.rejects["line"].tolist() == [202]

    cached_preparation(path, {**settings, "max_tokens": 50}, prepare)  # other settings: prepared again
    path.write_text(path.read_text().replace("not a molecule", "CCO"))  # changed file: prepared again
    cached_preparation(path, settings, prepare)
    assert len(calls) == 3
