"""The pattern-fingerprint screen gives exactly the answers of a plain substructure search."""

from rdkit import Chem

from molvae.chem.screen import PatternScreen
from molvae.evaluation.filters import patterns

# molecules that trip filters, besides ordinary ones
AWKWARD = ["CC1OC1C", "CC=O", "CSSC", "O=C1C=CC(=O)C=C1", "O=[N+]([O-])c1ccc(N=Nc2ccccc2)cc1",
           "C=CC(=O)OCC", "ClCC(=O)Nc1ccccc1", "Oc1ccc(O)cc1", "CCOP(=S)(OCC)Oc1ccccc1", "N#CC(C#N)=Cc1ccccc1",
           "c1ccc2c(c1)[nH]c1ccccc12", "CN(C)N=O", "C[Si](C)(C)OC", "OO", "CC(=O)SC"]


def _plain_matches(queries, mol) -> list[int]:
    return [i for i, q in enumerate(queries) if mol.HasSubstructMatch(q)]


def test_screened_filter_search_equals_the_plain_search(moses_test_smiles):
    names, screen = patterns()
    for smiles in AWKWARD + moses_test_smiles[:600]:
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        assert list(screen.matches(mol)) == _plain_matches(screen.queries, mol), smiles
    assert len(names) == len(screen.queries) > 500


def test_screen_skips_most_patterns_for_an_ordinary_molecule():
    _, screen = patterns()
    assert len(screen.candidates(Chem.AddHs(Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")))) < len(screen.queries) / 4


def test_empty_screen_has_no_candidates():
    assert list(PatternScreen([]).matches(Chem.MolFromSmiles("CCO"))) == []
