"""Training end to end: overfitting, checkpoints, resume, rejects, reproducible sampling."""

import csv

import pandas as pd
import pytest
import torch

import molvae
from molvae import TrainConfig, load_model, sample, train
from molvae.errors import MolvaeError
from molvae.models.sequence import SequenceVAE
from molvae.representations import Vocabulary, get_representation
from molvae.training.checkpoint import FORMAT_VERSION, read_checkpoint, save_checkpoint
from molvae.training.dataset import Dataset
from molvae.training.diagnostics import reconstruction_accuracy
from molvae.training.trainer import Trainer


def test_tiny_model_overfits_50_molecules(moses_test_smiles, tmp_path):
    smiles = [molvae.chem.canonical_smiles(s) for s in moses_test_smiles[:50]]
    rep = get_representation("smiles")
    vocab = Vocabulary.build(rep.tokenize(s) for s in smiles)
    model = SequenceVAE({"representation": "smiles", "embed_dim": 32, "encoder_hidden": 128,
                         "decoder_hidden": 256, "latent_dim": 32, "word_dropout": 0.0}, vocab)
    data = Dataset([model.featurizer.featurize(s) for s in smiles], None, smiles)
    repeated = Dataset(data.items * 10, None, data.smiles * 10)  # 10 steps of 50 per epoch
    config = TrainConfig(epochs=30, batch_size=50, bucket_by_length=False, lr=3e-3, warmup_steps=10, beta=0.01,
                         beta_schedule="constant", patience=None, diagnostic_molecules=0, show_progress=False,
                         device="cpu")
    Trainer(model, repeated, data, config, tmp_path).fit()
    assert reconstruction_accuracy(model.eval(), data, limit=50) == 1.0


def test_run_folder_has_checkpoints_config_and_metrics(tiny_run):
    run = tiny_run["dir"]
    for name in ("last.pt", "best.pt", "config.json", "metrics.csv", "kl_per_dim.csv", "rejects.csv"):
        assert (run / name).exists(), name
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len(rows) == 1
    for column in ("val_recon", "val_kl", "active_units", "recon_accuracy", "prior_validity", "prior_uniqueness"):
        assert rows[0][column] != ""
    kl_row = next(csv.DictReader((run / "kl_per_dim.csv").open()))
    assert len(kl_row) == 1 + 16


def test_config_json_is_the_typed_run_configuration(tiny_run):
    import json
    from pathlib import Path

    from molvae.training import RunConfig

    written = json.loads((tiny_run["dir"] / "config.json").read_text())
    run = RunConfig.from_dict(written)
    assert run.to_dict() == written
    assert isinstance(run.train, TrainConfig) and run.train.batch_size == written["train"]["batch_size"]
    assert run.conditions == ["logP", "QED"] and run.counts["train"] > 0
    assert run.model_config["latent_dim"] == 16  # the full model configuration, defaults filled in
    campaign = Path(__file__).parents[2] / "training" / "campaign" / "phase1" / "config.json"
    older = RunConfig.from_dict(json.loads(campaign.read_text()))
    assert older.model_config["representation"] == "smiles" and older.train.beta == 0.5


def test_checkpoint_is_plain_data(tiny_run):
    data = torch.load(tiny_run["model"], weights_only=True)
    assert data["format_version"] == FORMAT_VERSION
    assert {"config", "vocabulary", "conditions", "state_dict", "model_name"} <= set(data)
    assert set(data["conditions"]["continuous"]) == {"logP", "QED"}


def test_reload_gives_identical_samples_under_the_same_seed(tiny_run, tmp_path):
    model = load_model(tiny_run["model"])
    first = sample(model, 64, seed=7)
    copy = save_checkpoint(tmp_path / "copy.pt", model)
    second = sample(load_model(copy), 64, seed=7)
    pd.testing.assert_frame_equal(first, second)
    assert not sample(model, 64, seed=8)["raw"].equals(first["raw"])


def test_samples_are_validated_and_invalid_rows_kept(tiny_run):
    frame = sample(tiny_run["model"], 100, seed=0)
    assert list(frame.columns[:8]) == ["smiles", "raw", "valid", "novel", "logP", "QED", "SA", "MW"]
    assert len(frame) == 100
    for _, row in frame.iterrows():
        assert row["valid"] == bool(row["smiles"])
        canonical = bool(row["smiles"]) and molvae.chem.canonical_smiles(row["smiles"]) == row["smiles"]
        assert row["valid"] == canonical


def test_resume_continues_where_the_run_stopped(tiny_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run)
    first_step = tiny_run["summary"]["step"]
    summary = train(None, run, train_config=TrainConfig(epochs=2, show_progress=False), resume=True)
    assert summary["epoch"] == 2 and summary["step"] == 2 * first_step
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]


def test_fine_tuning_starts_from_the_checkpoint_and_keeps_its_vocabulary(tiny_run, tmp_path):
    start = read_checkpoint(tiny_run["model"])
    data = tmp_path / "data.csv"
    # [Se]: no such token in the start model
    data.write_text("smiles\n" + "CCO\nc1ccccc1O\nCC(=O)N\n" * 10 + "CC[Se]C\n")
    train(data, tmp_path / "run", init_from=tiny_run["model"],
                    train_config=TrainConfig(epochs=1, lr=1e-9, warmup_steps=1, show_progress=False,
                                             diagnostic_molecules=5, device="cpu"))
    tuned = read_checkpoint(tmp_path / "run" / "last.pt")
    assert tuned["vocabulary"] == start["vocabulary"] and tuned["config"] == start["config"]
    assert tuned["conditions"]["continuous"] == start["conditions"]["continuous"]
    counts = tuned["metadata"]["counts"]
    assert counts["train"] + counts["validation"] == 30  # the selenium molecule is skipped
    moved = max((tuned["state_dict"][k] - v).abs().max().item() for k, v in start["state_dict"].items())
    assert moved < 1e-3  # a vanishing learning rate leaves the starting weights (not a fresh initialisation)


def test_fine_tuning_may_change_word_dropout_but_not_the_architecture(tiny_run, tmp_path, moses_train_file):
    quick = TrainConfig(epochs=1, lr=1e-9, warmup_steps=1, show_progress=False, diagnostic_molecules=5, device="cpu")
    start = read_checkpoint(tiny_run["model"])
    train(moses_train_file, tmp_path / "run", init_from=tiny_run["model"], model_config={"word_dropout": 0.0},
          train_config=quick, limit=200)
    tuned = read_checkpoint(tmp_path / "run" / "last.pt")["config"]
    assert tuned == {**start["config"], "word_dropout": 0.0}
    wider = start["config"]["latent_dim"] * 2
    with pytest.raises(MolvaeError, match=f"--latent-dim {wider} differs from the start model's"):
        train(moses_train_file, tmp_path / "other", init_from=tiny_run["model"], model_config={"latent_dim": wider},
              train_config=quick)
    assert not (tmp_path / "other" / "last.pt").exists()


def test_fine_tuning_may_switch_on_the_graph_action_encoder_which_starts_without_a_say(moses_train_file,
                                                                                       moses_test_smiles, tmp_path):
    quick = TrainConfig(epochs=1, batch_size=32, lr=1e-9, warmup_steps=1, show_progress=False,
                        diagnostic_molecules=5, device="cpu")
    small = {"embed_dim": 16, "encoder_hidden": 32, "encoder_layers": 2, "decoder_hidden": 48, "latent_dim": 8,
             "key_dim": 16}
    train(moses_train_file, tmp_path / "start", model="graph", model_config=small, train_config=quick, limit=96)
    train(moses_train_file, tmp_path / "tuned", init_from=tmp_path / "start" / "last.pt",
          model_config={"action_encoder": True}, train_config=quick, limit=96)
    start, tuned = load_model(tmp_path / "start" / "last.pt"), load_model(tmp_path / "tuned" / "last.pt")
    assert tuned.config["action_encoder"] and not start.config["action_encoder"]
    before, after = molvae.encode(start, moses_test_smiles[:20]), molvae.encode(tuned, moses_test_smiles[:20])
    for a, b in zip(before[:2], after[:2], strict=True):  # q(z|G) as before: the new reader starts with no say
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    assert sample(tuned, 20, seed=0, properties=False)["valid"].all()
    with pytest.raises(MolvaeError, match="cannot remove"):
        train(moses_train_file, tmp_path / "back", init_from=tmp_path / "tuned" / "last.pt",
              model_config={"action_encoder": False}, train_config=quick, limit=96)
    with pytest.raises(MolvaeError, match="option of the graph model"):
        train(moses_train_file, tmp_path / "seq", model_config={"action_encoder": True}, train_config=quick, limit=96)


def test_ctrl_c_saves_the_finished_steps_for_resume(moses_train_file, tmp_path, monkeypatch):
    real_step = Trainer._step

    def interrupted_at_step_4(self, batch, beta):
        if self.state["step"] == 3:
            raise KeyboardInterrupt
        return real_step(self, batch, beta)

    monkeypatch.setattr(Trainer, "_step", interrupted_at_step_4)
    small = {"decoder_hidden": 32, "encoder_hidden": 32}
    with pytest.raises(KeyboardInterrupt):
        train(moses_train_file, tmp_path, model_config=small, limit=300,
              train_config=TrainConfig(epochs=2, batch_size=32, show_progress=False, diagnostic_molecules=5))
    assert read_checkpoint(tmp_path / "last.pt")["trainer"]["progress"]["step"] == 3
    monkeypatch.setattr(Trainer, "_step", real_step)
    summary = train(None, tmp_path, train_config=TrainConfig(epochs=1, show_progress=False), resume=True)
    assert summary["epoch"] == 1 and summary["step"] > 3


def _small_trainer(smiles, run_dir, **config):
    rep = get_representation("smiles")
    vocab = Vocabulary.build(rep.tokenize(s) for s in smiles)
    torch.manual_seed(0)
    model = SequenceVAE({"representation": "smiles", "embed_dim": 16, "encoder_hidden": 32, "decoder_hidden": 32,
                         "latent_dim": 8, "word_dropout": 0.3}, vocab)
    data = Dataset([model.featurizer.featurize(s) for s in smiles], None, smiles)
    settings = {"epochs": 2, "batch_size": 16, "warmup_steps": 2, "beta_warmup_steps": 5, "patience": None,
                "diagnostic_molecules": 0, "show_progress": False, "device": "cpu", **config}
    return Trainer(model, data, Dataset(data.items[:16], None, smiles[:16]), TrainConfig(**settings), run_dir)


def test_resume_inside_an_epoch_takes_exactly_the_uninterrupted_steps(moses_test_smiles, tmp_path, monkeypatch):
    smiles = [molvae.chem.canonical_smiles(s) for s in moses_test_smiles[:160]]  # 10 batches an epoch
    straight = _small_trainer(smiles, tmp_path / "straight")
    straight.fit()
    real_step = Trainer._step

    def interrupted_at_step_14(self, batch, beta):
        if self.state["step"] == 14:
            raise KeyboardInterrupt
        return real_step(self, batch, beta)

    monkeypatch.setattr(Trainer, "_step", interrupted_at_step_14)
    with pytest.raises(KeyboardInterrupt):
        _small_trainer(smiles, tmp_path / "split").fit()
    saved = read_checkpoint(tmp_path / "split" / "last.pt")
    assert saved["trainer"]["progress"]["epoch"] == 1 and saved["trainer"]["progress"]["batch"] == 4
    monkeypatch.setattr(Trainer, "_step", real_step)
    resumed = _small_trainer(smiles, tmp_path / "split")
    resumed.resume(saved)
    summary = resumed.fit()
    assert summary["step"] == straight.state["step"] == 20 and summary["epoch"] == 2
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name


def test_checkpoint_minutes_saves_inside_an_epoch(moses_test_smiles, tmp_path, monkeypatch):
    smiles = [molvae.chem.canonical_smiles(s) for s in moses_test_smiles[:160]]
    trainer = _small_trainer(smiles, tmp_path, epochs=1, checkpoint_minutes=1e-9, max_steps=7)
    saves = []
    real_save = Trainer._save
    monkeypatch.setattr(Trainer, "_save", lambda self, name, with_trainer_state: (
        saves.append((name, self.state["batch"])), real_save(self, name, with_trainer_state)))
    trainer.fit()
    assert [b for name, b in saves if name == "last.pt"][:6] == [1, 2, 3, 4, 5, 6]
    progress = read_checkpoint(tmp_path / "last.pt")["trainer"]["progress"]
    assert progress["step"] == 7 and progress["batch"] == 7 and progress["epoch"] == 0  # stopped inside epoch 1
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert float(rows[-1]["epoch"]) == 0.7


def test_bounded_by_steps_and_saves_on_stop(moses_train_file, tmp_path):
    summary = train(moses_train_file, tmp_path, model_config={"decoder_hidden": 32, "encoder_hidden": 32},
                    train_config=TrainConfig(epochs=5, max_steps=3, show_progress=False, diagnostic_molecules=10),
                    limit=300)
    assert summary["step"] == 3 and "3 steps" in summary["stop_reason"]
    assert (tmp_path / "last.pt").exists()


def test_invalid_training_molecules_are_skipped_counted_and_written(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("smiles,label\nCCO,a\nC1CC,b\n,c\nc1ccccc1,d\nCC[Se]CC(=O)O,e\nCC.O,f\n" + "CCN,g\n" * 20)
    summary = train(path, tmp_path / "run", model_config={"decoder_hidden": 32, "encoder_hidden": 32,
                                                          "representation": "smiles"},
                    train_config=TrainConfig(epochs=1, show_progress=False, diagnostic_molecules=5))
    rejects = pd.read_csv(tmp_path / "run" / "rejects.csv")
    assert rejects["line"].tolist() == [3, 4, 7]
    assert "RDKit" in rejects["reason"].iloc[0] and "empty" in rejects["reason"].iloc[1]
    assert "fragment" in rejects["reason"].iloc[2]
    assert summary["epoch"] == 1


def test_a_file_with_no_usable_molecule_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.smi"
    path.write_text("C1CC\nxyz\n")
    with pytest.raises(MolvaeError, match="no usable molecules"):
        train(path, tmp_path / "run", train_config=TrainConfig(epochs=1, show_progress=False))


def test_unknown_condition_for_training_lists_choices(moses_train_file, tmp_path):
    with pytest.raises(MolvaeError, match="neither a column of the data nor a built-in property"):
        train(moses_train_file, tmp_path, conditions=["pIC50"], limit=10)


def test_corrupt_and_foreign_checkpoints_fail_with_one_line(tmp_path, tiny_run):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(MolvaeError, match="not a molvae checkpoint or corrupt"):
        read_checkpoint(bad)
    data = torch.load(tiny_run["model"], weights_only=True)
    data["format_version"] = 999
    torch.save(data, tmp_path / "future.pt")
    with pytest.raises(MolvaeError, match="format version 999"):
        load_model(tmp_path / "future.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(MolvaeError, match="not a molvae checkpoint"):
        load_model(tmp_path / "other.pt")


def test_the_elbo_is_reproducible_and_the_importance_weighted_bound_is_at_least_it(tiny_run, moses_test_smiles):
    from molvae.evaluation import importance_weighted_bound
    from molvae.generation.common import condition_matrix
    from molvae.training.diagnostics import evaluate_model

    model = load_model(tiny_run["model"])
    smiles = [molvae.chem.canonical_smiles(s) for s in moses_test_smiles[2000:2040]]
    data = Dataset([model.featurizer.featurize(s) for s in smiles], condition_matrix(model, smiles), smiles)
    generator = torch.Generator().manual_seed(0)
    iwae = importance_weighted_bound(model, data, k=50, generator=generator)
    torch.manual_seed(5)
    elbo = -evaluate_model(model, data, diagnostic_molecules=0)["val_neg_elbo"]
    after = torch.rand(3)
    torch.manual_seed(5)
    torch.rand(100)  # another history of the global random stream gives the same figures and leaves it alone
    assert -evaluate_model(model, data, diagnostic_molecules=0)["val_neg_elbo"] == elbo
    torch.manual_seed(5)
    assert torch.equal(torch.rand(3), after)
    assert iwae.shape == (40,) and torch.isfinite(iwae).all()
    assert iwae.mean().item() >= elbo - 0.5


def test_a_vamp_prior_model_trains_samples_from_its_prior_and_its_elbo_stays_a_bound(
        moses_train_file, moses_test_smiles, tiny_run, tmp_path, capsys):
    from molvae.cli.main import main
    from molvae.evaluation import importance_weighted_bound
    from molvae.training.diagnostics import evaluate_model

    config = TrainConfig(epochs=1, batch_size=64, beta_warmup_steps=20, warmup_steps=5, free_bits=0.05,
                         diagnostic_molecules=50, show_progress=False, seed=0, device="cpu")
    train(moses_train_file, tmp_path, model_config={"embed_dim": 32, "encoder_hidden": 64, "decoder_hidden": 96,
                                                    "latent_dim": 16, "prior": "vamp", "prior_components": 8},
          train_config=config, limit=1000)
    assert read_checkpoint(tmp_path / "last.pt")["state_dict"]["vamp.pseudo_inputs"].shape == (8, 128)
    model = load_model(tmp_path / "last.pt")
    assert model.prior.kind == "vamp" and model.prior.components == 8
    pd.testing.assert_frame_equal(sample(model, 30, seed=2), sample(model, 30, seed=2, prior="vamp"))
    assert not sample(model, 30, seed=2)["raw"].equals(sample(model, 30, seed=2, prior="standard")["raw"])

    smiles = [molvae.chem.canonical_smiles(s) for s in moses_test_smiles[2000:2040]]
    data = Dataset([model.featurizer.featurize(s) for s in smiles], None, smiles)
    model.train()
    out = model(model.featurizer.collate(data.items[:8], None))
    (out["recon_nll"].mean() + out["kl"].mean()).backward()
    assert model.vamp.pseudo_inputs.grad.abs().sum() > 0  # the prior is learned with the model
    iwae = importance_weighted_bound(model, data, k=50, generator=torch.Generator().manual_seed(0))
    elbo = -evaluate_model(model, data, diagnostic_molecules=0)["val_neg_elbo"]
    assert torch.isfinite(iwae).all() and iwae.mean().item() >= elbo - 0.5

    assert main(["sample", "-n", "10", "-o", str(tmp_path / "s.csv"), "--model", str(tmp_path / "last.pt")]) == 0
    assert "learned 8-component VampPrior" in capsys.readouterr().out
    code = main(["sample", "-n", "10", "-o", str(tmp_path / "t.csv"), "--prior", "vamp", "--model", tiny_run["model"]])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not trained with a VampPrior" in err[0]
    assert not (tmp_path / "t.csv").exists()
