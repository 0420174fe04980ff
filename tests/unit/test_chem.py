"""Validation, canonicalisation and properties."""

import math

import pytest

from molvae.chem import compute_properties, property_table, validate
from molvae.chem.draw import draw_grid
from molvae.errors import MolvaeError


def test_valid_molecule_is_canonicalised():
    result = validate("OCC")
    assert result.valid and result.smiles == "CCO"


@pytest.mark.parametrize("raw,reason", [("", "empty"), ("   ", "empty"), ("C1CC", "RDKit"),
                                        ("c1cccc1", "RDKit"), ("CC.O", "fragment"), (None, "empty")])
def test_invalid_strings_are_flagged_with_a_reason(raw, reason):
    result = validate(raw)
    assert not result.valid and result.smiles == "" and reason in result.reason


def test_properties_of_ethanol():
    props = compute_properties("CCO")
    assert props["MW"] == pytest.approx(46.07, abs=0.01)
    assert props["logP"] == pytest.approx(-0.0014, abs=0.001)
    assert 0 < props["QED"] < 1 and 1 <= props["SA"] <= 10


# molecules with explicit hydrogens, charges, isotopes, stereo and many structural alerts
UNUSUAL = ["[H]OC([H])([H])C", "[2H]C([2H])([2H])O", "C[N+](C)(C)CC(=O)[O-]", "O=[N+]([O-])c1ccc(N=Nc2ccccc2)cc1",
           "CCOP(=S)(OCC)Oc1ccccc1", "ClCC(=O)Nc1ccccc1", "O=C1C=CC(=O)C=C1", "C[C@H](N)C(=O)O", "OO",
           "C1CCCCCCCCCCC1", "c1ccc2c(c1)[nH]c1ccccc12", "N#CC(C#N)=Cc1ccccc1", "CC(=O)SC", "[Na+].[Cl-]"]


def test_qed_and_its_parts_equal_rdkits_own(moses_test_smiles):
    from rdkit import Chem
    from rdkit.Chem import QED, Crippen, Descriptors

    from molvae.chem.properties import molecule_properties, qed_properties

    for smiles in UNUSUAL + moses_test_smiles:
        mol = Chem.MolFromSmiles(smiles)
        assert qed_properties(mol) == QED.properties(mol), smiles
        values = molecule_properties(mol, ["QED", "logP", "MW"])
        assert values == {"QED": QED.qed(mol), "logP": Crippen.MolLogP(mol), "MW": Descriptors.MolWt(mol)}, smiles


def test_properties_are_nan_for_invalid_molecules():
    assert all(math.isnan(v) for v in compute_properties("C1CC").values())


def test_property_table_rejects_unknown_property():
    with pytest.raises(MolvaeError, match="unknown property 'pIC50'"):
        property_table(["CCO"], ["pIC50"])


def test_grid_is_drawn_from_valid_molecules(tmp_path):
    path = draw_grid(["CCO", "", "c1ccccc1"], tmp_path / "grid.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(MolvaeError, match="no valid molecule"):
        draw_grid(["", "C1CC"], tmp_path / "none.png")


def test_property_names_ignore_case_and_unknown_ones_get_a_suggestion():
    table = property_table(["CCO"], ["qed", "mw"])
    assert list(table.columns) == ["QED", "MW"] and table["MW"].iloc[0] == pytest.approx(46.069, abs=1e-3)
    with pytest.raises(MolvaeError, match="did you mean 'logP'"):
        property_table(["CCO"], ["logp_"])
