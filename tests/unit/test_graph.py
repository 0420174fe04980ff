"""Graph representation and graph VAE: round trips, valence-safe decoding, order invariance, bad input."""

import random

import pytest
import torch
from rdkit import Chem

import molvae
from molvae.chem.molecules import canonical_smiles, parse_smiles
from molvae.datasets import moses_path, read_smiles
from molvae.errors import InvalidMoleculeError
from molvae.models.graph import GraphVAE
from molvae.representations.graph import (
    MAX_VALENCE,
    graph_from_smiles,
    mol_from_actions,
    token_charge,
)

SMALL = {"embed_dim": 16, "encoder_hidden": 32, "encoder_layers": 2, "decoder_hidden": 48, "latent_dim": 8,
         "key_dim": 16}


def test_actions_rebuild_1000_moses_molecules_exactly():
    smiles = read_smiles(moses_path("test"), limit=1000)
    for s in smiles:
        graph = graph_from_smiles(s)
        assert Chem.MolToSmiles(mol_from_actions(graph.actions)) == canonical_smiles(s), s


@pytest.mark.parametrize("smiles", ["[O-][n+]1ccccc1", "Cc1cc[nH]c1", "O=[N+]([O-])c1ccccc1", "C[N+](C)(C)CC(=O)[O-]",
                                    "CS(=O)(=O)N1CCOCC1", "COP(=O)(OC)OC", "c1ccc2sccc2c1", "C#N", "C", "O=C=O"])
def test_charged_aromatic_and_hypervalent_atoms_round_trip(smiles):
    assert Chem.MolToSmiles(mol_from_actions(graph_from_smiles(smiles).actions)) == canonical_smiles(smiles)


def test_actions_follow_a_canonical_order_whatever_the_atom_numbering():
    mol = parse_smiles("CC(=O)Nc1ccc(O)cc1")
    actions = graph_from_smiles("CC(=O)Nc1ccc(O)cc1").actions
    rng = random.Random(0)
    for _ in range(5):
        order = list(range(mol.GetNumAtoms()))
        rng.shuffle(order)
        assert graph_from_smiles(Chem.MolToSmiles(Chem.RenumberAtoms(mol, order), canonical=False)).actions == actions


@pytest.mark.parametrize("token", sorted(MAX_VALENCE))
def test_every_allowed_valence_sanitises_with_implicit_hydrogens(token):
    symbol, charge = token_charge(token)
    for valence in range(1, MAX_VALENCE[token] + 1):
        for order in (1, 2, 3):
            if valence % order:
                continue
            mol = Chem.RWMol()
            centre = Chem.Atom(symbol)
            centre.SetFormalCharge(charge)
            mol.AddAtom(centre)
            for _ in range(valence // order):
                mol.AddBond(0, mol.AddAtom(Chem.Atom("C")), {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE,
                                                             3: Chem.BondType.TRIPLE}[order])
            Chem.SanitizeMol(mol)


@pytest.mark.parametrize(("smiles", "message"), [
    ("CC[Te]CC", r"atom 3 \(Te\): element or charge outside"),
    ("C[CH2]", r"atom 2 \(C\): radicals"),
    ("CI(=O)=O", r"atom 2 \(I\): valence 5 is above the 1"),
    ("[13CH3]O", r"atom 1 \(C\): isotope"),
    ("CC.O", "fragments"),
])
def test_molecules_outside_the_graph_vocabulary_are_rejected_naming_the_atom(smiles, message):
    with pytest.raises(InvalidMoleculeError, match=message):
        graph_from_smiles(smiles)


def test_an_untrained_model_samples_only_valid_molecules():
    torch.manual_seed(0)
    model = GraphVAE({**SMALL, "max_atoms": 24}, sorted(MAX_VALENCE)).eval()  # every type, charged ones too
    for greedy in (False, True):
        frame = molvae.sample(model, 200, seed=1, greedy=greedy, properties=False)
        assert frame["valid"].all(), frame.loc[~frame["valid"], "raw"].tolist()[:5]
    assert frame["smiles"].str.len().min() > 0


def largest_ring(smiles: str) -> int:
    mol = Chem.MolFromSmiles(smiles)
    return max((len(ring) for ring in mol.GetRingInfo().AtomRings()), default=0)


def test_a_ring_limit_stops_the_decoder_closing_larger_rings():
    types = ["C", "N", "O"]
    largest = {}
    for limit in (0, 4):
        torch.manual_seed(0)
        model = GraphVAE({**SMALL, "max_atoms": 24, "max_ring_size": limit}, types).eval()
        frame = molvae.sample(model, 600, seed=1, temperature=2.0, properties=False)  # hot: more rings
        assert frame["valid"].all()
        largest[limit] = frame["smiles"].map(largest_ring)
    assert (largest[0] > 4).sum() >= 5 and largest[4].max() == 4


@pytest.mark.parametrize("smiles", ["C1CCC2CCCCC2C1", "CC12CCC(CC1)C(=O)N2", "O=C(NC1CCCC1)c1ccc2[nH]ccc2c1"])
def test_the_builder_tracks_bond_path_distances_as_rdkit_counts_them(smiles):
    from molvae.models.graph import _GraphBuilder

    model = GraphVAE({**SMALL, "max_ring_size": 7}, ["C", "N", "O"])
    mol = parse_smiles(smiles)
    graph = graph_from_smiles(smiles)
    targets = torch.as_tensor(model.featurizer.featurize(smiles).steps[:, 0].astype("int64"))
    builder = _GraphBuilder(1, graph.num_atoms, model.valences, torch.device("cpu"), 50, max_ring=7)
    for action in targets:
        builder.apply(action.view(1), torch.tensor([True]))
    expected = torch.as_tensor(Chem.GetDistanceMatrix(mol)[graph.order][:, graph.order]).to(torch.int16)
    assert torch.equal(builder.distance[0], expected)


def test_a_molecule_beyond_the_ring_limit_keeps_a_finite_likelihood():
    model = GraphVAE({**SMALL, "max_ring_size": 7}, ["C", "N", "O"]).eval()
    batch = model.featurizer.collate([model.featurizer.featurize(s) for s in ("C1CCCCCCC1", "C1CCCCC1")], None)
    assert torch.isfinite(model.log_likelihood(batch, torch.zeros(2, SMALL["latent_dim"]))).all()


def test_decoding_heads_score_actions_as_the_training_likelihood_does():
    """Decoding folds the heads into one product and per-valence tables; the logits must not change."""
    from molvae.models.graph import _DecodingHeads, _GraphBuilder
    from molvae.models.recurrent import DecoderGRU

    torch.manual_seed(0)
    model = GraphVAE({**SMALL, "max_ring_size": 7}, ["C", "N", "O"]).eval()
    targets = torch.as_tensor(model.featurizer.featurize("O=C(NC1CCCC1)c1ccccc1").steps[:, 0].astype("int64"))
    builder = _GraphBuilder(1, 16, model.valences, torch.device("cpu"), 16, max_ring=7)
    for action in targets[:15]:  # midway: atoms of several remaining valences, a ring closed
        builder.apply(action.view(1), torch.tensor([True]))
    out, keys = torch.randn(1, SMALL["decoder_hidden"]), torch.randn(1, 16, SMALL["key_dim"])
    with torch.no_grad():
        gru = DecoderGRU(model.decoder_rnn, torch.zeros(1, SMALL["latent_dim"]), SMALL["embed_dim"])
        heads = _DecodingHeads(model, gru)
        actions, query, key_states = heads(out, builder.current_remaining())
        decoding = torch.cat([actions, heads.pointers(query, keys, builder)], dim=-1)
        training = model._logits(out[:, None], keys, builder.remaining[:, None], builder.current_remaining()[:, None])
        assert torch.allclose(decoding, training[0, :, :decoding.shape[1]], atol=1e-5)
        assert torch.allclose(key_states, model.key_state(out), atol=1e-6)


@pytest.mark.parametrize("action_encoder", [False, True])  # the actions follow the canonical order
def test_encoder_output_does_not_depend_on_atom_order(moses_test_smiles, action_encoder):
    torch.manual_seed(0)
    model = GraphVAE({**SMALL, "action_encoder": action_encoder}, ["C", "N", "O", "F", "S", "Cl", "Br"]).eval()
    mols = [parse_smiles(s) for s in moses_test_smiles[:20]]
    rng = random.Random(0)
    shuffled = []
    for mol in mols:
        order = list(range(mol.GetNumAtoms()))
        rng.shuffle(order)
        shuffled.append(Chem.RenumberAtoms(mol, order))
    featurizer = model.featurizer
    with torch.no_grad():
        batch = featurizer.collate([featurizer.featurize_mol(m) for m in mols], None)
        renumbered = featurizer.collate([featurizer.featurize_mol(m) for m in shuffled], None)
        mu, logvar = model.encode(batch)
        mu2, logvar2 = model.encode(renumbered)
        nll = model.log_likelihood(batch, mu)
        nll2 = model.log_likelihood(renumbered, mu)
    torch.testing.assert_close(mu, mu2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logvar, logvar2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(nll, nll2, atol=1e-4, rtol=1e-5)


def test_encoding_reads_only_the_encoder_arrays_and_gives_the_training_posterior(moses_test_smiles):
    torch.manual_seed(0)
    model = GraphVAE(SMALL, ["C", "N", "O", "F", "S", "Cl", "Br"]).eval()
    smiles = moses_test_smiles[:30]
    full = [model.featurizer.featurize(s) for s in smiles]
    lean = [model.encoder_item(s) for s in smiles]
    for a, b in zip(full, lean, strict=True):
        assert (a.atom_features == b.atom_features).all() and (a.bonds == b.bonds).all()
        assert (a.bond_features == b.bond_features).all() and len(b.steps) == 0
    training = model.encode(model.featurizer.collate(full, None))  # with gradients: nn.GRUCell
    with torch.no_grad():
        inference = model.encode(model.featurizer.collate(lean, None))
    for x, y in zip(training, inference, strict=True):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)
    mu, _, _ = molvae.encode(model, smiles)
    torch.testing.assert_close(mu, inference[0], atol=1e-5, rtol=1e-5)


def test_atoms_outside_the_model_vocabulary_fail_clearly_at_encode_time():
    model = GraphVAE(SMALL, ["C", "N", "O"])
    with pytest.raises(InvalidMoleculeError, match=r"atom 3 \(S\) of 'CCS' is not in the model's atom vocabulary"):
        molvae.encode(model, ["CCO", "CCS"])
    mu, _, kept = molvae.encode(model, ["CCO", "CCS", "C[Te]C"], skip_invalid=True)
    assert kept == [0] and mu.shape == (1, 8)


def _without_bond_orders(actions):
    return [action[:2] for action in actions]


def test_scaffold_first_orders_build_the_scaffold_as_a_given_scaffold_is_laid_out():
    from rdkit.Chem.Scaffolds import MurckoScaffold

    from molvae.representations.graph import graph_from_mol, scaffold_prefix

    checked = 0
    for s in read_smiles(moses_path("test"), limit=300):
        mol = parse_smiles(s)
        graph = graph_from_mol(mol, scaffold_first=True)
        assert Chem.MolToSmiles(mol_from_actions(graph.actions)) == canonical_smiles(s)
        scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol)
        if not scaffold or Chem.MolFromSmiles(scaffold).GetNumAtoms() == mol.GetNumAtoms():
            continue
        prefix = scaffold_prefix(scaffold)
        # the same atoms and bonds in the same order; a ring's kekulé form may alternate the other way
        assert _without_bond_orders(graph.actions[:len(prefix.actions)]) == _without_bond_orders(prefix.actions)
        checked += 1
    assert checked > 200


def test_graph_items_are_built_on_several_processes_into_a_table_that_saves_and_loads(tmp_path):
    from molvae.featurizers.graph import GraphFeaturizer, GraphTable

    smiles = [canonical_smiles(s) for s in read_smiles(moses_path("test"), limit=60)]
    featurizer = GraphFeaturizer(sorted(MAX_VALENCE), 50, scaffold_orders=0.5)
    table = featurizer.prepared_items(smiles, workers=1)
    assert len(table) == 60 and 10 < sum(featurizer.scaffold_first(s) for s in smiles) < 50
    table.save(tmp_path)
    loaded = GraphTable.load(tmp_path)
    for i, s in enumerate(smiles):
        one = featurizer.from_prepared(s, None)
        for item in (table[i], loaded[i]):
            assert all((getattr(item, name) == getattr(one, name)).all() for name in
                       ("atom_features", "bonds", "bond_features", "steps", "types", "key_steps"))
    (tmp_path / "steps.npy").write_bytes((tmp_path / "steps.npy").read_bytes()[:200])
    with pytest.raises((OSError, ValueError)):
        GraphTable.load(tmp_path)
