"""Sampling a model whose strings can be invalid (SMILES): invalid draws are replaced, and counted."""

import pandas as pd
import pytest
import torch

from molvae.chem.molecules import canonical_smiles
from molvae.errors import MolvaeError
from molvae.generation.rows import RowBuilder
from molvae.generation.sampler import MAX_DRAWS, decode, sample
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


def test_a_model_samples_at_its_stored_temperature_unless_given_one():
    model = untrained_smiles_model()
    hot = sample(model, 100, seed=2, temperature=1.6, redraw_invalid=False, properties=False)
    plain = sample(model, 100, seed=2, redraw_invalid=False, properties=False)
    model.config["sampling_temperature"] = 1.6
    stored = sample(model, 100, seed=2, redraw_invalid=False, properties=False)
    assert model.sampling_temperature == 1.6 and stored["raw"].tolist() == hot["raw"].tolist()
    assert stored.attrs["temperature"] == 1.6 and plain.attrs["temperature"] == 1.0
    assert stored["raw"].tolist() != plain["raw"].tolist()
    given = sample(model, 100, seed=2, temperature=1.0, redraw_invalid=False, properties=False)
    assert given["raw"].tolist() == plain["raw"].tolist()
    z = torch.randn(50, model.latent_dim, generator=torch.Generator().manual_seed(0))
    decoded = [decode(model, z, greedy=False, temperature=t, properties=False,
                      generator=torch.Generator().manual_seed(1))["raw"].tolist() for t in (None, 1.6)]
    assert decoded[0] == decoded[1]


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


def reference_rows(raws, to_smiles):
    """The result rows as RDKit's own functions give them, one molecule at a time from its canonical SMILES."""
    from rdkit import Chem
    from rdkit.Chem import QED, Crippen, Descriptors

    from molvae.chem.molecules import validate
    from molvae.chem.properties import sa_score

    def rdkit_values(smiles):
        mol = Chem.MolFromSmiles(smiles)
        return {"logP": Crippen.MolLogP(mol), "QED": QED.qed(mol), "SA": sa_score(mol), "MW": Descriptors.MolWt(mol)}

    rows = []
    for raw in raws:
        check = validate(to_smiles(raw))
        values = rdkit_values(check.smiles) if check.valid else {}
        rows.append({"smiles": check.smiles, "raw": raw, "valid": check.valid,
                     **{k: round(values[k], 4) if values else float("nan") for k in ("logP", "QED", "SA", "MW")}})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("raw_format", ["smiles", "selfies"])
def test_parallel_rows_equal_the_one_at_a_time_values(moses_test_smiles, raw_format):
    import selfies

    raws = moses_test_smiles[:1500] * 2 + ["C1CC", "", "[Xe]([Xe])", "CC.O", "[Branch1]C"] * 20
    if raw_format == "selfies":
        raws = [selfies.encoder(s) if s in moses_test_smiles else s for s in raws]
    rep = get_representation(raw_format)
    to_smiles = lambda raw: rep.detokenize([raw])  # noqa: E731 - what SequenceVAE.to_smiles does
    builder = RowBuilder(raw_format, True, workers=2)
    for start in range(0, len(raws), 700):  # batches as the decoder hands them over
        builder.add(raws[start:start + 700])
    pd.testing.assert_frame_equal(builder.frame(), reference_rows(raws, to_smiles))


def test_property_columns_can_be_chosen_or_left_out(tmp_path, capsys):
    from molvae.cli.main import main

    model = untrained_smiles_model()
    assert list(sample(model, 20, seed=0, properties=["qed", "MW"]).columns) == ["smiles", "raw", "valid", "QED", "MW"]
    assert list(sample(model, 20, seed=0, properties=False).columns) == ["smiles", "raw", "valid"]
    with pytest.raises(MolvaeError, match="unknown property 'pIC50'"):
        sample(model, 20, seed=0, properties=["pIC50"])
    assert main(["sample", "-n", "30", "-o", str(tmp_path / "s.csv"), "--no-properties", "--seed", "1"]) == 0
    # the bundled model knows its training molecules and samples through its exemplar prior, so its
    # rows also say whether they are new and name their exemplar
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == ["smiles", "raw", "valid", "novel", "exemplar"]
    assert main(["sample", "-n", "30", "-o", str(tmp_path / "t.csv"), "--properties", "sa", "--seed", "1"]) == 0
    assert list(pd.read_csv(tmp_path / "t.csv").columns) == ["smiles", "raw", "valid", "novel", "SA", "exemplar"]
    capsys.readouterr()
    assert main(["sample", "-n", "5", "-o", str(tmp_path / "u.csv"), "--properties", "pIC50"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown property 'pIC50'" in err[0] and not (tmp_path / "u.csv").exists()
