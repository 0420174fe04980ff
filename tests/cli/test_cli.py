"""The molvae command: contracts of each subcommand and one-line errors for user mistakes."""

import subprocess
import sys

import pandas as pd
import pytest

import molvae
from molvae.cli.main import main


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def one_line_error(capsys, code: int, message: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "error:" in err[0] and message in err[0], err


def test_sample_writes_the_documented_columns_and_grid(tiny_run, tmp_path, capsys):
    out, grid = tmp_path / "s.csv", tmp_path / "s.png"
    assert run_cli("sample", "-n", 40, "-o", out, "--model", tiny_run["model"], "--seed", 3,
                   "--temperature", 0.8, "--condition", "logP=2.5", "--grid", grid) == 0
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["smiles", "raw", "valid", "novel", "logP", "QED", "SA", "MW", "target_logP"]
    assert len(frame) == 40 and grid.read_bytes()[:4] == b"\x89PNG"
    assert "wrote 40 samples" in capsys.readouterr().out


def test_sample_with_the_same_seed_is_reproducible(tiny_run, tmp_path):
    for name in ("a.csv", "b.csv"):
        run_cli("sample", "-n", 30, "-o", tmp_path / name, "--model", tiny_run["model"], "--seed", 11)
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


def test_encode_decode_reconstruct_interpolate(tiny_run, tmp_path, capsys):
    model = tiny_run["model"]
    src = tmp_path / "in.csv"
    src.write_text("SMILES,name\nCCOc1ccccc1,a\nCC(=O)Nc1ccc(O)cc1,b\n")
    assert run_cli("encode", "-i", src, "-o", tmp_path / "z.csv", "--model", model) == 0
    latent = pd.read_csv(tmp_path / "z.csv")
    assert latent["name"].tolist() == ["a", "b"] and "mu_15" in latent and "logvar_0" in latent
    assert run_cli("decode", "-i", tmp_path / "z.csv", "-o", tmp_path / "d.csv", "--model", model) == 0
    decoded = pd.read_csv(tmp_path / "d.csv")
    assert len(decoded) == 2 and decoded["name"].tolist() == ["a", "b"]
    assert run_cli("reconstruct", "-i", src, "-o", tmp_path / "r.csv", "--model", model) == 0
    rebuilt = pd.read_csv(tmp_path / "r.csv")
    assert rebuilt["input"].tolist() == ["CCOc1ccccc1", "CC(=O)Nc1ccc(O)cc1"] and rebuilt["name"].tolist() == ["a", "b"]
    assert set(rebuilt["match"]) <= {True, False}
    assert run_cli("interpolate", "CCO", "c1ccccc1O", "--steps", 6, "--method", "linear",
                   "-o", tmp_path / "i.csv", "--model", model) == 0
    path = pd.read_csv(tmp_path / "i.csv")
    assert path["step"].tolist() == list(range(6)) and path["t"].iloc[-1] == 1.0


def test_train_command_writes_a_run_folder(moses_train_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli("train", "--data", moses_train_file, "--limit", 200, "-o", out, "--max-steps", 2,
                   "--batch-size", 64, "--decoder-hidden", 32, "--encoder-hidden", 32, "--no-progress") == 0
    assert {"last.pt", "config.json", "metrics.csv", "rejects.csv"} <= {p.name for p in out.iterdir()}
    assert "stopped after epoch 0.667, step 2 (reached 2 steps)" in capsys.readouterr().out  # 2 of 3 batches


def test_train_with_a_property_head_reports_its_r2(moses_train_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli("train", "--data", moses_train_file, "--limit", 200, "-o", out, "--max-steps", 2,
                   "--batch-size", 64, "--decoder-hidden", 32, "--encoder-hidden", 32, "--no-progress",
                   "--property-head", "logP", "QED") == 0
    assert "property head, held-out R²: logP" in capsys.readouterr().out
    assert molvae.load_model(out / "last.pt").properties == ["logP", "QED"]
    assert run_cli("train", "--data", moses_train_file, "-o", tmp_path / "bad", "--property-head", "potency") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'potency' is neither a column of the data nor a built-in property" in err[0]


@pytest.mark.parametrize("content,message", [
    ("", "empty"),
    ("name,value\nx,1\n", "available columns: name, value"),
])
def test_bad_molecule_files(tmp_path, capsys, tiny_run, content, message):
    path = tmp_path / "in.csv"
    path.write_text(content)
    one_line_error(capsys, run_cli("encode", "-i", path, "-o", tmp_path / "o.csv", "--model", tiny_run["model"]),
                   message)


def test_unreadable_file(tmp_path, capsys, tiny_run):
    path = tmp_path / "in.csv.gz"
    path.write_bytes(b"\x00\x01 not gzip")
    one_line_error(capsys, run_cli("encode", "-i", path, "-o", tmp_path / "o.csv", "--model", tiny_run["model"]),
                   "cannot read")


def test_missing_training_column(tmp_path, capsys):
    path = tmp_path / "train.csv"
    path.write_text("structure,y\nCCO,1\n")
    one_line_error(capsys, run_cli("train", "--data", path, "-o", tmp_path / "run"), "available columns: structure, y")


@pytest.mark.parametrize("condition,message", [("logP=nan", "finite"), ("pIC50=3", "unknown condition 'pIC50'"),
                                               ("logP", "NAME=VALUE")])
def test_bad_conditions(tiny_run, tmp_path, capsys, condition, message):
    code = run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", tiny_run["model"], "--condition", condition)
    one_line_error(capsys, code, message)
    assert not (tmp_path / "s.csv").exists()


def test_unknown_token_names_token_and_position(tiny_run, tmp_path, capsys):
    code = run_cli("encode", "--smiles", "CCO", "CC[Se]CC", "-o", tmp_path / "z.csv", "--model", tiny_run["model"])
    one_line_error(capsys, code, "token '[Se]' at position 2")
    assert run_cli("encode", "--smiles", "CCO", "CC[Se]CC", "-o", tmp_path / "z.csv", "--model", tiny_run["model"],
                   "--skip-invalid") == 0
    assert pd.read_csv(tmp_path / "z.csv")["smiles"].tolist() == ["CCO"]
    assert "1 skipped" in capsys.readouterr().out


def test_invalid_smiles_at_encode_time(tiny_run, tmp_path, capsys):
    code = run_cli("encode", "--smiles", "C1CC", "-o", tmp_path / "z.csv", "--model", tiny_run["model"])
    one_line_error(capsys, code, "molecule 1 ('C1CC') is invalid")


def test_corrupt_model_file(tmp_path, capsys):
    bad = tmp_path / "model.pt"
    bad.write_text("not a checkpoint")
    one_line_error(capsys, run_cli("sample", "-n", 5, "-o", tmp_path / "s.csv", "--model", bad), "corrupt")


def test_decode_needs_latent_columns(tiny_run, tmp_path, capsys):
    path = tmp_path / "z.csv"
    path.write_text("a,b\n1,2\n")
    one_line_error(capsys, run_cli("decode", "-i", path, "-o", tmp_path / "o.csv", "--model", tiny_run["model"]),
                   "needs columns z_0..z_15 or mu_0..mu_15")


def test_errors_reach_the_shell_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "molvae", "sample", "-n", "5", "-o", str(tmp_path / "s.csv"),
                             "--model", str(tmp_path / "missing.pt")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"molvae sample: error: model file not found: {tmp_path / 'missing.pt'}"


def test_neighbourhood_sampling(tiny_run, tmp_path):
    out = tmp_path / "n.csv"
    assert run_cli("sample", "-n", 12, "--around", "CCOc1ccccc1", "--radius", 0.3, "-o", out,
                   "--model", tiny_run["model"], "--seed", 0) == 0
    frame = pd.read_csv(out)
    assert len(frame) == 12 and frame["distance"].between(0, 3).all()


def test_every_command_takes_no_progress_and_bars_stay_off_the_log(tmp_path, capsys, monkeypatch):
    from molvae import progress
    from molvae.cli.main import SUBCOMMANDS, build_parser

    parser = build_parser()
    for name in SUBCOMMANDS:
        assert "--no-progress" in parser._subparsers._group_actions[0].choices[name].format_help(), name
    monkeypatch.setattr(progress, "_enabled", True)
    assert progress.wanted(10_000) and not progress.wanted(100)   # small work never gets a bar
    assert progress.progress(range(10_000)).disable is True       # not a terminal: no bar either
    assert run_cli("sample", "-n", 20, "-o", tmp_path / "s.csv", "--seed", 1, "--no-progress") == 0
    assert not progress.wanted(10_000)                            # --no-progress: off for the whole process
    assert "decoding" not in capsys.readouterr().err


def test_sampling_starts_without_loading_what_only_optimisation_needs():
    """`import molvae` and `molvae sample` leave scikit-learn (0.8 s to import) unloaded."""
    script = ("import sys; import molvae; from molvae import sample; from molvae.cli.main import build_parser; "
              "build_parser('sample'); print('sklearn' in sys.modules, callable(sample), 'optimize' in dir(molvae))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "True"]
    assert callable(molvae.optimize) and molvae.TrainConfig().batch_size > 0
    with pytest.raises(AttributeError, match="no attribute 'sampel'"):
        molvae.sampel  # noqa: B018


def test_samples_say_which_molecules_are_new_and_novel_only_returns_only_new_ones(tiny_run, tmp_path, capsys):
    out = tmp_path / "s.csv"
    command = ["sample", "-n", "200", "-o", str(out), "--model", tiny_run["model"], "--seed", "2"]
    assert main(command) == 0
    frame = pd.read_csv(out, keep_default_na=False)
    assert frame.columns[3] == "novel" and frame.loc[frame["valid"], "novel"].all()  # none is in its data
    known = tmp_path / "known.smi"  # as if half of these molecules had been training molecules
    known.write_text("\n".join(frame.loc[frame["valid"], "smiles"].iloc[::2]) + "\n")
    training = set(known.read_text().split())
    capsys.readouterr()
    assert main([*command, "--train", str(known)]) == 0
    again = pd.read_csv(out, keep_default_na=False)
    assert (again["novel"] == (again["valid"] & ~again["smiles"].isin(training))).all()
    assert f"{int(again['novel'].sum())} new" in capsys.readouterr().out and not again["novel"].all()
    assert main([*command, "--train", str(known), "--novel-only"]) == 0
    only = pd.read_csv(out, keep_default_na=False)
    assert len(only) == 200 and only["novel"].all() and not only["smiles"].isin(training).any()


def test_unique_re_draws_repeated_molecules_and_counts_the_draws(tiny_run, tmp_path, capsys):
    out = tmp_path / "s.csv"
    command = ["sample", "-n", "300", "-o", str(out), "--model", tiny_run["model"], "--seed", "2", "--no-properties"]
    assert main(command) == 0
    plain = pd.read_csv(out, keep_default_na=False)
    assert plain.loc[plain["valid"], "smiles"].duplicated().sum() > 10  # a young model repeats itself
    capsys.readouterr()
    assert main([*command, "--unique"]) == 0
    distinct = pd.read_csv(out, keep_default_na=False)
    assert len(distinct) == 300 and distinct["valid"].all() and distinct["smiles"].is_unique
    assert "300 unique (100.0% of valid)" in capsys.readouterr().out
    assert main(["sample", "-n", "5", "-o", str(tmp_path / "a.csv"), "--model", tiny_run["model"],
                 "--around", "CCO", "--unique"]) == 2
    assert "--unique" in capsys.readouterr().err


def test_novel_only_needs_known_training_molecules(tiny_run, tmp_path, capsys):
    import shutil

    from molvae.training.checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint

    data = read_checkpoint(tiny_run["model"])
    model = model_from_checkpoint(data)
    model.training_data = None
    anonymous = save_checkpoint(tmp_path / "anonymous.pt", model)  # no metadata: the data is unknown
    out = tmp_path / "s.csv"
    assert main(["sample", "-n", "5", "-o", str(out), "--model", str(anonymous), "--novel-only"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--train FILE" in err[0] and not out.exists()
    train = tmp_path / "train.csv"
    shutil.copy(tiny_run["data"], train)
    assert main(["sample", "-n", "5", "-o", str(out), "--model", str(anonymous), "--novel-only",
                 "--train", str(train)]) == 0
    assert pd.read_csv(out)["novel"].all()


def test_grid_labels_and_a_missing_legend_column(tiny_run, tmp_path, capsys, monkeypatch):
    out, grid = tmp_path / "s.csv", tmp_path / "g.png"
    assert main(["sample", "-n", "5", "-o", str(out), "--model", tiny_run["model"], "--grid", str(grid),
                 "--grid-legend", "foo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'foo' is not a column" in err[0] and "QED" in err[0]
    assert not out.exists() and not grid.exists()
    assert main(["sample", "-n", "5", "-o", str(out), "--model", tiny_run["model"], "--grid", str(grid),
                 "--grid-legend", "logP"]) == 0
    assert grid.read_bytes()[:4] == b"\x89PNG"
    drawn = {}
    monkeypatch.setattr("molvae.cli.common.draw_grid", lambda smiles, path, legends: drawn.update(legends=legends))
    assert main(["sample", "-n", "5", "-o", str(out), "--model", tiny_run["model"], "--grid", str(grid)]) == 0
    frame = pd.read_csv(out, keep_default_na=False)
    first = frame.index[frame["valid"]][0]
    assert drawn["legends"][0] == f"#{first + 1}  QED {frame['QED'][first]:.2f}"


def test_a_missing_training_file_for_novelty_is_a_one_line_error(tiny_run, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["sample", "-n", "5", "-o", str(out), "--model", tiny_run["model"], "--novel-only",
                 "--train", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.csv" in err[0] and not out.exists()
