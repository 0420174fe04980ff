"""Sampling a model whose strings can be invalid (SMILES): invalid draws are replaced, and counted."""

import torch

from molvae.chem.molecules import canonical_smiles
from molvae.generation.sampler import MAX_DRAWS, sample
from molvae.models.sequence import SequenceVAE
from molvae.representations import Vocabulary, get_representation


def untrained_smiles_model() -> SequenceVAE:
    """Random weights over a small SMILES alphabet: many of its strings do not parse."""
    torch.manual_seed(0)
    tokens = [get_representation("smiles").tokenize(s) for s in ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(Cl)cc1", "C#N"]]
    config = {"representation": "smiles", "embed_dim": 8, "encoder_hidden": 16, "decoder_hidden": 24,
              "latent_dim": 6, "max_length": 12}
    return SequenceVAE(config, Vocabulary.build(tokens)).eval()


def test_without_redrawing_the_first_draws_come_back_as_they_are():
    frame = sample(untrained_smiles_model(), 200, seed=1, redraw_invalid=False, properties=False)
    assert len(frame) == 200 and frame.attrs["drawn"] == 200
    assert 0 < frame["valid"].sum() < 200
    assert frame.attrs["raw_validity"] == frame["valid"].mean()


def test_invalid_draws_are_replaced_by_valid_molecules_and_every_draw_is_counted():
    model = untrained_smiles_model()
    first = sample(model, 200, seed=1, redraw_invalid=False)
    frame = sample(model, 200, seed=1)
    assert len(frame) == 200 and frame["valid"].sum() > first["valid"].sum()
    kept = first["valid"].to_numpy()
    assert frame[kept].equals(first[kept])  # valid first draws stay where they were
    for row in frame[frame["valid"]].itertuples():
        assert canonical_smiles(row.smiles) == row.smiles and row.MW > 0
    assert (frame.loc[~frame["valid"], "smiles"] == "").all()  # rows still invalid tell the truth
    assert 200 < frame.attrs["drawn"] <= MAX_DRAWS * 200
    assert frame["valid"].all() or frame.attrs["drawn"] == MAX_DRAWS * 200
    assert 0 < frame.attrs["raw_validity"] < frame["valid"].mean()
