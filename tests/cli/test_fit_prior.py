"""molvae fit-prior and sampling from a model's fitted prior."""

from pathlib import Path

import pandas as pd
import torch

import molvae
from molvae.chem.molecules import validate
from molvae.cli.main import main
from molvae.core.priors import ExemplarPrior
from molvae.generation.common import condition_matrix, seeded_generator
from molvae.generation.prior_fit import exemplar_batches
from molvae.optimization.run import designs_from
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
    assert "fitted 3-component mixture prior (400 molecules encoded, 0 skipped)" in capsys.readouterr().out
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
                                   "--prior", "mixture"), "no fitted mixture prior")
    assert not (tmp_path / "s.csv").exists()


def test_a_corrupt_prior_block_is_a_one_line_error(tiny_run, moses_train_file, tmp_path, capsys):
    data = torch.load(fitted(tiny_run, moses_train_file, tmp_path), weights_only=True)
    data["prior"]["weights"] = torch.tensor([0.9, 0.9, 0.9])
    broken = tmp_path / "broken.pt"
    torch.save(data, broken)
    capsys.readouterr()
    one_line_error(capsys, run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", broken), "prior is corrupt")


def exemplar_fitted(tiny_run, moses_train_file, tmp_path, spread: float = 1.0) -> str:
    out = tmp_path / f"exemplar_{spread}.pt"
    assert run_cli("fit-prior", tiny_run["model"], "--data", moses_train_file, "--kind", "exemplar",
                   "--spread", spread, "-o", out) == 0
    return str(out)


def exemplar_draw(model, n, conditions, generator):
    """``n`` exemplar draws, one batch."""
    (z, c, sources), = exemplar_batches(model, model.prior, n, conditions, generator)
    return z, c, sources


def test_exemplar_prior_decodes_the_posteriors_of_its_molecules_with_their_own_conditions(
        tiny_run, moses_train_file, tmp_path, capsys):
    path = exemplar_fitted(tiny_run, moses_train_file, tmp_path, spread=1e-6)
    assert "exemplar prior (2000 molecules of /" in capsys.readouterr().out
    model = molvae.load_model(path)
    assert model.prior.kind == "exemplar" and model.prior.data == str(Path(moses_train_file).resolve())
    z, c, sources = exemplar_draw(model, 30, {}, seeded_generator(3))
    picks = torch.randint(2000, (30,), generator=seeded_generator(3)).tolist()
    molecules = [pd.read_csv(moses_train_file)["SMILES"][i] for i in picks]
    mu, _, _ = molvae.encode(model, molecules)
    assert torch.allclose(z, mu, atol=1e-4)  # a vanishing spread leaves each molecule's posterior mean
    assert torch.allclose(c, condition_matrix(model, molecules))
    assert sources == [validate(s).smiles for s in molecules]
    _, fixed, _ = exemplar_draw(model, 30, {"logP": 2.0}, seeded_generator(3))
    assert torch.allclose(fixed[:, 1], c[:, 1]) and fixed[:, 0].unique().numel() == 1  # logP given, QED own
    first = molvae.sample(model, 40, seed=5, greedy=True)
    pd.testing.assert_frame_equal(first, molvae.sample(model, 40, seed=5, greedy=True))
    assert first["valid"].all() and set(first["exemplar"]) <= {validate(s).smiles for s in molecules} | set(
        validate(s).smiles for s in pd.read_csv(moses_train_file)["SMILES"])
    exemplars = first["exemplar"].tolist()
    decoded = molvae.decode(model, molvae.encode(model, exemplars)[0], condition_matrix(model, exemplars),
                            properties=False)
    assert (first["raw"] == decoded["raw"]).all()  # each row is its exemplar's code decoded (greedy, spread 0)
    batched = molvae.sample(model, 40, seed=5, greedy=True, batch_size=7)  # encoded batch by batch as decoded
    decoded = molvae.decode(model, molvae.encode(model, batched["exemplar"].tolist())[0],
                            condition_matrix(model, batched["exemplar"].tolist()), properties=False)
    assert len(batched) == 40 and (batched["raw"] == decoded["raw"]).all()
    assert run_cli("sample", "-n", 20, "-o", tmp_path / "s.csv", "--model", path, "--seed", 1) == 0
    assert "are the training molecule they started from (column exemplar)" in capsys.readouterr().out
    assert "exemplar" in pd.read_csv(tmp_path / "s.csv").columns


def test_exemplar_prior_bad_input_is_one_line_and_writes_nothing(tiny_run, moses_train_file, tmp_path, capsys):
    out = tmp_path / "out.pt"
    invalid = tmp_path / "invalid.smi"
    invalid.write_text("C1CC\nnot_a_molecule\n")
    one_line_error(capsys, run_cli("fit-prior", tiny_run["model"], "--data", invalid, "--kind", "exemplar",
                                   "-o", out), "cannot fit an exemplar prior")
    one_line_error(capsys, run_cli("fit-prior", tiny_run["model"], "--data", moses_train_file, "--kind", "exemplar",
                                   "--spread", 0, "-o", out), "spread must be positive")
    assert not out.exists()
    one_line_error(capsys, run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", tiny_run["model"],
                                   "--prior", "exemplar"), "no fitted exemplar prior")
    data = torch.load(exemplar_fitted(tiny_run, moses_train_file, tmp_path), weights_only=True)
    data["prior"]["data"] = str(tmp_path / "moved.csv")
    torch.save(data, tmp_path / "moved.pt")
    capsys.readouterr()
    one_line_error(capsys, run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", tmp_path / "moved.pt"),
                   "moved.csv")
    assert not (tmp_path / "s.csv").exists()


def test_optimisers_name_where_their_first_designs_come_from_not_the_fitted_prior(tiny_run):
    model = molvae.load_model(tiny_run["model"])
    model.prior = ExemplarPrior("moses", 1.2)  # sampling would use it; the optimisers start from N(0, I)
    for method in ("cvae", "bo", "gradient"):
        assert designs_from(model, method, None) == "the standard normal prior"
    assert designs_from(model, "bo", "CCO") == "the neighbourhood of the latent code of CCO"
