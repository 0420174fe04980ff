"""SELFIES (Krenn et al. 2020) through the selfies package: every token string decodes to a molecule."""

from __future__ import annotations

import selfies as sf

from molvae.errors import InvalidMoleculeError
from molvae.representations.base import Representation


class SelfiesRepresentation(Representation):
    """SMILES → SELFIES symbols, and symbols → SMILES."""

    name = "selfies"

    def tokenize(self, smiles: str) -> list[str]:
        try:
            encoded = sf.encoder(smiles, strict=True)
        except sf.EncoderError as err:
            raise InvalidMoleculeError(f"cannot encode {smiles!r} as SELFIES: {_first_line(err)}") from None
        if encoded is None:
            raise InvalidMoleculeError(f"cannot encode {smiles!r} as SELFIES")
        return list(sf.split_selfies(encoded))

    def detokenize(self, tokens: list[str]) -> str:
        try:
            return sf.decoder("".join(tokens)) or ""
        except sf.DecoderError:
            return ""


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
