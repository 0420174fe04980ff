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


def test_an_interrupted_run_resumes_to_the_same_calls_without_asking_the_oracle_again(tiny_run, tmp_path, capsys,
                                                                                       monkeypatch):
    from molvae.optimization.budget import OracleBudget

    command = ["optimize", "--objective", "QED", "--budget", 40, "--model", tiny_run["model"], "--seed", 3,
               "--batch-size", 10]
    full, broken = tmp_path / "full.csv", tmp_path / "broken.csv"
    assert run_cli(*command, "-o", full) == 0
    real_call, asked, stop_at = OracleBudget._call, [], [16]

    def interrupted(self, smiles):
        if smiles not in self.answers:
            asked.append(smiles)
            if len(asked) == stop_at[0]:
                raise KeyboardInterrupt  # Ctrl-C while the oracle works on call 16
        return real_call(self, smiles)

    monkeypatch.setattr(OracleBudget, "_call", interrupted)
    assert run_cli(*command, "-o", broken) == 130
    assert len(pd.read_csv(broken)) == 15  # every paid-for call is on disk
    asked.clear()
    stop_at[0] = 0  # no more interruptions
    capsys.readouterr()
    assert run_cli("optimize", "--resume", broken) == 0
    assert "15 of them answered from the interrupted run" in capsys.readouterr().out
    assert len(asked) == 25 and not set(asked) & set(pd.read_csv(full)["smiles"][:15])  # none asked twice
    pd.testing.assert_frame_equal(pd.read_csv(broken), pd.read_csv(full))


def test_bad_resumes_are_one_line_errors_and_leave_the_file_alone(tiny_run, tmp_path, capsys):
    out = tmp_path / "run.csv"
    assert run_cli("optimize", "--objective", "QED", "--budget", 12, "--model", tiny_run["model"], "-o", out) == 0
    other = tmp_path / "other.csv"
    other.write_text("smiles\nCCO\n")
    before = out.read_bytes()
    for args, message in [
        (["--resume", out], "already holds all 12 oracle calls"),
        (["--resume", other], "not the output of molvae optimize"),
        (["--resume", tmp_path / "missing.csv"], "not found"),
    ]:
        assert run_cli("optimize", *args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert out.read_bytes() == before
    frame = pd.read_csv(out)
    frame.head(5).to_csv(out, index=False)  # as if the run had stopped after 5 calls
    for args, message in [(["--seed", 7], "the run used --seed 0, not 7"),
                          (["--objective", "logP"], "the run optimised QED, not logP")]:
        assert run_cli("optimize", "--resume", out, *args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_several_models_search_together_only_where_they_can(tiny_run, tmp_path, capsys):
    out = tmp_path / "x.csv"
    two = ["--model", tiny_run["model"], tiny_run["model"]]
    for extra in (["--start", "CCO"], ["--method", "gradient"], ["--surrogate", "latent"]):
        assert run_cli("optimize", "--objective", "QED", *two, *extra, "-o", out) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "several models search together only with method bo" in err[0], err
    assert not out.exists()
