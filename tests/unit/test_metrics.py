"""Distribution metrics on small hand-checked sets, the filters rule by rule, and the statistics cache."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae.errors import MolvaeError
from molvae.evaluation import evaluate, internal_diversity, nearest_similarity, reference_stats, references
from molvae.evaluation.descriptors import describe
from molvae.evaluation.filters import failed_rule, passes_filters
from molvae.evaluation.metrics import _unique_at
from molvae.evaluation.similarity import cosine_similarity


def _packed(*on_bits: set[int]) -> np.ndarray:
    rows = np.zeros((len(on_bits), 1024), dtype=bool)
    for i, bits in enumerate(on_bits):
        rows[i, list(bits)] = True
    return np.packbits(rows, axis=1)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLVAE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def reference_file(tmp_path, moses_test_smiles):
    path = tmp_path / "reference.smi"
    path.write_text("\n".join(moses_test_smiles[:300]) + "\n")
    return path


# ------------------------------------------------------------------------------- Tanimoto kernels

def test_nearest_similarity_known_values():
    a, b, c = {0, 1, 2, 3}, {2, 3, 4, 5}, {100}
    query = _packed(a, c, set())
    reference = _packed(b, {0, 1, 2}, set())
    # a vs b: 2/6, a vs {0,1,2}: 3/4 → 0.75; c shares nothing → 0; empty vs empty → 1 (as MOSES)
    assert nearest_similarity(query, reference) == pytest.approx([0.75, 0.0, 1.0])


def test_nearest_similarity_matches_rdkit_on_molecules(moses_test_smiles):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    mols = [Chem.MolFromSmiles(s) for s in moses_test_smiles[:60]]
    fps = [generator.GetFingerprint(m) for m in mols]
    packed = np.stack([describe(s)["fingerprint"] for s in moses_test_smiles[:60]])
    ours = nearest_similarity(packed[:20], packed[20:])
    expected = [max(DataStructs.BulkTanimotoSimilarity(fp, fps[20:])) for fp in fps[:20]]
    assert ours == pytest.approx(expected, abs=1e-6)


def test_internal_diversity_includes_self_pairs():
    fps = _packed({0, 1, 2, 3}, {2, 3, 4, 5})
    # pairs: T(a,a)=1, T(a,b)=1/3, T(b,b)=1; each row's mean is 2/3
    assert internal_diversity(fps, p=1) == pytest.approx(1 / 3)
    assert internal_diversity(fps, p=2) == pytest.approx(1 - math.sqrt((1 + 1 / 9) / 2))
    assert internal_diversity(_packed({1, 2}, {1, 2}), p=1) == pytest.approx(0.0)


def test_blocked_similarity_kernels_equal_brute_force():
    from molvae.evaluation.similarity import internal_diversities, nearest_inside

    rng = np.random.default_rng(0)
    bits = rng.random((300, 1024)) < rng.uniform(0.01, 0.08, size=(300, 1))  # varied bit counts
    bits[7] = False  # an empty fingerprint
    bits[8] = bits[9]  # a duplicate
    inter = bits.astype(float) @ bits.T.astype(float)
    counts = bits.sum(1)
    union = counts[:, None] + counts[None, :] - inter
    sim = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    fps = np.packbits(bits, axis=1)
    ours = internal_diversities(fps, (1, 2), block=64)
    assert ours[1] == pytest.approx(1 - sim.mean(1).mean(), abs=1e-9)
    assert ours[2] == pytest.approx(1 - np.sqrt((sim ** 2).mean(1)).mean(), abs=1e-9)
    others = sim.copy()
    np.fill_diagonal(others, -1)
    np.testing.assert_allclose(nearest_inside(fps, None, block=64), others.max(1), atol=1e-6)
    np.testing.assert_allclose(nearest_similarity(fps[:100], fps[100:], block=32, ref_block=40),
                               sim[:100, 100:].max(1), atol=1e-6)


# ------------------------------------------------------------------------------ counts and uniqueness

def test_cosine_similarity_of_counts():
    assert cosine_similarity(Counter(a=1, b=1), Counter(a=1)) == pytest.approx(1 / math.sqrt(2))
    assert cosine_similarity(Counter(a=2, b=4), Counter(a=1, b=2)) == pytest.approx(1.0)
    assert cosine_similarity(Counter(a=1), Counter(b=1)) == pytest.approx(0.0)
    assert cosine_similarity(Counter(), Counter(a=1)) is None


def test_unique_at_k_counts_first_k_and_is_null_when_short(caplog):
    canonical = ["CCO", "CCO", "c1ccccc1", "CCN"]
    assert _unique_at(canonical, 2) == 0.5
    assert _unique_at(canonical, 3) == pytest.approx(2 / 3)
    assert _unique_at(canonical, 4) == 0.75
    assert _unique_at(canonical, 5) is None
    assert "unique@5 is null" in caplog.text


def test_describe_scaffold_fragments_and_properties():
    assert describe("Cc1ccccc1")["scaffold"] is None  # MOSES counts scaffolds of two or more rings
    assert describe("Cc1ccc2ccccc2c1")["scaffold"] == "c1ccc2ccccc2c1"
    row = describe("CCOC(=O)c1ccccc1")
    # BRICS cuts the ester on both sides of the ether oxygen and at the ring
    assert sorted(row["fragments"]) == sorted(["[1*]C([6*])=O", "[16*]c1ccccc1", "[3*]O[3*]", "[4*]CC"])
    assert row["weight"] == pytest.approx(150.177, abs=1e-3)
    assert describe("") is None and describe("C1CC") is None and describe("not a molecule") is None


# ---------------------------------------------------------------------------------------- filters

@pytest.mark.parametrize("smiles, rule", [
    ("CCP(C)C", "atoms"),                    # phosphorus is not allowed
    ("CC[N+](C)(C)C", "charge"),
    ("C1CCCCCCC1", "ring size"),             # an 8-membered ring
    ("CC1OC1C", "MCF5"),                     # epoxide
    ("CC=O", "MCF7"),                        # aldehyde
    ("CSSC", "MCF16"),                       # disulfide
    ("O=C1C=CC(=O)C=C1", "quinone_A(370)"),  # a PAINS pattern
])
def test_each_filter_rule_rejects(smiles, rule):
    mol = Chem.MolFromSmiles(smiles)
    assert failed_rule(mol) == rule
    assert not passes_filters(mol)


@pytest.mark.parametrize("smiles", ["CCO", "C1CCCCCC1", "c1ccc(NC(=O)C2CC2)cc1", "FC(F)(F)c1ccccc1Cl"])
def test_ordinary_molecules_pass_filters(smiles):
    assert passes_filters(Chem.MolFromSmiles(smiles))


# ------------------------------------------------------------------------------------ whole suite

def test_evaluate_small_set_against_itself(cache, reference_file, moses_test_smiles, tmp_path):
    reference = moses_test_smiles[:300]
    train = tmp_path / "train.smi"
    # the same molecules spelled differently: novelty must canonicalise the training set
    train.write_text("\n".join([Chem.MolToSmiles(Chem.MolFromSmiles(s), doRandom=True) for s in reference[:150]]))
    samples = reference + ["", "C1CC", "xyz"]
    metrics = evaluate(samples, reference_file, train, workers=1)
    assert metrics["valid"] == pytest.approx(300 / 303)
    assert metrics["SNN/Test"] == pytest.approx(1.0)
    assert metrics["Frag/Test"] == pytest.approx(1.0) and metrics["Scaf/Test"] == pytest.approx(1.0)
    assert abs(metrics["FCD/Test"]) < 1e-3
    for name in ("logP", "SA", "QED", "weight"):
        assert metrics[name] == pytest.approx(0.0, abs=1e-9)
    assert metrics["Novelty"] == pytest.approx(0.5)
    assert metrics["unique@1000"] is None and metrics["unique@10000"] is None
    assert "SNN/TestSF" not in metrics
    assert 0.8 < metrics["IntDiv"] < 0.9 and metrics["IntDiv2"] < metrics["IntDiv"]
    assert metrics["Filters"] > 0.95
    assert metrics["GuacaMol/validity"] == pytest.approx(300 / 303)
    assert metrics["GuacaMol/novelty"] == pytest.approx(0.5)
    assert metrics["GuacaMol/KL"] > 0.95 and metrics["GuacaMol/FCD"] > 0.99


def test_evaluate_rejects_empty_and_all_invalid(cache, reference_file):
    with pytest.raises(MolvaeError, match="no molecules"):
        evaluate([], reference_file, None)
    with pytest.raises(MolvaeError, match="none of the 3 molecules is valid"):
        evaluate(["", "C1CC", None], reference_file, None)


def test_unreadable_reference_is_named(cache, tmp_path):
    missing = tmp_path / "nowhere.smi"
    with pytest.raises(MolvaeError, match="nowhere.smi"):
        evaluate(["CCO"], missing, None)


# ------------------------------------------------------------------------------------------ cache

def test_reference_statistics_are_cached_by_content(cache, reference_file, monkeypatch):
    first = reference_stats(reference_file, workers=1, fcd=True)
    assert first.n == 300 and first.fcd_mu.shape == (512,)
    assert len(list(cache.glob("reference-*"))) == 3  # arrays, counts, ChemNet statistics

    def fail(*args, **kwargs):
        raise AssertionError("statistics recomputed although cached")

    monkeypatch.setattr(references, "_compute", fail)
    monkeypatch.setattr(references, "_fcd_stats", fail)
    again = reference_stats(reference_file, workers=1, fcd=True)
    assert np.array_equal(again.fingerprints, first.fingerprints)
    assert again.scaffolds == first.scaffolds and np.allclose(again.fcd_sigma, first.fcd_sigma)
    reference_file.write_text(reference_file.read_text() + "CCO\n")  # new content, new key
    with pytest.raises(AssertionError, match="recomputed"):
        reference_stats(reference_file, workers=1, fcd=False)


def test_chemnet_over_worker_processes_equals_one_process(moses_test_smiles):
    from molvae.evaluation.descriptors import chemnet_activations

    smiles = moses_test_smiles[:2000]
    split = chemnet_activations(smiles, workers=2)
    single = chemnet_activations(smiles, workers=1)
    assert split.shape == (2000, 512)
    np.testing.assert_allclose(split, single, atol=1e-5)
