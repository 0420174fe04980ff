"""molvae fit-prior and sampling from a model's fitted prior."""

import pandas as pd
import torch

import molvae
from molvae.cli.main import main
from molvae.training.checkpoint import read_checkpoint


def run_cli(*args) -> int:
    return main([str(a) for a in args])


def one_line_error(capsys, code: int, message: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "error:" in err[0] and message in err[0], err


def fitted(tiny_run, moses_train_file, tmp_path) -> str:
    out = tmp_path / "fitted.pt"
    assert run_cli("fit-prior", tiny_run["model"], "--data", moses_train_file, "--limit", 400,
                   "--components", 3, "-o", out) == 0
    return str(out)


def test_fit_prior_writes_a_model_whose_samples_come_from_the_mixture(tiny_run, moses_train_file, tmp_path, capsys):
    path = fitted(tiny_run, moses_train_file, tmp_path)
    assert "fitted a 3-component prior to 400 molecules (0 skipped)" in capsys.readouterr().out
    data = torch.load(path, weights_only=True)
    assert data["prior"]["kind"] == "mixture" and data["prior"]["means"].shape == (3, 16)
    model = molvae.load_model(path)
    assert model.prior.kind == "mixture" and model.prior.info["molecules"] == 400
    first = molvae.sample(model, 50, seed=4)
    pd.testing.assert_frame_equal(first, molvae.sample(model, 50, seed=4))
    original = molvae.load_model(tiny_run["model"])
    standard = molvae.sample(model, 50, seed=4, prior="standard")
    pd.testing.assert_frame_equal(standard, molvae.sample(original, 50, seed=4))  # the override is N(0, I)
    assert not first["raw"].equals(standard["raw"])
    assert read_checkpoint(tiny_run["model"]).get("prior", {}).get("kind") == "standard"  # input left alone


def test_sample_command_says_which_prior_it_used(tiny_run, moses_train_file, tmp_path, capsys):
    path = fitted(tiny_run, moses_train_file, tmp_path)
    capsys.readouterr()
    assert run_cli("sample", "-n", 20, "-o", tmp_path / "s.csv", "--model", path) == 0
    assert "fitted 3-component mixture prior" in capsys.readouterr().out
    assert run_cli("sample", "-n", 20, "-o", tmp_path / "s.csv", "--model", path, "--prior", "standard") == 0
    assert "standard normal prior" in capsys.readouterr().out


def test_fit_prior_bad_input_is_one_line_and_writes_nothing(tiny_run, tmp_path, capsys):
    out = tmp_path / "out.pt"
    empty = tmp_path / "empty.smi"
    empty.write_text("")
    code = run_cli("fit-prior", tiny_run["model"], "--data", empty, "-o", out)
    assert code == 2 and "error:" in capsys.readouterr().err
    invalid = tmp_path / "invalid.smi"
    invalid.write_text("C1CC\nnot_a_molecule\nXx\n")
    one_line_error(capsys, run_cli("fit-prior", tiny_run["model"], "--data", invalid, "-o", out),
                   "cannot fit a prior")
    assert not out.exists()
    one_line_error(capsys, run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", tiny_run["model"],
                                   "--prior", "mixture"), "no fitted prior")
    assert not (tmp_path / "s.csv").exists()


def test_a_corrupt_prior_block_is_a_one_line_error(tiny_run, moses_train_file, tmp_path, capsys):
    data = torch.load(fitted(tiny_run, moses_train_file, tmp_path), weights_only=True)
    data["prior"]["weights"] = torch.tensor([0.9, 0.9, 0.9])
    broken = tmp_path / "broken.pt"
    torch.save(data, broken)
    capsys.readouterr()
    one_line_error(capsys, run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", broken), "prior is corrupt")
