"""The pretrained models that ship with the package: loadable by name, plain data, useful."""

import pytest
import torch

import molvae
from molvae.optimization import optimize
from molvae.optimization.predictors import PropertyHeadPredictor
from molvae.training.checkpoint import checkpoint_path


@pytest.mark.parametrize("name", ["bundled", "selfies", "property-head", "graph"])
def test_shipped_models_load_by_name_as_plain_data_and_sample_valid_molecules(name):
    torch.load(checkpoint_path(name), weights_only=True)
    frame = molvae.sample(molvae.load_model(name), 200, seed=0)
    assert frame["valid"].mean() >= 0.99
    assert frame.loc[frame["valid"], "smiles"].nunique() >= 195


def test_a_file_named_like_a_shipped_model_is_read_as_that_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bundled").write_text("not a model")
    with pytest.raises(molvae.MolvaeError, match="cannot read model file bundled"):
        molvae.load_model("bundled")


def test_the_property_head_model_predicts_and_climbs_its_properties():
    model = molvae.load_model("property-head")
    assert model.properties == ["logP", "QED", "SA"] and not model.conditions
    mu, _, _ = molvae.encode(model, ["CCCCCCCCCCc1ccccc1", "OCC(O)C(O)C(O)CO"])
    logp = PropertyHeadPredictor(model, "logP").predict(mu.numpy())[0]
    assert logp[0] > logp[1] + 2  # a greasy chain against a sugar alcohol
    result = optimize("QED", model, "gradient", budget=60, predictor="head", seed=0)
    assert result.summary["calls"] == 60
    assert result.top["score"].iloc[0] > 0.85


def test_the_graph_model_is_valid_without_redraws_and_decorates_a_held_out_scaffold():
    from rdkit import Chem

    model = molvae.load_model("graph")
    assert model.conditions.names == ["logP", "QED", "SA"] and model.training_data == "moses"
    frame = molvae.sample(model, 300, seed=1, redraw_invalid=False, properties=["QED"])
    assert frame["valid"].all() and frame.attrs["raw_validity"] == 1.0 and "novel" in frame
    scaffold = "O=C(NC1CCCC1)c1ccc2[nH]ccc2c1"
    decorated = molvae.sample(model, 100, seed=2, scaffold=scaffold, conditions={"logP": 3.0}, properties=False,
                              unique=False)
    query = Chem.MolFromSmiles(scaffold)
    assert decorated["valid"].all() and decorated["smiles"].nunique() >= 60  # the model's variety is benchmarked
    assert all(Chem.MolFromSmiles(s).HasSubstructMatch(query) for s in decorated["smiles"])
    assert all(Chem.MolFromSmiles(s).GetNumAtoms() > query.GetNumAtoms() for s in decorated["smiles"])
    distinct = molvae.sample(model, 100, seed=2, scaffold=scaffold, conditions={"logP": 3.0}, properties=False)
    assert distinct["valid"].all() and distinct["smiles"].is_unique and distinct.attrs["drawn"] > 100  # by default
    assert all(Chem.MolFromSmiles(s).HasSubstructMatch(query) for s in distinct["smiles"])
