"""Sequence VAE over SMILES or SELFIES tokens.

Encoder: token embedding → bidirectional GRU → final states (+ condition c) → q(z | x, c).
Decoder: autoregressive GRU whose initial state comes from (z, c) and whose input at every step is
the previous token's embedding concatenated with z and c (Bowman et al. 2016; Gómez-Bombarelli et
al. 2018). Word dropout replaces decoder inputs by the unknown token so the decoder must use z.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from molvae.core.conditions import ConditionEncoder
from molvae.featurizers.tokens import TokenFeaturizer
from molvae.models.base import MoleculeVAE, draw
from molvae.models.recurrent import DecoderGRU, bidirectional_final_states
from molvae.representations import Vocabulary, get_representation

DEFAULTS: dict[str, Any] = {
    "representation": "selfies",
    "embed_dim": 64,
    "encoder_hidden": 256,
    "encoder_layers": 1,
    "decoder_hidden": 384,
    "decoder_layers": 1,
    "latent_dim": 64,
    "word_dropout": 0.2,
    "max_length": 100,
}


class SequenceVAE(MoleculeVAE):
    """GRU encoder and autoregressive GRU decoder over a token vocabulary."""

    model_name = "sequence"

    def __init__(self, config: dict[str, Any], vocab: Vocabulary, conditions: ConditionEncoder | None = None):
        super().__init__({**DEFAULTS, **config}, conditions)
        cfg = self.config
        self.vocab = vocab
        self.representation = get_representation(cfg["representation"])
        self.featurizer = TokenFeaturizer(self.representation, vocab)
        c_dim = self.conditions.dim
        self.embedding = nn.Embedding(len(vocab), cfg["embed_dim"], padding_idx=vocab.pad)
        self.encoder_rnn = nn.GRU(cfg["embed_dim"], cfg["encoder_hidden"], cfg["encoder_layers"],
                                  batch_first=True, bidirectional=True)
        self.posterior = self._posterior_head(2 * cfg["encoder_hidden"] + c_dim)
        self.latent_to_hidden = nn.Linear(cfg["latent_dim"] + c_dim, cfg["decoder_hidden"] * cfg["decoder_layers"])
        self.decoder_rnn = nn.GRU(cfg["embed_dim"] + cfg["latent_dim"] + c_dim, cfg["decoder_hidden"],
                                  cfg["decoder_layers"], batch_first=True)
        self.output = nn.Linear(cfg["decoder_hidden"], len(vocab))

    # ----------------------------------------------------------------- construction and state
    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return dict(DEFAULTS)

    @classmethod
    def from_parts(cls, config: dict[str, Any], extra: dict[str, Any], conditions: ConditionEncoder | None):
        return cls(config, Vocabulary(extra["vocab"]), conditions)

    def extra_state(self) -> dict[str, Any]:
        return {"vocab": list(self.vocab.tokens)}

    # ----------------------------------------------------------------- VAE pieces
    def encode(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        tokens, lengths = batch["tokens"], batch["lengths"]
        if not torch.is_grad_enabled() and self.config["encoder_layers"] == 1:  # inference: the faster path
            features = bidirectional_final_states(self.encoder_rnn, self.embedding, tokens, lengths.to(tokens.device))
        else:
            packed = nn.utils.rnn.pack_padded_sequence(self.embedding(tokens), lengths.cpu(),
                                                       batch_first=True, enforce_sorted=False)
            _, hidden = self.encoder_rnn(packed)
            features = torch.cat([hidden[-2], hidden[-1]], dim=-1)
        if "c" in batch:
            features = torch.cat([features, batch["c"].to(features.dtype)], dim=-1)
        return self.posterior(features)

    def decoder_logits(self, tokens: torch.Tensor, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Teacher-forced logits (B, L-1, V) for predicting tokens[:, 1:] from tokens[:, :-1]."""
        inputs = tokens[:, :-1]
        if self.training and self.config["word_dropout"] > 0:
            drop = torch.rand(inputs.shape, device=inputs.device) < self.config["word_dropout"]
            drop[:, 0] = False  # keep the begin token
            inputs = inputs.masked_fill(drop & (inputs != self.vocab.pad), self.vocab.unk)
        zc = self._latent_input(z, c)
        embedded = self.embedding(inputs)
        steps = zc.unsqueeze(1).expand(-1, embedded.shape[1], -1)
        out, _ = self.decoder_rnn(torch.cat([embedded, steps.to(embedded.dtype)], dim=-1), self._initial_hidden(zc))
        return self.output(out)

    def log_likelihood(self, batch: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        tokens = batch["tokens"]
        logits = self.decoder_logits(tokens, z, batch.get("c"))
        targets = tokens[:, 1:]
        nll = F.cross_entropy(logits.transpose(1, 2).float(), targets, ignore_index=self.vocab.pad, reduction="none")
        return -nll.sum(dim=1)

    # ----------------------------------------------------------------- generation
    @torch.no_grad()
    def generate_ids(self, z: torch.Tensor, c: torch.Tensor | None = None, temperature: float = 1.0,
                     greedy: bool = False, max_length: int | None = None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """Token ids (B, ≤ max_length) decoded autoregressively, all sequences stepped together.

        The decoder's GRU is stepped by hand (the same equations as ``nn.GRU``) so that work constant
        over a sequence is done once: the first layer's input gates are a per-token table plus a
        per-molecule (z, c) term, and finished molecules leave the batch, so every step costs only the
        recurrent matrix products of the molecules still being written.
        """
        max_length = max_length or self.config["max_length"]
        batch, device = z.shape[0], z.device
        step_fn = _DecoderStep(self, self._latent_input(z, c))
        hidden = step_fn.gru.initial(self._initial_hidden(step_fn.gru.latent))
        token = torch.full((batch,), self.vocab.bos, dtype=torch.long, device=device)
        rows = torch.arange(batch, device=device)  # output rows of the molecules still being written
        out = torch.full((batch, max_length), self.vocab.pad, dtype=torch.long, device=device)
        length = 0
        for step in range(max_length):
            logits = step_fn(token, hidden)
            if greedy or temperature <= 0:
                token = logits.argmax(-1)
            else:
                token = draw(F.softmax(logits / temperature, dim=-1), generator)
            out[rows, step] = token
            length = step + 1
            going = token != self.vocab.eos
            if not bool(going.all()):
                if not bool(going.any()):
                    break
                rows, token = rows[going], token[going]
                hidden = [h[going] for h in hidden]
                step_fn.keep(going)
        return out[:, :length]

    def generate(self, z: torch.Tensor, c: torch.Tensor | None = None, temperature: float = 1.0,
                 greedy: bool = False, max_length: int | None = None,
                 generator: torch.Generator | None = None) -> list[str]:
        ids = self.generate_ids(z, c, temperature, greedy, max_length, generator).cpu().numpy()
        return [self.representation.to_string(self.vocab.decode(row)) for row in ids]

    def to_smiles(self, raw: str) -> str:
        return self.representation.detokenize([raw])

    @property
    def raw_format(self) -> str:
        return self.representation.name


class _DecoderStep:
    """One step of the decoder for a batch whose (z, c) part of the input is fixed: the hand-stepped
    GRU (:class:`DecoderGRU`, the token's input gates from one table) and the output layer."""

    def __init__(self, model: SequenceVAE, latent: torch.Tensor):
        self.gru = DecoderGRU(model.decoder_rnn, latent, model.config["embed_dim"])
        self.token_gates = self.gru.input_table(model.embedding)
        self.output = (self.gru.cast(model.output.weight), self.gru.cast(model.output.bias))
        self.banned = [model.vocab.pad, model.vocab.bos, model.vocab.unk]

    def keep(self, rows: torch.Tensor) -> None:
        self.gru.keep(rows)

    def __call__(self, token: torch.Tensor, hidden: list[torch.Tensor]) -> torch.Tensor:
        """Advance ``hidden`` in place by one token and return the next token's logits (float32)."""
        state = self.gru(self.token_gates.index_select(0, token), hidden)
        with self.gru.no_autocast:
            logits = F.linear(state, *self.output).float()
        logits[:, self.banned] = -float("inf")
        return logits
