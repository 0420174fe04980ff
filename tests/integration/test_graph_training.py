"""The graph VAE through the shared trainer, checkpoints, generation API and command line."""

import pandas as pd
import pytest
import torch
from rdkit import Chem

import molvae
from molvae import TrainConfig, load_model, sample, train
from molvae.chem.molecules import canonical_smiles
from molvae.cli.main import main
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.models.graph import GraphVAE
from molvae.representations.graph import graph_from_smiles
from molvae.training.checkpoint import save_checkpoint
from molvae.training.dataset import Dataset
from molvae.training.diagnostics import reconstruction_accuracy
from molvae.training.trainer import Trainer

SMALL = {"embed_dim": 32, "encoder_hidden": 64, "encoder_layers": 3, "decoder_hidden": 96, "latent_dim": 16,
         "key_dim": 32, "max_atoms": 32}
BAD = ["CC[Te]CC", "CI(=O)=O", "C[CH2]"]  # unsupported element, valence above the type's, radical


@pytest.fixture(scope="module")
def graph_run(tmp_path_factory, moses_test_smiles):
    """One epoch of a small conditional graph model on 600 molecules plus three it cannot build."""
    path = tmp_path_factory.mktemp("graph_data") / "train.csv"
    rows = moses_test_smiles[:500] + BAD + moses_test_smiles[500:600]
    pd.DataFrame({"smiles": rows}).to_csv(path, index=False)
    run_dir = tmp_path_factory.mktemp("graph_run")
    config = TrainConfig(epochs=1, batch_size=64, warmup_steps=5, beta_warmup_steps=20, diagnostic_molecules=50,
                         show_progress=False, seed=0, device="cpu")
    summary = train(path, run_dir, model="graph", model_config=SMALL, train_config=config, conditions=["logP"])
    return {"dir": run_dir, "model": str(run_dir / "last.pt"), "summary": summary}


def test_tiny_graph_model_overfits_50_molecules(moses_test_smiles, tmp_path):
    torch.manual_seed(0)
    smiles = [canonical_smiles(s) for s in moses_test_smiles[:50]]
    types = sorted({t for s in smiles for t in graph_from_smiles(s).tokens})
    model = GraphVAE({"embed_dim": 32, "encoder_hidden": 64, "encoder_layers": 3, "decoder_hidden": 256,
                      "latent_dim": 32, "key_dim": 32, "word_dropout": 0.0}, types)
    data = Dataset([model.featurizer.featurize(s) for s in smiles], None, smiles)
    repeated = Dataset(data.items * 10, None, data.smiles * 10)  # 10 steps of 50 per epoch
    config = TrainConfig(epochs=22, batch_size=50, bucket_by_length=False, lr=4e-3, warmup_steps=10, beta=0.01,
                         beta_schedule="constant", patience=None, diagnostic_molecules=0, show_progress=False,
                         device="cpu")
    Trainer(model, repeated, data, config, tmp_path).fit()
    assert reconstruction_accuracy(model.eval(), data, limit=50) == 1.0


def test_molecules_the_graph_model_cannot_build_are_skipped_and_counted(graph_run):
    rejects = pd.read_csv(graph_run["dir"] / "rejects.csv")
    assert rejects["smiles"].tolist() == BAD
    assert rejects["line"].tolist() == [502, 503, 504]
    reasons = rejects["reason"].tolist()
    assert "atom 3 (Te)" in reasons[0] and "valence 5" in reasons[1] and "radical" in reasons[2]
    assert graph_run["summary"]["epoch"] == 1


def test_a_trained_graph_model_samples_only_valid_molecules_and_reloads(graph_run, tmp_path):
    model = load_model(graph_run["model"])
    assert isinstance(model, GraphVAE) and model.conditions.names == ["logP"]
    first = sample(model, 200, seed=5, conditions={"logP": 2.0}, properties=False)
    assert first["valid"].all()
    assert first["smiles"].nunique() > 100
    copy = load_model(save_checkpoint(tmp_path / "copy.pt", model))
    pd.testing.assert_frame_equal(first, sample(copy, 200, seed=5, conditions={"logP": 2.0}, properties=False))
    metrics = pd.read_csv(graph_run["dir"] / "metrics.csv")
    assert metrics["prior_validity"].iloc[0] == 1.0
    assert {"active_units", "recon_accuracy", "val_kl"} <= set(metrics.columns)


def test_latent_space_operations_work_on_the_graph_model(graph_run, moses_test_smiles):
    model = load_model(graph_run["model"])
    smiles = moses_test_smiles[2000:2010]
    mu, logvar, kept = molvae.encode(model, smiles)
    assert mu.shape == (10, 16) and kept == list(range(10))
    assert molvae.reconstruct(model, smiles)["valid"].all()
    path = molvae.interpolate(model, smiles[0], smiles[1], steps=6)
    assert len(path) == 6 and path["valid"].all()
    with pytest.raises(InvalidMoleculeError, match=r"atom 3 \(Te\)"):
        molvae.encode(model, ["CCO", "CC[Te]CC"])


def test_graph_model_from_the_command_line(graph_run, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["sample", "-n", "50", "-o", str(out), "--model", graph_run["model"], "--seed", "1"]) == 0
    assert pd.read_csv(out, keep_default_na=False)["valid"].all()
    assert main(["encode", "--smiles", "CCO", "c1ccccc1", "-o", str(tmp_path / "z.csv"),
                 "--model", graph_run["model"], "--condition", "logP=1"]) == 0
    assert main(["encode", "--smiles", "CC[Te]CC", "-o", str(tmp_path / "bad.csv"), "--model", graph_run["model"],
                 "--condition", "logP=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "atom 3 (Te)" in err[0]


def _keeps_unmarked_atoms(mol, core, growable_atoms: set[int]) -> bool:
    """Whether some placement of ``core`` in ``mol`` adds bonds only at ``growable_atoms`` (core indices)."""
    return any(all(mol.GetAtomWithIdx(match[i]).GetDegree() == core.GetAtomWithIdx(i).GetDegree()
                   for i in range(core.GetNumAtoms()) if i not in growable_atoms)
               for match in mol.GetSubstructMatches(core, uniquify=False))


def test_every_scaffold_sample_contains_the_scaffold_and_the_decorations_vary(graph_run):
    model = load_model(graph_run["model"])
    scaffold = "c1ccc2[nH]ccc2c1"
    frame = sample(model, 120, seed=3, scaffold=scaffold, conditions={"logP": 3.0}, properties=["logP"])
    query = Chem.MolFromSmiles(scaffold)
    assert frame["valid"].all()
    assert all(Chem.MolFromSmiles(s).HasSubstructMatch(query) for s in frame["smiles"])
    assert frame["smiles"].nunique() >= 60
    assert all(Chem.MolFromSmiles(s).GetNumAtoms() > query.GetNumAtoms() for s in frame["smiles"])  # never bare
    assert (frame["target_logP"] == 3.0).all()
    again = sample(model, 120, seed=3, scaffold=scaffold, conditions={"logP": 3.0}, properties=["logP"])
    pd.testing.assert_frame_equal(frame, again)  # seeded


def test_scaffold_attachment_points_are_the_only_atoms_that_grow(graph_run):
    model = load_model(graph_run["model"])
    frame = sample(model, 100, seed=4, scaffold="[*]c1ccc(C(=O)N2CCC([*])CC2)cc1", properties=False)
    core = Chem.MolFromSmiles("c1ccc(C(=O)N2CCCCC2)cc1")
    distance = Chem.GetDistanceMatrix(core)
    nitrogen = next(a.GetIdx() for a in core.GetAtoms() if a.GetSymbol() == "N")
    marked = {0, next(i for i in range(core.GetNumAtoms()) if distance[nitrogen, i] == 3 and core.GetAtomWithIdx(i)
                      .IsInRingSize(6) and not core.GetAtomWithIdx(i).GetIsAromatic())}  # atom 0: the para carbon
    assert frame["valid"].all()
    assert all(_keeps_unmarked_atoms(Chem.MolFromSmiles(s), core, marked) for s in frame["smiles"])
    assert not all(_keeps_unmarked_atoms(Chem.MolFromSmiles(s), core, set()) for s in frame["smiles"])  # they grew
    assert frame["smiles"].nunique() >= 30


@pytest.mark.parametrize(("scaffold", "message"), [
    ("c1ccc", "not a SMILES RDKit can parse"),
    ("c1ccc([Se]C)cc1", "atom type Se"),
    ("C1" + "C" * 34 + "C1", "36 atoms"),
    ("O=C=O", "no free valence"),
    ("[*]C(=O)C(=O)O", None),  # the marked carbon may grow: fine
])
def test_bad_scaffolds_are_one_line_errors_and_write_nothing(graph_run, tmp_path, capsys, scaffold, message):
    out = tmp_path / "s.csv"
    code = main(["sample", "-n", "20", "-o", str(out), "--model", graph_run["model"], "--scaffold", scaffold,
                 "--seed", "0"])
    if message is None:
        assert code == 0 and out.exists()
        return
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0] and not out.exists()
    with pytest.raises(MolvaeError, match=message):
        sample(load_model(graph_run["model"]), 5, scaffold=scaffold)


def test_scaffold_decorations_are_distinct_unless_independent_draws_are_asked_for(graph_run, tmp_path):
    out = tmp_path / "s.csv"
    command = ["sample", "-n", "60", "-o", str(out), "--model", graph_run["model"], "--scaffold", "[*]c1ccncc1",
               "--seed", "0", "--no-properties"]
    assert main([*command, "--no-unique"]) == 0
    assert pd.read_csv(out, keep_default_na=False)["smiles"].duplicated().sum() >= 3  # a small space repeats
    assert main(command) == 0
    distinct = pd.read_csv(out, keep_default_na=False)
    assert len(distinct) == 60 and distinct["valid"].all() and distinct["smiles"].is_unique


def test_a_sequence_model_refuses_a_scaffold_and_points_to_the_graph_model(tiny_run, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["sample", "-n", "5", "-o", str(out), "--model", tiny_run["model"], "--scaffold", "c1ccccc1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model graph" in err[0] and not out.exists()


def test_optimisation_around_a_scaffold_keeps_it_in_every_proposal(graph_run, tmp_path, capsys):
    out = tmp_path / "opt.csv"
    assert main(["optimize", "--objective", "QED", "--budget", "30", "--model", graph_run["model"],
                 "--scaffold", "[*]c1ccncc1", "--condition", "logP=2", "-o", str(out), "--seed", "0"]) == 0
    calls = pd.read_csv(out)
    query = Chem.MolFromSmiles("c1ccncc1")
    assert len(calls) == 30
    assert all(Chem.MolFromSmiles(s).HasSubstructMatch(query) for s in calls["smiles"])


def test_a_graph_and_a_selfies_model_search_together_on_one_budget(graph_run, tiny_run, tmp_path, capsys):
    out = tmp_path / "both.csv"
    command = ["optimize", "--objective", "QED", "--budget", "60", "--batch-size", "10", "--seed", "1",
               "--model", tiny_run["model"], graph_run["model"]]
    assert main([*command, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training priors of 2 models searched together (last#1, last#2)" in printed
    calls = pd.read_csv(out)
    assert len(calls) == 60 and calls["smiles"].is_unique and calls["call"].tolist() == list(range(1, 61))
    assert {"bo-ei last#1", "bo-ei last#2"} <= set(calls["source"])  # both models proposed scored molecules
    calls.head(30).to_csv(out, index=False)  # as if interrupted half-way
    assert main(["optimize", "--resume", str(out), "--model", tiny_run["model"]]) == 2
    assert "cannot resume: the run used model" in capsys.readouterr().err
    assert main(["optimize", "--resume", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), calls)  # the same search, answered from the file
