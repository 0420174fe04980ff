"""Faults lose nothing: killed training resumes to the same weights, full disks and damaged caches
leave earlier results intact, and every such problem is one line with exit status 2."""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from molvae.cli.main import main
from molvae.evaluation import references
from molvae.generation.prior_fit import exemplar_molecules
from molvae.training.checkpoint import load_model, read_checkpoint

SMALL = ["--embed-dim", "16", "--encoder-hidden", "32", "--decoder-hidden", "32", "--latent-dim", "8",
         "--batch-size", "16", "--seed", "0", "--device", "cpu", "--no-amp"]


def _train_command(data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "molvae", "-q", "train", "--data", str(data), "-o", str(out), *SMALL,
            "--epochs", "3", "--no-progress", *extra]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory, moses_test_smiles) -> Path:
    path = tmp_path_factory.mktemp("faults") / "data.csv"
    pd.DataFrame({"smiles": moses_test_smiles[:240]}).to_csv(path, index=False)
    return path


def _environment(cache: Path) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MOLVAE_CACHE": str(cache)}


def test_training_killed_at_random_moments_resumes_to_the_same_weights(small_data, tmp_path):
    env = _environment(tmp_path / "cache")
    whole = tmp_path / "whole"
    started = time.monotonic()
    subprocess.run(_train_command(small_data, whole), env=env, check=True, timeout=300)
    duration = time.monotonic() - started  # start-up included: each kill below leaves at least 60 % to do
    killed, rng = tmp_path / "killed", random.Random(7)
    kills, finished = 0, False
    for attempt in range(6):
        resume = ["--resume", "--checkpoint-minutes", "0.002"] if (killed / "last.pt").exists() else []
        command = (_train_command(small_data, killed, "--checkpoint-minutes", "0.002") if not resume else
                   [sys.executable, "-m", "molvae", "-q", "train", "-o", str(killed), *resume, "--no-progress"])
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            process.wait(timeout=rng.uniform(0.25, 0.4) * duration if attempt < 2 else 300)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)  # no chance to save: checkpoint writes may be cut short
            process.wait()
            kills += 1
            continue
        assert process.returncode == 0, process.stderr.read().decode()
        finished = True
        break
    assert finished and kills >= 2
    assert not list(killed.glob(".*partial*"))  # a write cut short leaves nothing that looks like a result
    expected = read_checkpoint(whole / "last.pt")["state_dict"]
    resumed = read_checkpoint(killed / "last.pt")["state_dict"]
    assert all(torch.equal(expected[name], resumed[name]) for name in expected)  # bit for bit on CPU


def _full_disk(monkeypatch, target: str, method: str) -> None:
    """``target.method`` writes part of its output, then fails as a full disk does."""
    owner = {"DataFrame": pd.DataFrame, "torch": torch}[target]
    real = getattr(owner, method)

    def failing(*args, **kwargs):
        destination = kwargs.get("path_or_buf") or kwargs.get("f") or args[1]
        Path(destination).write_bytes(b"partial")
        if target == "torch":
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(owner, method, failing)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9, 0))
    return real


def test_sample_on_a_full_disk_keeps_the_earlier_result(tiny_run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.csv"
    assert main(["sample", "-n", "20", "-o", str(out), "--model", tiny_run["model"], "--seed", "0"]) == 0
    before = out.read_bytes()
    _full_disk(monkeypatch, "DataFrame", "to_csv")
    assert main(["sample", "-n", "50", "-o", str(out), "--model", tiny_run["model"], "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot write {out}: No space left on device" in err[0]
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_train_on_a_full_disk_keeps_the_last_checkpoint_and_resumes_once_there_is_room(
        small_data, tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    quick = ["--data", str(small_data), "-o", str(run), *SMALL, "--epochs", "1", "--no-progress"]
    assert main(["-q", "train", *quick]) == 0
    before = (run / "last.pt").read_bytes()
    _full_disk(monkeypatch, "torch", "save")
    assert main(["-q", "train", "-o", str(run), "--resume", "--epochs", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "last.pt" in err[0]
    assert (run / "last.pt").read_bytes() == before and not list(run.glob(".*partial*"))
    monkeypatch.undo()
    assert main(["-q", "train", "-o", str(run), "--resume", "--epochs", "2", "--no-progress"]) == 0
    assert read_checkpoint(run / "last.pt")["trainer"]["progress"]["epoch"] == 2


def test_an_unwritable_place_and_an_allocation_that_fails_are_one_line_errors(tiny_run, tmp_path, capsys,
                                                                               monkeypatch):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert main(["sample", "-n", "5", "-o", str(blocker / "out.csv"), "--model", tiny_run["model"]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(blocker / "out.csv") in err[0] and "is a file, not a folder" in err[0]

    def no_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr("molvae.models.sequence.SequenceVAE.generate", no_memory)
    assert main(["sample", "-n", "5", "-o", str(tmp_path / "s.csv"), "--model", tiny_run["model"]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "out of memory" in err[0] and not (tmp_path / "s.csv").exists()


def test_a_truncated_reference_cache_is_reported_removed_and_recomputed(moses_test_smiles, tmp_path, capsys,
                                                                        monkeypatch, caplog):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    reference, samples = tmp_path / "ref.smi", tmp_path / "samples.smi"
    reference.write_text("\n".join(moses_test_smiles[:300]) + "\n")
    samples.write_text("\n".join(moses_test_smiles[300:400]) + "\n")
    command = ["evaluate", "-i", str(samples), "--reference", str(reference), "--train", "none"]
    assert main([*command, "-o", str(tmp_path / "first.json")]) == 0
    cached = references._paths(references.file_sha256(reference))["arrays"]
    cached.write_bytes(cached.read_bytes()[: cached.stat().st_size // 2])
    assert main([*command, "-o", str(tmp_path / "second.json")]) == 0
    assert (tmp_path / "first.json").read_text() == (tmp_path / "second.json").read_text()
    assert any("damaged cached statistics" in r.message for r in caplog.records)
    with np.load(cached) as arrays:  # written again, whole
        assert len(arrays["fingerprints"]) == 300


def test_a_truncated_exemplar_cache_is_reported_and_read_again(moses_train_file, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    exemplar_molecules.cache_clear()
    first = np.array(exemplar_molecules(moses_train_file))
    cached = next((tmp_path / "cache").glob("exemplars-*.npy"))
    cached.write_bytes(cached.read_bytes()[:200])
    exemplar_molecules.cache_clear()
    try:
        assert np.array_equal(exemplar_molecules(moses_train_file), first)
    finally:
        exemplar_molecules.cache_clear()  # later tests must not see this test's cache
    assert any("damaged cache" in r.message for r in caplog.records)
    assert np.array_equal(np.load(cached), first)  # written again, whole


def test_a_truncated_prepared_data_cache_is_prepared_again(small_data, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    quick = ["-q", "train", "--data", str(small_data), *SMALL, "--epochs", "1", "--no-progress"]
    assert main([*quick, "-o", str(tmp_path / "a")]) == 0
    ids = next((tmp_path / "cache" / "prepared").glob("*/ids.npy"))
    ids.write_bytes(ids.read_bytes()[:100])
    assert main([*quick, "-o", str(tmp_path / "b")]) == 0
    assert any("damaged cached data" in r.message for r in caplog.records)
    first, second = (read_checkpoint(tmp_path / run / "last.pt")["state_dict"] for run in ("a", "b"))
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize("command", [
    ["encode", "-i", "{data}", "-o", "{data}"],
    ["reconstruct", "-i", "{data}", "-o", "{data}"],
    ["evaluate", "-i", "{data}", "-o", "{data}"],
    ["sample", "-n", "5", "--model", "{model}", "-o", "{model}"],
    ["fit-prior", "{model}", "--data", "{data}", "-o", "{model}"],
])
def test_an_output_that_is_also_an_input_is_refused_before_any_work(tiny_run, tmp_path, capsys, command):
    data = tmp_path / "in.csv"
    data.write_text("smiles\nCCO\nc1ccccc1\n")
    model = tmp_path / "model.pt"
    shutil.copy(tiny_run["model"], model)
    before = {path: path.read_bytes() for path in (data, model)}
    words = [w.format(data=data, model=model) for w in command]
    if "--model" not in words and command[0] != "fit-prior":
        words += ["--model", str(model)]
    assert main(words) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is also the input" in err[0]
    assert all(path.read_bytes() == content for path, content in before.items())


def test_resume_keeps_the_settings_not_given_again(small_data, tmp_path, capsys, caplog):
    run = tmp_path / "run"
    first = ["-q", "train", "--data", str(small_data), "-o", str(run), *SMALL, "--epochs", "3",
             "--checkpoint-minutes", "0.1", "--max-steps", "4", "--no-progress"]
    assert main(first) == 0
    caplog.set_level("INFO")
    assert main(["train", "-o", str(run), "--resume", "--max-steps", "1000", "--no-progress"]) == 0
    config = pd.read_json(run / "config.json", typ="series")["train"]
    assert config["epochs"] == 3 and config["checkpoint_minutes"] == 0.1 and config["max_steps"] == 1000
    assert config["amp"] is False and config["batch_size"] == 16
    assert any("max_steps 4 -> 1000" in r.message for r in caplog.records)
    assert read_checkpoint(run / "last.pt")["trainer"]["progress"]["epoch"] == 3
    assert main(["train", "-o", str(run), "--resume", "--lr", "0.1", "--latent-dim", "4", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--latent-dim, --lr cannot change when resuming" in err[0]


def test_a_resumed_graph_run_may_change_its_ring_limit_and_sampling_temperature_and_bad_ones_are_refused(
        small_data, tmp_path, capsys, caplog):
    run = tmp_path / "run"
    graph = ["--model", "graph", "--embed-dim", "16", "--encoder-hidden", "32", "--decoder-hidden", "48",
             "--latent-dim", "8", "--batch-size", "16", "--no-amp", "--no-progress"]
    assert main(["-q", "train", "--data", str(small_data), "-o", str(run), *graph, "--max-steps", "2"]) == 0
    assert read_checkpoint(run / "last.pt")["config"]["max_ring_size"] == 0
    caplog.set_level("INFO")
    assert main(["train", "-o", str(run), "--resume", "--max-ring-size", "7", "--max-steps", "4", "--no-progress"]) == 0
    assert read_checkpoint(run / "last.pt")["config"]["max_ring_size"] == 7
    assert any("max_ring_size 0 -> 7" in r.message for r in caplog.records)
    assert main(["train", "-o", str(run), "--resume", "--sampling-temperature", "0.8", "--max-steps", "5",
                 "--no-progress"]) == 0
    assert load_model(run / "last.pt").sampling_temperature == 0.8
    assert any("sampling_temperature 1.0 -> 0.8" in r.message for r in caplog.records)
    capsys.readouterr()
    for words, message in ((["--model", "graph", "--max-ring-size", "2"], "at least 3 atoms"),
                           (["--max-ring-size", "7"], "option of the graph model"),
                           (["--sampling-temperature", "0"], "must be a positive number")):
        assert main(["train", "--data", str(small_data), "-o", str(tmp_path / "bad"), *words]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "bad").exists()


def test_a_kill_during_sampling_leaves_no_partial_output(tiny_run, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("smiles\nCCO\n")
    process = subprocess.Popen([sys.executable, "-m", "molvae", "sample", "-n", "200000", "-o", str(out),
                                "--model", tiny_run["model"], "--no-progress"], stderr=subprocess.DEVNULL)
    time.sleep(6)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert out.read_text() == "smiles\nCCO\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_latent_held_at_the_free_bits_floor_is_reported(small_data, tmp_path, caplog):
    # free bits far above what 8 steps can put into z: every dimension sits at the floor
    words = ["train", "--data", str(small_data), "-o", str(tmp_path / "run"), *SMALL, "--epochs", "1",
             "--max-steps", "8", "--free-bits", "5", "--no-progress"]
    caplog.set_level("WARNING")
    assert main(words) == 0
    assert any("sit at the free-bits floor" in r.message for r in caplog.records)
