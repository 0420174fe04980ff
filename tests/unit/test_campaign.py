"""The training campaign's log keeps counting steps and molecules across phases."""

import csv
import dataclasses
import importlib.util
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).parents[2] / "training" / "campaign.py"


def load_campaign():
    spec = importlib.util.spec_from_file_location("campaign", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["campaign"] = module
    spec.loader.exec_module(module)
    return module


def write_log(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["date", "command", "hardware", "minutes", "steps_from",
                                                    "steps_to", "molecules_seen", "val_neg_elbo"])
        writer.writeheader()
        writer.writerows(rows)


def test_a_killed_stretch_of_a_later_phase_is_logged_after_the_earlier_phases(tmp_path):
    script = load_campaign()
    campaign = dataclasses.replace(script.CAMPAIGNS["smiles"], run=tmp_path)
    before = campaign.steps_before
    earlier = {"date": "d", "command": "c", "hardware": "h", "minutes": "90.0", "steps_from": str(before - 5000),
               "steps_to": str(before), "molecules_seen": str(before * campaign.batch), "val_neg_elbo": "23.7"}
    write_log(tmp_path / "log.csv", [earlier])
    assert script.progress(campaign) == {"step": before, "minutes": 0.0}  # a new phase starts from the last one's end
    script.recover_unlogged(campaign, "2 cores")
    assert len(list(csv.DictReader((tmp_path / "log.csv").open()))) == 1  # nothing unlogged yet

    torch.save({"trainer": {"progress": {"step": 500, "minutes": 3.0}}}, tmp_path / "last.pt")
    script.recover_unlogged(campaign, "2 cores")
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert len(rows) == 2
    assert (int(rows[1]["steps_from"]), int(rows[1]["steps_to"])) == (before, before + 500)
    assert float(rows[1]["minutes"]) == 3.0  # this phase's minutes, not the earlier phases' 90
    assert int(rows[1]["molecules_seen"]) == (before + 500) * campaign.batch
    script.recover_unlogged(campaign, "2 cores")
    assert len(list(csv.DictReader((tmp_path / "log.csv").open()))) == 2  # logged once


def test_each_campaign_starts_its_phase_then_resumes_it(tmp_path):
    script = load_campaign()
    for name, model in (("smiles", None), ("graph", "graph")):
        campaign = dataclasses.replace(script.CAMPAIGNS[name], run=tmp_path / name)
        first = script.command(campaign, 30, "cpu")
        assert "--resume" not in first and "--max-minutes" in first and "--max-steps" in first
        assert (first[first.index("--model") + 1] if "--model" in first else None) == model
        campaign.run.mkdir()
        torch.save({"trainer": {"progress": {"step": 10, "minutes": 12.0}}}, campaign.run / "last.pt")
        again = script.command(campaign, 30, "cpu")
        assert "--resume" in again and "--data" not in again  # a continuation repeats only the bounds
        assert again[again.index("--max-minutes") + 1] == "42.0"
