"""The two pretrained models that ship with the package: loadable by name, plain data, useful."""

import pytest
import torch

import molvae
from molvae.optimization import optimize
from molvae.optimization.predictors import PropertyHeadPredictor
from molvae.training.checkpoint import checkpoint_path


@pytest.mark.parametrize("name", ["bundled", "selfies", "property-head"])
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
