"""Token featurizer of the sequence models: SMILES or SELFIES tokens as ids framed by begin/end."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from molvae.representations import Representation, Vocabulary


class TokenFeaturizer:
    """Molecules as token-id arrays over one vocabulary, batched with padding."""

    def __init__(self, representation: Representation, vocab: Vocabulary):
        self.representation, self.vocab = representation, vocab

    def featurize(self, smiles: str) -> np.ndarray:
        """The item of one molecule; raises InvalidMoleculeError naming a token outside the vocabulary."""
        return self.featurize_tokens(self.representation.tokenize(smiles), source=smiles)

    def featurize_tokens(self, tokens: Sequence[str], source: str = "") -> np.ndarray:
        """Token ids framed by begin and end tokens (tokens already computed during data preparation)."""
        ids = self.vocab.encode(list(tokens), source=source)
        return np.asarray([self.vocab.bos, *ids, self.vocab.eos], dtype=np.int16)

    def from_prepared(self, smiles: str, tokens: Sequence[str]) -> np.ndarray:
        """The item of a molecule from data preparation, which has already tokenised it."""
        return self.featurize_tokens(tokens, source=smiles)

    def collate(self, items: list[np.ndarray], conditions: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """``tokens`` (B, longest) padded with the pad id, ``lengths`` (B,), and ``c`` when given."""
        lengths = torch.tensor([len(x) for x in items])
        tokens = torch.full((len(items), int(lengths.max())), self.vocab.pad, dtype=torch.long)
        for i, x in enumerate(items):
            tokens[i, : len(x)] = torch.from_numpy(x.astype(np.int64))
        batch = {"tokens": tokens, "lengths": lengths}
        if conditions is not None:
            batch["c"] = conditions
        return batch
