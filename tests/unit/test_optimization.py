"""Oracles, budget accounting, caching, deduplication, predictors and optimisers under small budgets."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import molvae
from molvae.errors import MolvaeError
from molvae.optimization import OracleBudget, auc_top_k, get_oracle, heldout_r2, make_predictor, optimize
from molvae.optimization.constraints import similarity_constraint
from molvae.optimization.gradient import ascend
from molvae.optimization.objectives import desirability, weighted_sum
from molvae.optimization.oracle import Oracle
from molvae.optimization.tasks import CELECOXIB, penalized_logp


class Counting:
    """An objective that counts its calls; raises on molecules with sulfur, NaN on chlorine."""

    def __init__(self):
        self.calls = []

    def __call__(self, smiles: str) -> float:
        self.calls.append(smiles)
        if "S" in smiles:
            raise RuntimeError("cannot score sulfur")
        if "Cl" in smiles:
            return math.nan
        return float(len(smiles))


def test_budget_counts_calls_caches_canonical_smiles_and_skips_invalid_and_duplicates():
    fn = Counting()
    budget = OracleBudget(Oracle("len", fn, takes_mol=False), budget=3)
    out = budget.evaluate(["OCC", "CCO", "C1CC", "", "CC.O", "c1ccccc1", "CCN", "CCCC"])
    assert [o.status for o in out] == ["evaluated", "duplicate", "invalid", "invalid", "invalid", "evaluated",
                                       "evaluated", "over_budget"]
    assert fn.calls == ["CCO", "c1ccccc1", "CCN"]  # canonical SMILES, each once
    assert budget.calls == 3 and budget.exhausted
    assert out[1].value == 3.0  # a duplicate returns the cached score without a call
    assert budget.failures == {"invalid": 3, "duplicate": 1}
    again = budget.evaluate(["C(C)O"])
    assert again[0].status == "duplicate" and len(fn.calls) == 3
    assert budget.history()["call"].tolist() == [1, 2, 3]


def test_a_failing_objective_is_a_counted_failure_and_the_run_goes_on(caplog):
    fn = Counting()
    budget = OracleBudget(Oracle("len", fn, takes_mol=False), budget=10)
    out = budget.evaluate(["CSC", "CCCl", "CCO"])
    assert [o.status for o in out] == ["oracle_error", "oracle_error", "evaluated"]
    assert budget.calls == 3 and budget.failures["oracle_error"] == 2
    assert "cannot score sulfur" in caplog.text
    assert budget.top(5)["smiles"].tolist() == ["CCO"]


def test_unknown_bo_surrogate_or_predictor_is_a_clear_error_before_the_model_loads():
    with pytest.raises(MolvaeError, match="unknown surrogate 'tree'; choose one of: fingerprint, latent"):
        optimize("QED", "no-such-model.pt", "bo", budget=10, surrogate="tree")
    with pytest.raises(MolvaeError, match="unknown predictor 'svm'; choose one of: gp, ridge, mlp, head"):
        optimize("QED", "no-such-model.pt", "gradient", budget=10, predictor="svm")


def test_budget_must_be_positive():
    with pytest.raises(MolvaeError, match="positive"):
        OracleBudget(get_oracle("QED"), 0)


def test_auc_top_k_follows_the_pmo_definition():
    assert auc_top_k(np.ones(1000), k=10, every=100) == pytest.approx(0.95)
    # stopping after 500 calls keeps the last value up to the budget
    assert auc_top_k(np.ones(500), k=10, every=100, max_calls=1000) == pytest.approx((50 + 400 + 500) / 1000)
    assert auc_top_k([np.nan] * 200, every=100) == 0.0


def test_builtin_oracles_score_their_targets():
    assert get_oracle("celecoxib_rediscovery")(CELECOXIB) == pytest.approx(1.0)
    assert get_oracle("albuterol_similarity")("CC(C)(C)NCC(O)c1ccc(O)c(CO)c1") == pytest.approx(1.0)
    assert get_oracle("isomers_c7h8n2o2")("Cc1ccc(N)cc1[N+](=O)[O-]") == pytest.approx(1.0)
    assert get_oracle("isomers_c7h8n2o2")("CCO") < 0.01
    assert 0 < get_oracle("median1")("CC(C)C1CCC(C)CC1O") < 1
    assert get_oracle("deco_hop")("CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C") == pytest.approx(0.5)
    assert get_oracle("SA").maximize is False
    # a large ring is penalised: cyclooctane scores below cyclohexane
    from rdkit import Chem
    assert penalized_logp(Chem.MolFromSmiles("C1CCCCCCC1")) < penalized_logp(Chem.MolFromSmiles("C1CCCCC1")) + 1


def test_unknown_objective_lists_the_available_ones():
    with pytest.raises(MolvaeError, match="available: logP, QED, SA") as err:
        get_oracle("potency")
    assert "celecoxib_rediscovery" in str(err.value)
    with pytest.raises(MolvaeError, match="cannot import"):
        get_oracle("no_such_module_xyz:score")


def test_combined_objectives():
    assert weighted_sum({"QED": 1.0, "MW": -0.01})("CCO") == pytest.approx(
        get_oracle("QED")("CCO") - 0.01 * get_oracle("MW")("CCO"))
    d = desirability({"MW": (500, 100)})("CCO")  # lower is better: MW 46 is fully desirable
    assert d == 1.0
    assert get_oracle("weighted:QED=1,SA=-0.1").name.startswith("weighted")
    with pytest.raises(MolvaeError, match="WORST..BEST"):
        get_oracle("desirability:QED=0.5")


def test_similarity_constraint_checks_delta_and_start():
    with pytest.raises(MolvaeError, match=r"\[0, 1\]"):
        similarity_constraint("CCO", 1.5)
    with pytest.raises(MolvaeError, match="invalid"):
        similarity_constraint("C1CC", 0.4)
    check = similarity_constraint("c1ccccc1CCO", 0.4)
    assert check("c1ccccc1CCCO") is None and check("CCCCCCCC") is not None


def test_predictors_report_heldout_r2_and_differentiable_means():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((120, 6))
    y = Z @ np.array([1.0, -2.0, 0.5, 0, 0, 0]) + 0.05 * rng.standard_normal(120)
    scores = heldout_r2(Z, y, kinds=("ridge", "gp", "mlp"))
    assert scores["ridge"] > 0.95 and scores["gp"] > 0.8 and scores["mlp"] > 0.7
    gp = make_predictor("gp").fit(Z, y)
    mean, std = gp.predict(Z[:5])
    assert np.allclose(gp.torch_mean(torch.as_tensor(Z[:5])).detach().numpy(), mean, atol=1e-4)
    assert (std >= 0).all()
    path = ascend(make_predictor("ridge").fit(Z, y), torch.zeros(2, 6), steps=30, lr=0.2, radius=1.0)
    assert path.shape == (30, 2, 6)
    assert float(path[-1].norm(dim=1).max()) <= 1.0 + 1e-5  # stays in the trust region
    assert float(make_predictor("ridge").fit(Z, y).torch_mean(path[-1]).min()) > 2.0  # and climbs


def test_tanimoto_kernel_matches_rdkit_and_the_fingerprint_gp_predicts_unseen_molecules(moses_test_smiles):
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator
    from sklearn.metrics import r2_score

    from molvae.chem.fingerprints import morgan_matrix
    from molvae.chem.properties import property_table
    from molvae.optimization.fingerprint_gp import FingerprintGP, TanimotoKernel

    smiles = moses_test_smiles[:400]
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles[:20]]
    expected = np.array([DataStructs.BulkTanimotoSimilarity(fp, fps) for fp in fps])
    X = morgan_matrix(smiles[:20])
    assert np.allclose(TanimotoKernel()(X), expected) and np.allclose(TanimotoKernel()(X[:3], X), expected[:3])
    logp = property_table(smiles, ("logP",))["logP"].to_numpy()
    gp = FingerprintGP(max_points=300).fit(smiles[:300], logp[:300])
    mean, std = gp.predict(smiles[300:])
    assert r2_score(logp[300:], mean) > 0.4 and (std > 0).all()


def test_fingerprint_bo_ranks_only_new_admissible_molecules(tiny_run):
    from molvae.optimization.session import LatentSession

    model = molvae.load_model(tiny_run["model"])
    budget = OracleBudget(get_oracle("logP"), 1000, [lambda s: "too long" if len(s) > 30 else None])
    session = LatentSession(model, budget, seed=0)
    session.propose(session.prior(20).numpy(), "initial")
    z, smiles = session.fresh(np.concatenate([np.stack(session.Z), session.prior(40).numpy()]))
    assert len(z) == len(smiles) > 0 and len(set(smiles)) == len(smiles)
    assert not set(smiles) & set(budget.cache) and all(len(s) <= 30 for s in smiles)
    known, y = budget.known()
    assert len(known) == len(set(known)) == len(y) == len(budget.cache)


def test_a_session_places_molecules_in_its_latent_space_and_leaves_out_those_it_cannot_encode(tiny_run):
    from molvae.optimization.session import LatentSession

    model = molvae.load_model(tiny_run["model"])
    budget = OracleBudget(get_oracle("logP"), 100)
    session = LatentSession(model, budget, seed=0, condition_values={"logP": 2.0, "QED": 0.7})
    session.propose(session.prior(10).numpy(), "initial")
    own = session.smiles[0]
    points = session.latent_points([own, "c1ccccc1O", "C[Te]C", "c1ccccc1O"])
    assert points.shape == (3, model.latent_dim)  # the tellurium molecule has no token in this model
    assert np.array_equal(points[0], session.Z[0])  # a molecule it decoded keeps the point it came from
    mu, _, _ = molvae.encode(model, ["c1ccccc1O"], {"logP": 2.0, "QED": 0.7})
    assert np.allclose(points[1], mu[0].numpy(), atol=1e-5) and np.array_equal(points[1], points[2])
    known, utilities = budget.known()
    assert sorted(known) == sorted(budget.cache) and len(utilities) == len(known)


@pytest.mark.parametrize("method,surrogate", [("bo", "fingerprint"), ("bo", "latent"), ("gradient", None),
                                              ("cvae", None)])
def test_every_method_respects_the_budget_and_only_scores_decoded_molecules(tiny_run, method, surrogate, tmp_path):
    model = molvae.load_model(tiny_run["model"])
    fn = Counting()
    result = optimize(Oracle("len", fn, takes_mol=False), model, method, budget=25, seed=1, out=tmp_path / "o.csv",
                      predictor="ridge", surrogate=surrogate or "fingerprint")
    history = pd.read_csv(tmp_path / "o.csv")
    assert 0 < len(history) <= 25 and len(fn.calls) == len(history) == result.summary["calls"]
    assert history["call"].tolist() == list(range(1, len(history) + 1))
    assert history["smiles"].is_unique


def test_invalid_decodes_are_never_replaced_by_dataset_molecules(tiny_run, monkeypatch, caplog):
    model = molvae.load_model(tiny_run["model"])
    monkeypatch.setattr(model, "generate", lambda z, *a, **k: ["[Xe]("] * len(z))  # nothing decodes
    fn = Counting()
    result = optimize(Oracle("len", fn, takes_mol=False), model, "bo", budget=20, seed=0)
    assert fn.calls == [] and result.summary["calls"] == 0 and result.history.empty
    assert result.summary["failed_invalid"] > 0
    assert "stopped early" in caplog.text


def test_interrupted_run_still_writes_what_it_evaluated(tiny_run, tmp_path):
    model = molvae.load_model(tiny_run["model"])
    seen = []

    def interrupt_after_five(smiles: str) -> float:
        if len(seen) == 5:
            raise KeyboardInterrupt
        seen.append(smiles)
        return 1.0

    out = tmp_path / "partial.csv"
    with pytest.raises(KeyboardInterrupt):
        optimize(interrupt_after_five, model, "bo", budget=50, seed=0, out=out)
    assert pd.read_csv(out)["smiles"].tolist() == seen


def test_constrained_run_only_scores_similar_molecules(tiny_run):
    from rdkit import Chem

    from molvae.chem.fingerprints import tanimoto

    model = molvae.load_model(tiny_run["model"])
    start = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
    result = optimize("logP", model, "bo", budget=15, start=start, min_similarity=0.3, seed=0)
    ref = Chem.MolFromSmiles(start)
    for smiles in result.history["smiles"]:
        assert tanimoto(Chem.MolFromSmiles(smiles), ref) >= 0.3 or smiles == Chem.MolToSmiles(ref)


def test_property_head_trains_jointly_and_reloads(moses_train_file, tmp_path):
    from molvae.optimization import train_property_model
    from molvae.optimization.predictors import PropertyHeadPredictor
    from molvae.training.trainer import TrainConfig

    config = TrainConfig(epochs=1, max_steps=6, batch_size=32, diagnostic_molecules=10, show_progress=False,
                         device="cpu", seed=0)
    summary = train_property_model(moses_train_file, tmp_path, ["logP", "id"], limit=300, train_config=config,
                                   model_config={"embed_dim": 16, "encoder_hidden": 32, "decoder_hidden": 32,
                                                 "latent_dim": 8})
    assert set(summary["property_r2"]) == {"logP", "id"}  # a built-in property and a user CSV column
    model = molvae.load_model(tmp_path / "last.pt")
    assert model.properties == ["logP", "id"]
    mu, _, _ = molvae.encode(model, ["CCOc1ccccc1"])
    predicted = PropertyHeadPredictor(model, "logP").predict(mu.numpy())[0]
    assert predicted.shape == (1,) and np.isfinite(predicted).all()
    assert molvae.sample(model, 5, seed=0)["smiles"].shape == (5,)

    # gradient ascent on the head itself: no predictor to fit, the oracle still scores every molecule
    result = optimize("logP", model, "gradient", budget=12, initial=4, predictor="head", seed=0)
    assert 0 < result.summary["calls"] <= 12
    assert "gradient-head" in set(result.history["source"])
    with pytest.raises(MolvaeError, match="the model's head predicts logP, id, not 'QED'"):
        optimize("QED", model, "gradient", budget=12, predictor="head")
    with pytest.raises(MolvaeError, match="this model has no property head"):
        optimize("logP", molvae.load_model(), "gradient", budget=12, predictor="head")


def test_objective_names_ignore_case_and_unknown_ones_get_a_suggestion():
    assert get_oracle("qed").name == "QED" and get_oracle("LOGP").name == "logP"
    with pytest.raises(MolvaeError, match="unknown objective 'QDE'; did you mean 'QED'\\?"):
        get_oracle("QDE")
