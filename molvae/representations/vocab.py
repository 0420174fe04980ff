"""Token vocabulary with the special tokens every sequence model needs; saved with the model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from molvae.errors import InvalidMoleculeError

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)


class Vocabulary:
    """Maps tokens to integer ids. Ids 0-3 are padding, begin, end and unknown (word dropout)."""

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            tokens = list(SPECIAL_TOKENS) + [t for t in tokens if t not in SPECIAL_TOKENS]
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}
        self.pad, self.bos, self.eos, self.unk = (self.index[t] for t in SPECIAL_TOKENS)

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> Vocabulary:
        """Vocabulary of every token seen, most frequent first (ties broken alphabetically)."""
        counts = Counter(t for tokens in token_lists for t in tokens)
        ordered = sorted(counts, key=lambda t: (-counts[t], t))
        return cls(list(SPECIAL_TOKENS) + ordered)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def encode(self, tokens: Sequence[str], source: str = "") -> list[int]:
        """Ids for ``tokens``; an unknown token raises an error naming it and its position."""
        try:
            ids = [self.index[token] for token in tokens]
            if min(ids, default=len(SPECIAL_TOKENS)) >= len(SPECIAL_TOKENS):
                return ids
        except KeyError:
            pass
        ids = []
        for position, token in enumerate(tokens):
            idx = self.index.get(token)
            if idx is None or idx < len(SPECIAL_TOKENS):
                where = f" of {source!r}" if source else ""
                raise InvalidMoleculeError(
                    f"token {token!r} at position {position}{where} is not in the model's vocabulary")
            ids.append(idx)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens for ids up to the first end token; padding and begin tokens are dropped."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i in (self.pad, self.bos):
                continue
            out.append(self.tokens[i] if i != self.unk else "")
        return out
