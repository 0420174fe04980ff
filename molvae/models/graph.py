"""Graph VAE: a message-passing encoder and a decoder that builds molecules atom by atom and bond by bond.

Encoder: atom and bond features → rounds of message passing over bonds (sums with ``index_add``,
GRU updates, Gilmer et al. 2017) → gated sum readout (+ condition c) → q(z | G, c). Sums make it
independent of how the atoms are numbered.

Decoder: an autoregressive GRU over the action sequence of :mod:`molvae.representations.graph`
(canonical breadth-first order, kekulised bonds), conditioned on (z, c) at every step like the
sequence model. Each step chooses one of: stop, add an atom of type t, or bond the newest atom to
an earlier atom j with order 1-3 (a pointer over the atoms built so far). Before every choice a mask
removes actions that would exceed a valence, disconnect the graph or repeat a bond; training uses
the same masks (the likelihood is normalised over allowed actions), so every decoded graph is one
connected molecule that RDKit sanitises, trained or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from rdkit import Chem
from torch import nn
from torch.nn import functional as F

from molvae.core.conditions import ConditionEncoder
from molvae.errors import MolvaeError
from molvae.featurizers.graph import MAX_REL, GraphFeaturizer
from molvae.models.base import MoleculeVAE, draw
from molvae.models.recurrent import DecoderGRU, combined_index, gru_update
from molvae.representations.graph import (
    ATOM_FEATURES,
    BOND_FEATURES,
    Action,
    ScaffoldPrefix,
    graph_text,
    max_valence,
    mol_from_text,
    scaffold_prefix,
)
from molvae.representations.vocab import SPECIAL_TOKENS

DEFAULTS: dict[str, Any] = {
    "representation": "graph",
    "embed_dim": 64,
    "encoder_hidden": 192,
    "encoder_layers": 4,
    "decoder_hidden": 384,
    "decoder_layers": 1,
    "latent_dim": 64,
    "key_dim": 64,
    "word_dropout": 0.1,
    "max_atoms": 50,
    "scaffold_orders": 0.5,  # share of training molecules whose decoder steps build their scaffold first
    "action_encoder": False,  # the encoder also reads the decoder's action sequence (bidirectional GRU)
    "max_ring_size": 0,  # no bond may close a ring of more atoms than this (0: no limit)
}
VALENCE_CLASSES = 5  # remaining valence 0..4+ as a decoder feature
FAR = 10_000  # the distance between atoms not (yet) connected
Graph = tuple[list[str], list[tuple[int, int, int]]]  # atom types, bonds (i, j, order) with i > j


class GraphVAE(MoleculeVAE):
    """Message-passing encoder and valence-masked autoregressive graph decoder."""

    model_name = "graph"
    featurizer: GraphFeaturizer

    def __init__(self, config: dict[str, Any], atom_types: list[str], conditions: ConditionEncoder | None = None,
                 valences: list[int] | None = None):
        config = {**DEFAULTS, **config}
        if config.get("representation") != "graph":
            raise MolvaeError(f"the graph model reads molecular graphs, not {config['representation']!r} strings")
        super().__init__(config, conditions)
        if not atom_types:
            raise MolvaeError("the graph model needs at least one atom type")
        cfg = self.config
        self.atom_types = list(atom_types)
        self.featurizer = GraphFeaturizer(self.atom_types, cfg["max_atoms"], cfg["scaffold_orders"])
        valences = valences or [max_valence(t) for t in self.atom_types]
        self.valences: torch.Tensor
        self.register_buffer("valences", torch.tensor(valences, dtype=torch.long), persistent=False)
        n_types, e, hidden, c_dim = len(self.atom_types), cfg["embed_dim"], cfg["encoder_hidden"], self.conditions.dim
        # encoder
        sizes = [n_types if s is None else s for s in ATOM_FEATURES.values()]
        self.atom_embeddings = nn.ModuleList(nn.Embedding(s, hidden) for s in sizes)
        self.bond_embeddings = nn.ModuleList(nn.Embedding(s, hidden) for s in BOND_FEATURES.values())
        self.messages = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(cfg["encoder_layers"]))
        self.update = nn.GRUCell(hidden, hidden)
        self.readout_gate = nn.Linear(hidden, 2 * hidden)
        self.readout_value = nn.Linear(hidden, 2 * hidden)
        self.readout_norm = nn.LayerNorm(2 * hidden)  # sums grow with molecule size; keep q(z|G) well scaled
        features = 2 * hidden
        if cfg["action_encoder"]:
            self.action_reader = nn.GRU(e, hidden // 2, batch_first=True, bidirectional=True)
            features += 2 * (hidden // 2)
        self.posterior = self._posterior_head(features + c_dim)
        # decoder
        dec, key = cfg["decoder_hidden"], cfg["key_dim"]
        self.input_kind = nn.Embedding(4, e)            # begin, atom, bond, dropped
        self.input_atom = nn.Embedding(n_types + 1, e)  # 0: none
        self.input_bond = nn.Embedding(4, e)            # 0: none
        self.input_distance = nn.Embedding(MAX_REL + 1, e)
        self.latent_to_hidden = nn.Linear(cfg["latent_dim"] + c_dim, dec * cfg["decoder_layers"])
        self.decoder_rnn = nn.GRU(e + cfg["latent_dim"] + c_dim, dec, cfg["decoder_layers"], batch_first=True)
        self.current_valence = nn.Embedding(VALENCE_CLASSES, dec)
        self.action_head = nn.Linear(dec, 1 + n_types)  # stop, add atom of each type
        self.query = nn.Linear(dec, 3 * key)            # one query per bond order
        self.key_atom = nn.Embedding(n_types, key)
        self.key_state = nn.Linear(dec, key)
        self.key_valence = nn.Embedding(VALENCE_CLASSES, key)

    # ----------------------------------------------------------------- construction and state
    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return dict(DEFAULTS)

    @classmethod
    def from_parts(cls, config: dict[str, Any], extra: dict[str, Any], conditions: ConditionEncoder | None):
        types = [t for t in extra["vocab"] if t not in SPECIAL_TOKENS]
        return cls(config, types, conditions, extra.get("valences"))

    def extra_state(self) -> dict[str, Any]:
        return {"vocab": list(self.atom_types), "valences": self.valences.tolist()}

    def start_weights(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Fine-tuning may switch the action encoder on: it then starts with fresh weights and with no
        say in q(z|G) (zero columns in the posterior head), so the model begins as the start model."""
        reads_actions = any(key.startswith("action_reader.") for key in state_dict)
        if reads_actions and not self.config["action_encoder"]:
            raise MolvaeError("the start model's encoder reads the action sequence; fine-tuning cannot remove that")
        if reads_actions or not self.config["action_encoder"]:
            return state_dict
        own = self.state_dict()
        state = {**state_dict, **{k: v for k, v in own.items() if k.startswith("action_reader.")}}
        graph = 2 * self.config["encoder_hidden"]  # readout features come first, the conditions last
        for name in ("posterior.mu.weight", "posterior.logvar.weight"):
            old = state[name]
            added = own[name].shape[1] - old.shape[1]
            state[name] = torch.cat([old[:, :graph], old.new_zeros(old.shape[0], added), old[:, graph:]], dim=1)
        return state

    @property
    def n_types(self) -> int:
        return len(self.atom_types)

    # ----------------------------------------------------------------- encoder
    def encoder_item(self, smiles: str):
        """The encoder's arrays only, unless it reads the decoder's actions (``action_encoder``)."""
        if self.config["action_encoder"]:
            return self.featurizer.featurize(smiles)
        return self.featurizer.encoder_item(smiles)

    def encode(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        atoms, bonds = batch["atom_features"], batch["bond_features"]
        h = sum(emb(atoms[:, k]) for k, emb in enumerate(self.atom_embeddings))
        e = sum(emb(bonds[:, k]) for k, emb in enumerate(self.bond_embeddings))
        src, dst = batch["edge_index"]
        src, dst, e = torch.cat([src, dst]), torch.cat([dst, src]), torch.cat([e, e])  # both directions
        h = self._pass_messages(h, src, dst, e) if torch.is_grad_enabled() else self._pass_messages_fast(h, src, dst, e)
        graphs = batch["types"].shape[0]
        gated = torch.sigmoid(self.readout_gate(h)) * self.readout_value(h)
        features = torch.zeros(graphs, gated.shape[1], dtype=torch.float32, device=gated.device)
        features = self.readout_norm(features.index_add_(0, batch["atom_graph"], gated.float()))
        if self.config["action_encoder"]:
            features = torch.cat([features, self._read_actions(batch["steps"])], dim=-1)
        if "c" in batch:
            features = torch.cat([features, batch["c"].to(features.dtype)], dim=-1)
        return self.posterior(features)

    def _pass_messages(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """Atom states after the message-passing layers, over bonds listed in both directions."""
        for message in self.messages:
            m = F.relu(message(h)[src] + e)  # project atoms, then gather: cheaper than per-bond projections
            incoming = torch.zeros_like(h).index_add_(0, dst, m)
            h = self.update(incoming, h)
        return h

    def _pass_messages_fast(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                            e: torch.Tensor) -> torch.Tensor:
        """:meth:`_pass_messages` for inference: the same equations, with every tensor in the autocast
        type when autocast is on (no casts between the layers) and the GRU cell stepped by
        :func:`gru_update`; about a third of the time in bf16 on a CPU."""
        kind = h.device.type
        dtype = torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else h.dtype
        cell = self.update
        w_ih, b_ih, w_hh, b_hh = (t.to(dtype) for t in (cell.weight_ih, cell.bias_ih, cell.weight_hh, cell.bias_hh))
        messages = [(layer.weight.to(dtype), layer.bias.to(dtype)) for layer in cast(list[nn.Linear], self.messages)]
        h, e = h.to(dtype), e.to(dtype)
        with torch.autocast(kind, enabled=False):
            for weight, bias in messages:
                m = F.linear(h, weight, bias).index_select(0, src).add_(e).relu_()
                incoming = torch.zeros_like(h).index_add_(0, dst, m)
                h = gru_update(F.linear(incoming, w_ih, b_ih), F.linear(h, w_hh, b_hh), h)
        return h

    def _read_actions(self, steps: torch.Tensor) -> torch.Tensor:
        """Final states (B, hidden) of a bidirectional GRU over the molecule's actions in the decoder's
        order (each step's input describes the action before it), so the code can name atoms by their
        place in that order, as the decoder must."""
        inputs = self._embed_inputs(steps[:, :, 1], steps[:, :, 2], steps[:, :, 3], steps[:, :, 4])
        lengths = (steps[:, :, 0] >= 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        _, hidden = self.action_reader(packed)
        return torch.cat([hidden[-2], hidden[-1]], dim=-1)

    # ----------------------------------------------------------------- decoder pieces
    def _embed_inputs(self, kind, atom, bond, distance) -> torch.Tensor:
        return self.input_kind(kind) + self.input_atom(atom) + self.input_bond(bond) + self.input_distance(distance)

    def _logits(self, out: torch.Tensor, keys: torch.Tensor, remaining: torch.Tensor,
                current: torch.Tensor) -> torch.Tensor:
        """Unmasked logits [stop, atom types, (partner j, order) pairs] for decoder outputs.

        ``out`` (B, S, H); ``keys`` (B, N, K); ``remaining`` (B, S, N) and ``current`` (B, S) remaining
        valences of the atoms and of the newest atom. Decoding computes the same with
        :class:`_DecodingHeads`."""
        out = out + self.current_valence(current.clamp(0, VALENCE_CLASSES - 1)).to(out.dtype)
        query = self.query(out).unflatten(-1, (3, -1))                        # (B, S, 3, K)
        pair = torch.einsum("bsrk,bnk->bsnr", query, keys)
        return torch.cat([self.action_head(out), pointer_logits(pair, query, self.key_valence.weight, remaining)], -1)

    def log_likelihood(self, batch: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        steps, types = batch["steps"], batch["types"]
        targets = steps[:, :, 0]
        kind, atom, bond, distance = steps[:, :, 1], steps[:, :, 2], steps[:, :, 3], steps[:, :, 4]
        if self.training and self.config["word_dropout"] > 0:
            drop = (torch.rand(kind.shape, device=kind.device) < self.config["word_dropout"]) & (kind > 0)
            kind, atom, bond, distance = (kind.masked_fill(drop, 3), atom.masked_fill(drop, 0),
                                          bond.masked_fill(drop, 0), distance.masked_fill(drop, 0))
        zc = self._latent_input(z, batch.get("c"))
        inputs = self._embed_inputs(kind, atom, bond, distance)
        inputs = torch.cat([inputs, zc.unsqueeze(1).expand(-1, inputs.shape[1], -1).to(inputs.dtype)], dim=-1)
        out, _ = self.decoder_rnn(inputs, self._initial_hidden(zc))
        states = out.gather(1, batch["key_steps"].unsqueeze(-1).expand(-1, -1, out.shape[-1]))
        keys = self.key_state(states) + self.key_atom(types.clamp(min=0))
        masks, remaining, current = self._teacher_forced_states(targets, types.shape[1])
        masks.scatter_(-1, targets.clamp(min=0).unsqueeze(-1), True)  # a molecule of the data is never ruled out
        logits = self._logits(out, keys, remaining, current).float().masked_fill(~masks, -torch.inf)
        valid = targets >= 0
        logp = F.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return (logp * valid).sum(dim=1)

    def _teacher_forced_states(self, targets: torch.Tensor, n_max: int):
        """Masks (B, S, K), remaining valences (B, S, N) and the newest atom's (B, S) along given actions."""
        builder = _GraphBuilder(targets.shape[0], n_max, self.valences, targets.device, self.config["max_atoms"],
                                max_ring=self.config["max_ring_size"])
        masks, remaining, current = [], [], []
        for s in range(targets.shape[1]):
            masks.append(builder.mask())
            remaining.append(builder.remaining.clone())
            current.append(builder.current_remaining())
            builder.apply(targets[:, s].clamp(min=0), active=targets[:, s] >= 0)
        return torch.stack(masks, 1), torch.stack(remaining, 1), torch.stack(current, 1)

    # ----------------------------------------------------------------- generation
    def scaffold_constraint(self, smiles: str) -> ScaffoldConstraint:
        """A scaffold (SMILES, ``[*]`` marking attachment points) checked against this model: its atom
        types, its size and room to grow. Raises MolvaeError naming what does not fit."""
        prefix = scaffold_prefix(smiles)
        unknown = sorted(set(prefix.tokens) - set(self.atom_types))
        if unknown:
            raise MolvaeError(f"the scaffold {smiles!r} holds atom type {unknown[0]}, which this model cannot build; "
                              f"its atom types: {' '.join(self.atom_types)}")
        limit = self.config["max_atoms"]
        if len(prefix.tokens) >= limit:
            raise MolvaeError(f"the scaffold {smiles!r} has {len(prefix.tokens)} atoms; this model builds molecules "
                              f"of at most {limit}, so there is no room to decorate it")
        classes = [self._action_class(action) for action in prefix.actions]
        builder = _GraphBuilder(1, len(prefix.tokens), self.valences, torch.device("cpu"), limit)
        for action in classes:
            builder.apply(torch.tensor([action]), torch.tensor([True]))
        if not bool((builder.remaining[0] > 0)[torch.tensor(prefix.growable)].any()):
            where = "at its [*] attachment points" if not all(prefix.growable) else "on any atom"
            raise MolvaeError(f"the scaffold {smiles!r} has no free valence {where}, so nothing can be attached; "
                              "mark attachment points with [*]")
        return ScaffoldConstraint(prefix, torch.tensor(classes), torch.tensor(prefix.growable))

    def _action_class(self, action: Action) -> int:
        """The decoder's class index of an action: 1 + type for an atom, after the types 3j + order - 1."""
        kind, *args = action
        if kind == "atom":
            return 1 + self.atom_types.index(str(args[0]))
        return 1 + self.n_types + 3 * int(args[0]) + int(args[1]) - 1

    @torch.no_grad()
    def generate_graphs(self, z: torch.Tensor, c: torch.Tensor | None = None, temperature: float = 1.0,
                        greedy: bool = False, max_atoms: int | None = None,
                        generator: torch.Generator | None = None,
                        scaffold: ScaffoldConstraint | None = None) -> list[Graph]:
        """Atom types and bonds (i, j, order) of one graph per latent point, all decoded together.

        Every step runs on the whole batch at once (recurrent step, valence masks, sampling), and a
        molecule leaves the batch as soon as it stops. With ``scaffold`` the scaffold's actions are
        forced as the first steps, and afterwards new atoms bond only to its attachment points; at least
        one atom is added to it."""
        n_max = min(max_atoms or self.config["max_atoms"], self.config["max_atoms"])
        batch, device = z.shape[0], z.device
        zc = self._latent_input(z, c)
        gru = DecoderGRU(self.decoder_rnn, zc, self.config["embed_dim"])
        hidden = gru.initial(self._initial_hidden(zc))
        embeddings = (self.input_kind, self.input_atom, self.input_bond, self.input_distance)
        input_gates = gru.input_table(*embeddings)  # a step's input is the sum of one row of each
        attachable = torch.ones(n_max, dtype=torch.bool, device=device)
        forced = torch.zeros(0, dtype=torch.long, device=device)
        min_atoms = 0
        if scaffold is not None:
            n_max = max(n_max, len(scaffold.growable) + 1)
            attachable = torch.ones(n_max, dtype=torch.bool, device=device)
            attachable[:len(scaffold.growable)] = scaffold.growable.to(device)
            forced = scaffold.actions.to(device)
            min_atoms = len(scaffold.growable) + 1  # a decorated scaffold, never the bare one
        builder = _GraphBuilder(batch, n_max, self.valences, device, n_max, attachable, min_atoms,
                                self.config["max_ring_size"])
        keys = torch.zeros(batch, n_max, self.config["key_dim"], device=device, dtype=gru.dtype)
        heads = _DecodingHeads(self, gru)
        alive = torch.arange(batch, device=device)  # the original rows of the molecules still being built
        inputs = torch.zeros(4, batch, dtype=torch.long, device=device)  # kind, atom, bond, distance
        added_atom = torch.zeros(batch, dtype=torch.bool, device=device)
        max_steps = n_max * 4
        history = torch.full((batch, max_steps), -1, dtype=torch.long, device=device)
        for step in range(max_steps):
            out = gru(input_gates.index_select(0, combined_index(embeddings, inputs)), hidden)
            actions, query, state_keys = heads(out, builder.current_remaining())
            rows = added_atom.nonzero().squeeze(1)  # an atom read at this step gets its key now
            newest = builder.count[rows] - 1
            keys[rows, newest] = state_keys[rows] + heads.key_atom.index_select(0, builder.types[rows, newest])
            if step < len(forced):
                action = forced[step].expand(len(alive))
            else:
                action = self._choose(actions, heads.pointers(query, keys, builder), builder, temperature, greedy,
                                      generator)
            inputs = torch.stack(self._previous_inputs(builder, action, builder.partner(action)))
            builder.apply(action, torch.ones_like(added_atom))
            added_atom = builder.is_atom(action)
            history[alive, step] = action
            finished = builder.done
            if bool(finished.all()):
                break
            if bool(finished.any()):  # finished molecules leave the batch
                keep = (~finished).nonzero().squeeze(1)
                alive, keys, added_atom, inputs = alive[keep], keys[keep], added_atom[keep], inputs[:, keep]
                hidden = [h[keep] for h in hidden]
                gru.keep(keep)
                builder.keep(keep)
        return self._graphs(history.cpu().numpy())

    @staticmethod
    def _choose(actions: torch.Tensor, pointers: torch.Tensor, builder: _GraphBuilder, temperature: float,
                greedy: bool, generator: torch.Generator | None) -> torch.Tensor:
        """The next action of every molecule from its action and pointer logits (the pointers cover the
        first ``count.max()`` atoms, see :meth:`_DecodingHeads.pointers`): the most likely allowed one,
        or one drawn at ``temperature``."""
        logits = torch.cat([actions, pointers], dim=-1).float()
        logits = logits.masked_fill_(~builder.mask(pointers.shape[1] // 3), -torch.inf)
        if greedy or temperature <= 0:
            return logits.argmax(-1)
        return draw(F.softmax(logits / temperature, dim=-1), generator)

    def _previous_inputs(self, builder: _GraphBuilder, action: torch.Tensor, partner: torch.Tensor):
        """Input embedding indices for the next step, describing ``action`` (before it is applied)."""
        is_atom, is_bond = builder.is_atom(action), builder.is_bond(action)
        pair = (action - 1 - self.n_types).clamp(min=0)
        kind = torch.where(is_atom, 1, torch.where(is_bond, 2, 0))
        partner_type = builder.types.gather(1, partner[:, None]).squeeze(1) + 1
        atom = torch.where(is_atom, action, torch.where(is_bond, partner_type, 0))
        bond = torch.where(is_bond, pair % 3 + 1, 0)
        distance = torch.where(is_bond, (builder.count - 1 - partner).clamp(0, MAX_REL), 0)
        return kind, atom.clamp(min=0), bond, distance

    def _graphs(self, history: np.ndarray) -> list[Graph]:
        """Atom types and bonds of each row of actions (-1 after the molecule stopped)."""
        is_atom = (history >= 1) & (history <= self.n_types)
        atom_index = np.cumsum(is_atom, axis=1) - 1            # the newest atom at every step
        pair = history - 1 - self.n_types
        types = np.asarray(self.atom_types, dtype=object)
        graphs = []
        for row in range(len(history)):
            atoms = history[row][is_atom[row]]
            bonded = np.flatnonzero(pair[row] >= 0)
            bonds = list(zip(atom_index[row, bonded].tolist(), (pair[row, bonded] // 3).tolist(),
                             (pair[row, bonded] % 3 + 1).tolist()))
            tokens = types[atoms - 1].tolist()
            if len(tokens) > 1 and (not bonds or bonds[-1][0] != len(tokens) - 1):
                tokens.pop()  # cut off mid-way: the newest atom has no bond yet
            graphs.append((tokens, bonds))
        return graphs

    def generate(self, z: torch.Tensor, c: torch.Tensor | None = None, temperature: float = 1.0,
                 greedy: bool = False, max_length: int | None = None,
                 generator: torch.Generator | None = None, scaffold: ScaffoldConstraint | None = None) -> list[str]:
        """The decoded graphs as text (:func:`graph_text`; ``max_length`` caps the number of atoms),
        turned into molecules by RDKit in the result rows' worker processes."""
        graphs = self.generate_graphs(z, c, temperature, greedy, max_length, generator, scaffold)
        return [graph_text(tokens, bonds) for tokens, bonds in graphs]

    @property
    def raw_format(self) -> str:
        return "graph"

    def to_smiles(self, raw: str) -> str:
        mol = mol_from_text(raw)
        return Chem.MolToSmiles(mol) if mol is not None else ""


def pointer_logits(pair: torch.Tensor, query: torch.Tensor, key_valence: torch.Tensor,
                   remaining: torch.Tensor) -> torch.Tensor:
    """Logits of bonding the newest atom to each earlier atom j with order 1-3, flattened (..., 3N):
    the query–key products ``pair`` (..., N, 3) plus the query's affinity to j's remaining valence
    (``key_valence`` (V, K) embeds remaining valence classes; ``query`` (..., 3, K), ``remaining`` (..., N))."""
    by_valence = torch.einsum("...rk,vk->...vr", query, key_valence.to(query.dtype))  # (..., V, 3)
    index = remaining.clamp(0, VALENCE_CLASSES - 1).unsqueeze(-1).expand(*remaining.shape, 3)
    return (pair + by_valence.gather(-2, index)).flatten(-2)


class _DecodingHeads:
    """The decoder's output heads as decoding runs them, with the constant work done once per batch.

    The action, query and key-state projections of the GRU output are one matrix product; the newest
    atom's remaining-valence embedding, which :meth:`GraphVAE._logits` adds to the output before the
    action and query heads, enters as a per-valence table of those heads' outputs (a linear layer of a
    sum is the sum of its parts). The same values as ``_logits`` up to rounding, in the decoding
    GRU's precision."""

    def __init__(self, model: GraphVAE, gru: DecoderGRU):
        heads = (model.action_head, model.query, model.key_state)
        self.sizes = [head.out_features for head in heads]
        self.weight = gru.cast(torch.cat([head.weight for head in heads]))
        self.bias = gru.cast(torch.cat([head.bias for head in heads]))
        valence = model.current_valence.weight
        self.by_current = gru.cast(torch.cat([F.linear(valence, model.action_head.weight),
                                              F.linear(valence, model.query.weight)], dim=1))
        self.key_atom, self.key_valence = gru.cast(model.key_atom.weight), gru.cast(model.key_valence.weight)
        self.no_autocast = gru.no_autocast

    def __call__(self, out: torch.Tensor, current: torch.Tensor):
        """Action logits (B, 1 + T), pointer queries (B, 3, K) and key states (B, K) of outputs ``out``
        (B, H) whose newest atoms have ``current`` remaining valence."""
        with self.no_autocast:
            projected = F.linear(out, self.weight, self.bias)
            actions, query, key_states = projected.split(self.sizes, dim=-1)
            shift = self.by_current.index_select(0, current.clamp(0, VALENCE_CLASSES - 1))
            actions = actions + shift[:, :self.sizes[0]]
            query = (query + shift[:, self.sizes[0]:]).unflatten(-1, (3, -1))
        return actions, query, key_states

    def pointers(self, query: torch.Tensor, keys: torch.Tensor, builder: _GraphBuilder) -> torch.Tensor:
        """Pointer logits (B, 3 W) over the first W = ``count.max()`` atoms, the only possible partners."""
        width = max(int(builder.count.max()), 1)
        with self.no_autocast:
            pair = torch.bmm(keys[:, :width], query.transpose(1, 2))  # (B, W, 3)
            return pointer_logits(pair, query, self.key_valence, builder.remaining[:, :width])


@dataclass(frozen=True)
class ScaffoldConstraint:
    """A scaffold as the graph decoder uses it: its actions as class indices, forced first, which of
    its atoms may grow, and the parsed scaffold every result must contain."""

    prefix: ScaffoldPrefix
    actions: torch.Tensor     # (P,) action classes
    growable: torch.Tensor    # (scaffold atoms,) bool

    def contained_in(self, smiles: str) -> bool:
        """Whether the molecule contains the scaffold (RDKit substructure match, the scaffold as query)."""
        mol = Chem.MolFromSmiles(smiles) if smiles else None
        return mol is not None and mol.HasSubstructMatch(self.prefix.query)


class _GraphBuilder:
    """Batched state of partially built graphs and the valence masks over the next action.

    Actions are class indices: 0 stop, 1..T add an atom of type t-1, and T + 1 + 3j + (order - 1)
    bond the newest atom to atom j. Phases: 0 empty, 1 newest atom still needs its first bond,
    2 open (stop, a new atom or another bond), 3 done.

    With ``max_ring`` the builder also keeps the bond-path distance between every two atoms, so that a
    bond closing a ring of more than ``max_ring`` atoms (its partner farther than ``max_ring - 1``
    bonds from the newest atom) is masked: rings beyond the training data's largest are not built."""

    def __init__(self, batch: int, n_max: int, valences: torch.Tensor, device: torch.device, atom_limit: int,
                 attachable: torch.Tensor | None = None, min_atoms: int = 0, max_ring: int = 0):
        self.n_max, self.valences, self.n_types = n_max, valences, len(valences)
        self.atom_limit = atom_limit  # the model's maximum; n_max (tensor width) may be a batch's largest molecule
        self.min_atoms = min_atoms    # no stop before this many atoms
        # (n_max,) atoms a new atom may bond to: all, or all but a scaffold's atoms without [*]
        self.attachable = attachable if attachable is not None else torch.ones(n_max, dtype=torch.bool,
                                                                               device=device)
        self.types = torch.full((batch, n_max), -1, dtype=torch.long, device=device)
        self.remaining = torch.zeros(batch, n_max, dtype=torch.long, device=device)
        self.count = torch.zeros(batch, dtype=torch.long, device=device)
        self.last = torch.full((batch,), -1, dtype=torch.long, device=device)
        self.phase = torch.zeros(batch, dtype=torch.long, device=device)
        self.rows = torch.arange(batch, device=device)
        self.positions = torch.arange(n_max, device=device)
        self.orders = torch.arange(1, 4, device=device)
        self.max_ring = max_ring
        # (B, N, N) bonds on the shortest path between two atoms, FAR when unconnected; only with max_ring
        self.distance = torch.full((batch, n_max, n_max) if max_ring else (batch, 0, 0), FAR, dtype=torch.int16,
                                   device=device)

    @property
    def done(self) -> torch.Tensor:
        return self.phase == 3

    def keep(self, rows: torch.Tensor) -> None:
        """Keep only the molecules at ``rows`` (the others have finished)."""
        for name in ("types", "remaining", "count", "last", "phase", "distance"):
            setattr(self, name, getattr(self, name)[rows])
        self.rows = torch.arange(len(rows), device=rows.device)

    def is_atom(self, action: torch.Tensor) -> torch.Tensor:
        return (action >= 1) & (action <= self.n_types)

    def is_bond(self, action: torch.Tensor) -> torch.Tensor:
        return action > self.n_types

    def partner(self, action: torch.Tensor) -> torch.Tensor:
        return torch.where(self.is_bond(action), (action - 1 - self.n_types).clamp(min=0) // 3, 0)

    def current_remaining(self) -> torch.Tensor:
        newest = (self.count - 1).clamp(min=0)
        return torch.where(self.count > 0, self.remaining[self.rows, newest], 0)

    def mask(self, width: int | None = None) -> torch.Tensor:
        """Allowed actions (B, 1 + T + 3 * width): bonds to the first ``width`` atoms (default all N)."""
        empty, first, open_ = self.phase == 0, self.phase == 1, self.phase == 2
        stop = (open_ & (self.count >= self.min_atoms)) | self.done
        room = (self.count < self.atom_limit) & ((self.remaining > 0) & self.attachable).any(1)
        atoms = (empty | (open_ & room)).unsqueeze(1) & (self.valences > 0).unsqueeze(0)
        newest, positions = self.count - 1, self.positions[:width]
        partner_ok = (positions < newest.unsqueeze(1)) & (positions > self.last.unsqueeze(1))
        partner_ok &= (first | open_).unsqueeze(1) & self.attachable[:width]
        if self.max_ring:  # a partner already connected to the newest atom closes a ring of distance + 1 atoms
            apart = self.distance[self.rows, newest.clamp(min=0), :width]
            partner_ok &= (apart < self.max_ring) | (apart == FAR)
        fits = self.orders.view(1, 1, 3) <= torch.minimum(
            self.remaining[:, :width], self.current_remaining().unsqueeze(1)).unsqueeze(-1)
        bonds = (partner_ok.unsqueeze(-1) & fits).flatten(1)
        return torch.cat([stop.unsqueeze(1), atoms, bonds], dim=1)

    def apply(self, action: torch.Tensor, active: torch.Tensor) -> None:
        """Advance the molecules where ``active`` by one action each."""
        add = active & self.is_atom(action)
        bond = active & self.is_bond(action)
        stop = active & (action == 0)
        slot = self.count.clamp(max=self.n_max - 1)
        t = (action - 1).clamp(0, self.n_types - 1)
        self.types[self.rows, slot] = torch.where(add, t, self.types[self.rows, slot])
        self.remaining[self.rows, slot] = torch.where(add, self.valences[t], self.remaining[self.rows, slot])
        pair = (action - 1 - self.n_types).clamp(min=0)
        j, order = pair // 3, pair % 3 + 1
        newest = (self.count - 1).clamp(min=0)
        self.remaining[self.rows, j] -= torch.where(bond, order, 0)
        self.remaining[self.rows, newest] -= torch.where(bond, order, 0)
        if self.max_ring:
            self._update_distances(add, bond, slot, newest, j)
        self.last = torch.where(bond, j, torch.where(add, -1, self.last))
        self.count = self.count + add.long()
        self.phase = torch.where(add, torch.where(self.count >= 2, 1, 2), self.phase)
        self.phase = torch.where(bond, 2, self.phase)
        self.phase = torch.where(stop, 3, self.phase)

    def _update_distances(self, add: torch.Tensor, bond: torch.Tensor, slot: torch.Tensor, newest: torch.Tensor,
                          j: torch.Tensor) -> None:
        """Shortest bond-path distances after this step (called before the phases move on).

        A new atom is at 0 from itself. The newest atom's first bond joins it to the graph through j,
        so its distances are j's plus one; a later bond i–j closes a ring and shortens every path that
        can go through it (d(a, b) ≤ d(a, i) + 1 + d(j, b) and the reverse), the only full update."""
        rows = add.nonzero().squeeze(1)
        self.distance[rows, slot[rows], slot[rows]] = 0
        width = int(self.count.max())
        rows = (bond & (self.phase == 1)).nonzero().squeeze(1)
        if len(rows):
            i = newest[rows]
            via = (self.distance[rows, j[rows], :width] + 1).clamp(max=FAR)
            via[torch.arange(len(rows), device=via.device), i] = 0
            self.distance[rows, i, :width] = via
            self.distance[rows, :width, i] = via
        rows = (bond & (self.phase == 2)).nonzero().squeeze(1)
        if len(rows):
            d = self.distance[rows, :width, :width].int()
            picked = torch.arange(len(rows), device=d.device)
            from_i, from_j = d[picked, newest[rows]], d[picked, j[rows]]
            through = torch.minimum(from_i.unsqueeze(2) + 1 + from_j.unsqueeze(1),
                                    from_j.unsqueeze(2) + 1 + from_i.unsqueeze(1))
            self.distance[rows, :width, :width] = torch.minimum(d, through).clamp(max=FAR).to(torch.int16)
