"""The optimize subcommand: a small run end to end, and one-line errors for each bad input."""

import pandas as pd
import pytest

from molvae.cli.main import main


def run_cli(*args) -> int:
    return main([str(a) for a in args])


def test_optimize_writes_every_call_and_prints_the_top(tiny_run, tmp_path, capsys):
    out = tmp_path / "opt.csv"
    assert run_cli("optimize", "--objective", "QED", "--budget", 20, "--method", "bo", "--model", tiny_run["model"],
                   "--seed", 0, "--top", 3, "-o", out) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns[:5]) == ["call", "smiles", "score", "status", "source"]
    assert len(frame) == 20 and frame["call"].tolist() == list(range(1, 21)) and frame["smiles"].is_unique
    printed = capsys.readouterr().out
    assert "20 of 20 oracle calls for QED" in printed and "top 3:" in printed
    best = frame["score"].max()
    assert f"{best:10.4f}" in printed


def test_user_function_that_fails_on_some_molecules(tiny_run, tmp_path, monkeypatch, capsys):
    (tmp_path / "my_scores.py").write_text(
        "def score(smiles):\n"
        "    if 'N' in smiles:\n"
        "        raise ValueError('no nitrogen please')\n"
        "    return float('nan') if 'O' in smiles else len(smiles)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "u.csv"
    assert run_cli("optimize", "--objective", "my_scores:score", "--budget", 15, "--surrogate", "latent",
                   "--model", tiny_run["model"], "-o", out) == 0
    frame = pd.read_csv(out)
    assert len(frame) == 15
    failed = frame[frame["status"] == "oracle_error"]
    assert failed["smiles"].str.contains("N|O").all() and frame["score"].isna().sum() == len(failed)


def test_list_objectives(capsys):
    assert run_cli("optimize", "--list-objectives") == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"QED", "penalized_logP", "celecoxib_rediscovery", "deco_hop", "median2"} <= set(names)


@pytest.mark.parametrize("args,message", [
    (["--objective", "potency"], "unknown objective 'potency'; available: logP, QED"),
    (["--objective", "QED", "--budget", "0"], "budget must be a positive"),
    (["--objective", "QED", "--budget", "-5"], "budget must be a positive"),
    (["--objective", "QED", "--start", "CCO", "--min-similarity", "1.5"], "must be in [0, 1]"),
    (["--objective", "QED", "--start", "C1CC", "--min-similarity", "0.4"], "start molecule 'C1CC' is invalid"),
    (["--objective", "QED", "--min-similarity", "0.4"], "needs a start molecule"),
    (["--objective", ":score"], "must look like module:function"),
    (["--objective", "QED", "--batch-size", "-5"], "batch size must be positive"),
    (["--objective", "QED", "--top", "0"], "top-k must be positive"),
    (["--objective", "QED", "--method", "gradient", "--predictor", "head"], "this model has no property head"),
])
def test_bad_input_is_one_line(tiny_run, tmp_path, capsys, args, message):
    code = run_cli("optimize", *args, "--model", tiny_run["model"], "-o", tmp_path / "x.csv")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "x.csv").exists()
