"""The MOSES statistics that ship with the package: intact, equal to what molvae computes, used only when they fit."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from molvae.chem.molecules import canonical_smiles
from molvae.datasets import canonical, moses_path, read_smiles
from molvae.evaluation import references
from molvae.evaluation.descriptors import GUACAMOL_DESCRIPTORS, PROPERTY_NAMES, describe
from molvae.evaluation.references import DESCRIPTOR_ALIASES


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An empty cache and forgotten lookups, as on a brand-new install."""
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    canonical._shipped_manifest.cache_clear()
    canonical.shipped_file.cache_clear()
    yield tmp_path
    canonical._shipped_manifest.cache_clear()
    canonical.shipped_file.cache_clear()


def _manifest() -> dict:
    return json.loads((canonical.shipped_dir() / canonical.SHIPPED_MANIFEST).read_text())


def test_every_shipped_file_matches_its_manifest_hash():
    manifest = _manifest()
    assert len(manifest["files"]) == 8  # 3 files per reference split, 2 canonical-change lists
    for name, sha in manifest["files"].items():
        assert references.file_sha256(canonical.shipped_dir() / name) == sha, name


def _suits_this_rdkit() -> bool:
    return _manifest()["rdkit"] == canonical.rdkit_release()


def test_shipped_statistics_equal_molecules_described_now(fresh, monkeypatch):
    if not _suits_this_rdkit():
        pytest.skip(f"shipped statistics are for RDKit {_manifest()['rdkit']}; they are recomputed here")
    monkeypatch.setattr(references, "_compute", lambda *a: pytest.fail("recomputed although shipped"))
    monkeypatch.setattr(references, "_fcd_stats", lambda *a: pytest.fail("recomputed although shipped"))
    stats = references.reference_stats(moses_path("test_scaffolds"), workers=1)
    smiles = read_smiles(moses_path("test_scaffolds"))
    assert stats.n == len(smiles) and stats.fcd_mu.shape == (512,) and stats.fcd_sigma.shape == (512, 512)
    for i in np.random.default_rng(0).choice(len(smiles), size=25, replace=False):
        row = describe(smiles[i], filters=False, descriptors=True)
        assert np.array_equal(stats.fingerprints[i], row["fingerprint"])
        assert all(stats.properties[name][i] == row[name] for name in PROPERTY_NAMES)
        assert all(stats.descriptors[name][i] == row["descriptors"][name] for name in GUACAMOL_DESCRIPTORS)
        if row["scaffold"]:
            assert stats.scaffolds[row["scaffold"]] >= 1
    assert set(DESCRIPTOR_ALIASES) <= set(stats.descriptors)


def test_shipped_canonical_forms_of_the_training_split(fresh, monkeypatch):
    if not _suits_this_rdkit():
        pytest.skip(f"shipped canonical forms are for RDKit {_manifest()['rdkit']}; they are recomputed here")
    monkeypatch.setattr(canonical, "canonicalize_many", lambda *a: pytest.fail("recomputed although shipped"))
    train = moses_path("train")
    forms = canonical.canonical_set(train, workers=1)
    smiles = read_smiles(train)
    name = f"{canonical.canonical_stem(references.file_sha256(train), True)}.changes.json.gz"
    with gzip.open(canonical.shipped_dir() / name, "rt") as handle:
        changes = json.load(handle)
    assert 0 < len(changes) < 1000
    for written in list(changes)[:20]:
        assert canonical_smiles(written) == changes[written] and changes[written] in forms
    rng = np.random.default_rng(1)
    for i in rng.choice(len(smiles), size=200, replace=False):
        assert smiles[i] in changes or canonical_smiles(smiles[i]) == smiles[i]
    assert len(forms) == len(set(smiles) - set(changes) | set(changes.values()) - {None})


def test_other_rdkit_release_computes_its_own(fresh, monkeypatch):
    monkeypatch.setattr(canonical, "rdkit_release", lambda: "1999.01")
    assert canonical.shipped_file(next(iter(_manifest()["files"]))) is None


def test_tampered_file_is_ignored(fresh, monkeypatch):
    folder = fresh / "reference"
    shutil.copytree(canonical.shipped_dir(), folder)
    monkeypatch.setattr(canonical, "shipped_dir", lambda: folder)
    monkeypatch.setattr(canonical, "rdkit_release", lambda: _manifest()["rdkit"])
    name = sorted(_manifest()["files"])[0]
    with gzip.open(folder / name, "wt") as handle:
        json.dump({"CCO": "CCC"}, handle)
    assert canonical.shipped_file(name) is None
    assert canonical.shipped_file(sorted(_manifest()["files"])[1]) == folder / sorted(_manifest()["files"])[1]
