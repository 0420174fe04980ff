"""Tokenizers round-trip molecules; the vocabulary points at tokens it does not know."""

import pytest

from molvae.chem import canonical_smiles
from molvae.errors import InvalidMoleculeError
from molvae.representations import SelfiesRepresentation, SmilesRepresentation, Vocabulary, tokenize_smiles


@pytest.mark.parametrize("smiles,tokens", [
    ("CCBr", ["C", "C", "Br"]),
    ("ClC(Cl)Cl", ["Cl", "C", "(", "Cl", ")", "Cl"]),
    ("c1cc[nH]c1", ["c", "1", "c", "c", "[nH]", "c", "1"]),
    ("C[C@@H](O)[NH3+]", ["C", "[C@@H]", "(", "O", ")", "[NH3+]"]),
    ("C%10CC%10", ["C", "%10", "C", "C", "%10"]),
    ("C=C#N", ["C", "=", "C", "#", "N"]),
    ("F/C=C/F", ["F", "/", "C", "=", "C", "/", "F"]),
])
def test_smiles_tokenizer_keeps_atoms_whole(smiles, tokens):
    assert tokenize_smiles(smiles) == tokens


def test_smiles_tokenizer_points_at_the_bad_character():
    with pytest.raises(InvalidMoleculeError, match=r"unexpected character '&' at position 3"):
        tokenize_smiles("CCC&C")


@pytest.mark.parametrize("representation", [SmilesRepresentation(), SelfiesRepresentation()],
                         ids=["smiles", "selfies"])
def test_round_trip_gives_the_same_canonical_molecule(representation, moses_test_smiles):
    sample = moses_test_smiles[:1000]
    for smiles in sample:
        tokens = representation.tokenize(smiles)
        assert canonical_smiles(representation.detokenize(tokens)) == canonical_smiles(smiles), smiles


def test_selfies_rejects_what_it_cannot_encode():
    with pytest.raises(InvalidMoleculeError, match="cannot encode"):
        SelfiesRepresentation().tokenize("C(C")


def test_vocabulary_names_unknown_token_and_position():
    vocab = Vocabulary.build([["C", "C", "O"], ["C", "N"]])
    assert vocab.tokens[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert vocab.tokens[4] == "C"  # most frequent first
    with pytest.raises(InvalidMoleculeError, match=r"token 'Br' at position 1 of 'CBr'"):
        vocab.encode(["C", "Br"], source="CBr")
    assert vocab.decode(vocab.encode(["C", "O"]) + [vocab.eos, vocab.index["N"]]) == ["C", "O"]


def test_vocabulary_survives_a_round_trip_through_plain_data():
    vocab = Vocabulary.build([["[C]", "[=O]"]])
    assert Vocabulary(list(vocab.tokens)) == vocab
