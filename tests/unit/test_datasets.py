"""Reading molecule files; the shipped MOSES split."""

import gzip
import hashlib

import pytest

from molvae.datasets import moses_path, read_molecules, read_table
from molvae.errors import MolvaeError

MOSES_SHA256 = {
    "train": "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c",
    "test": "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2",
    "test_scaffolds": "adffb2192c1bfe31ab0e13154d4af19a37dc18bdbf3cd7b4491e04405128adde",
}


@pytest.mark.parametrize("split", sorted(MOSES_SHA256))
def test_shipped_moses_files_match_their_checksums(split):
    assert hashlib.sha256(moses_path(split).read_bytes()).hexdigest() == MOSES_SHA256[split]


def test_csv_with_other_columns_passes_them_through(tmp_path):
    path = tmp_path / "mols.csv"
    path.write_text("id,SMILES,pIC50\na,CCO,5.1\nb,c1ccccc1,6.2\n")
    frame = read_molecules(path)
    assert list(frame.columns) == ["smiles", "id", "pIC50", "line"]
    assert frame["smiles"].tolist() == ["CCO", "c1ccccc1"]
    assert frame["line"].tolist() == [2, 3]


def test_smiles_column_can_be_named(tmp_path):
    path = tmp_path / "mols.csv"
    path.write_text("structure,name\nCCO,ethanol\n")
    assert read_molecules(path, smiles_column="structure")["smiles"].tolist() == ["CCO"]


def test_missing_column_lists_the_available_ones(tmp_path):
    path = tmp_path / "mols.csv"
    path.write_text("structure,name\nCCO,ethanol\n")
    with pytest.raises(MolvaeError, match="available columns: structure, name"):
        read_molecules(path)


def test_gzipped_csv_and_smi_and_txt(tmp_path):
    gz = tmp_path / "m.csv.gz"
    with gzip.open(gz, "wt") as f:
        f.write("smiles\nCCO\nCCN\n")
    assert read_molecules(gz)["smiles"].tolist() == ["CCO", "CCN"]
    smi = tmp_path / "m.smi"
    smi.write_text("CCO ethanol\n\nc1ccccc1 benzene\n")
    frame = read_molecules(smi)
    assert frame["smiles"].tolist() == ["CCO", "c1ccccc1"]
    assert frame["name"].tolist() == ["ethanol", "benzene"]
    assert frame["line"].tolist() == [1, 3]
    txt = tmp_path / "m.txt"
    txt.write_text("SMILES\nCCO\n")
    assert read_molecules(txt)["smiles"].tolist() == ["CCO"]


@pytest.mark.parametrize("content,message", [("", "empty"), ("smiles\n", "no molecules")])
def test_empty_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(MolvaeError, match=message):
        read_molecules(path)


def test_unreadable_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.csv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(MolvaeError, match="broken.csv.gz"):
        read_molecules(bad)
    with pytest.raises(MolvaeError, match="file not found"):
        read_molecules(tmp_path / "nope.csv")
    with pytest.raises(MolvaeError, match="unsupported file type"):
        (tmp_path / "m.sdf").write_text("x")
        read_molecules(tmp_path / "m.sdf")
    with pytest.raises(MolvaeError, match="empty"):
        (tmp_path / "z.csv").write_text("")
        read_table(tmp_path / "z.csv")


def test_shipped_training_conditions_equal_fresh_computation():
    import numpy as np

    from molvae.chem.properties import compute_properties
    from molvae.datasets import read_smiles
    from molvae.datasets.moses import shipped_conditions

    train = moses_path("train")
    smiles = read_smiles(train)
    values = shipped_conditions(train, ["logP", "QED", "SA"])
    assert values is not None and all(len(v) == len(smiles) for v in values.values())
    for i in np.random.default_rng(0).choice(len(smiles), size=150, replace=False):
        fresh = compute_properties(smiles[i], ("logP", "QED", "SA"))
        for name, column in values.items():
            assert column[i] == pytest.approx(fresh[name], rel=1e-6, abs=1e-6), (i, name)
    assert shipped_conditions(train, ["MW"]) is None  # only the three conditions ship
    assert shipped_conditions(moses_path("test"), ["logP"]) is None  # and only for the training split
    assert len(shipped_conditions(train, ["QED"], rows=10)["QED"]) == 10


def test_preparing_the_moses_split_reads_the_shipped_conditions(tmp_path, monkeypatch):
    import molvae.training.data as data
    from molvae import TrainConfig, train

    def computed(*args):
        raise AssertionError("computed although shipped")

    monkeypatch.setattr(data, "molecule_properties", computed)
    summary = train("moses", tmp_path / "run", limit=300, conditions=["logP", "QED", "SA"], model="sequence",
                    model_config={"embed_dim": 16, "encoder_hidden": 32, "decoder_hidden": 32, "latent_dim": 8},
                    train_config=TrainConfig(max_steps=1, show_progress=False, device="cpu", diagnostic_molecules=0))
    assert summary["step"] == 1


def test_known_canonical_forms_prepare_the_same_data_as_rdkit():
    from molvae.datasets.canonical import shipped_canonical_forms
    from molvae.training.data import prepare_molecules

    frame = read_molecules(moses_path("train"), limit=2000)
    forms = shipped_canonical_forms(moses_path("train"), frame["smiles"].tolist())
    if forms is None:
        pytest.skip("the shipped canonical forms were written by another RDKit release; they are not used here")
    checked = prepare_molecules(frame, "smiles")
    known = prepare_molecules(frame, "smiles", canonical=forms)
    assert checked.frame["smiles"].tolist() == known.frame["smiles"].tolist()
    assert list(checked.tokens) == list(known.tokens)
