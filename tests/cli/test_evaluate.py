"""``molvae evaluate`` end to end on small files, and its one-line errors."""

from __future__ import annotations

import json
import math

import pytest

from molvae.cli.main import main


@pytest.fixture
def files(tmp_path, monkeypatch, moses_test_smiles):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    reference = tmp_path / "reference.smi"
    reference.write_text("\n".join(moses_test_smiles[:200]) + "\n")
    train = tmp_path / "train.csv"
    train.write_text("SMILES\n" + "\n".join(moses_test_smiles[100:400]) + "\n")
    samples = tmp_path / "samples.csv"
    rows = moses_test_smiles[150:250] + ["", "C1CC", "CCO", "CCO"]
    samples.write_text("id,generated\n" + "\n".join(f"{i},{s}" for i, s in enumerate(rows)) + "\n")
    return {"reference": reference, "train": train, "samples": samples, "dir": tmp_path}


def test_evaluate_writes_metrics_and_report(files, capsys, caplog):
    out, report = files["dir"] / "metrics.json", files["dir"] / "report.html"
    code = main(["evaluate", "-i", str(files["samples"]), "--smiles-column", "generated",
                 "--reference", str(files["reference"]), "--train", str(files["train"]),
                 "-o", str(out), "--report", str(report), "--workers", "1"])
    assert code == 0
    metrics = json.loads(out.read_text())
    assert metrics["valid"] == pytest.approx(102 / 104)
    assert metrics["unique@1000"] is None  # only 102 valid molecules
    assert "unique@1000 is null" in caplog.text
    # samples 150..249: 150..199 are in the reference, 150..249 all in train; CCO is new
    assert metrics["Novelty"] == pytest.approx(1 / 101)
    assert 0.5 < metrics["SNN/Test"] < 1.0 and metrics["FCD/Test"] > 0
    text = report.read_text()
    assert "<svg" in text and "data:image/png;base64," in text and "CharRNN" in text
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # opens offline
    assert "wrote" in capsys.readouterr().out


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_empty_file_is_one_line_error(files, capsys):
    empty = files["dir"] / "empty.smi"
    empty.write_text("")
    assert main(["evaluate", "-i", str(empty), "--reference", str(files["reference"]), "-o",
                 str(files["dir"] / "m.json")]) == 2
    assert "no molecules" in _error(capsys)


def test_no_valid_molecule_is_one_line_error(files, capsys):
    bad = files["dir"] / "bad.smi"
    bad.write_text("C1CC\nxyz\n")
    assert main(["evaluate", "-i", str(bad), "--reference", str(files["reference"]), "--train", "none",
                 "-o", str(files["dir"] / "m.json")]) == 2
    assert "none of the 2 molecules is valid" in _error(capsys)


def test_unreadable_reference_names_the_file(files, capsys):
    assert main(["evaluate", "-i", str(files["samples"]), "--smiles-column", "generated",
                 "--reference", str(files["dir"] / "missing_ref.csv"), "-o", str(files["dir"] / "m.json")]) == 2
    assert "missing_ref.csv" in _error(capsys)


@pytest.mark.parametrize("extra,message", [
    (["--reference-limit", "-1"], "reference limit must be a positive"),
    (["--device", "gpu"], "unknown device 'gpu'"),
])
def test_bad_options_are_one_line_errors(files, capsys, extra, message):
    assert main(["evaluate", "-i", str(files["samples"]), "--smiles-column", "generated", "--reference",
                 str(files["reference"]), "--train", "none", "-o", str(files["dir"] / "m.json"), *extra]) == 2
    assert message in _error(capsys)


def test_benchmark_moses_writes_samples_metrics_table_and_report(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "bench"
    code = main(["benchmark", "moses", "--model", tiny_run["model"], "--n", "150", "--reference-limit", "300",
                 "--test-molecules", "30", "--iwae-molecules", "5", "--train", "none", "--workers", "1",
                 "-o", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["samples"] == 150 and 0 < metrics["valid"] <= 1 and metrics["Novelty"] is None
    quality = metrics["model_metrics"]
    assert quality["molecules"] == 30 and quality["iwae_molecules"] == 5
    assert math.isfinite(quality["iwae_k100"]) and math.isfinite(quality["elbo"])
    table = (out / "moses.md").read_text()
    assert "CharRNN" in table and "JTN-VAE" in table and "molvae (last.pt)" in table
    assert len((out / "samples.csv").read_text().splitlines()) == 151
    assert (out / "report.html").stat().st_size > 10_000
    assert "FCD/Test" in capsys.readouterr().out


def test_benchmark_rejects_a_non_positive_sample_count(tmp_path, capsys):
    assert main(["benchmark", "moses", "--n", "0", "-o", str(tmp_path / "b")]) != 0
    assert "must be positive" in capsys.readouterr().err
