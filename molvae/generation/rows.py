"""Result rows of generated strings: validity, canonical SMILES and properties, computed on every core
while the model goes on decoding.

RDKit work (SELFIES decoding, parsing, canonicalisation, logP/QED/SA/MW) costs more per molecule
than decoding it, so for large requests it runs in worker processes: each decoded batch is handed
to the pool at once and the main process decodes the next one. Strings already seen are not sent
again (decoders repeat themselves). The values are those of :func:`compute_properties` on the
canonical SMILES, rounded to 4 decimals, whichever path computes them (from the molecule parsed for
validation, which gives the same 4-decimal values without parsing the canonical SMILES again).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from molvae.chem.molecules import Validation, validate, validate_molecule
from molvae.chem.properties import load_property_tables, molecule_properties
from molvae.errors import match_name
from molvae.parallel import worker_context, yield_to_decoding
from molvae.representations import get_representation
from molvae.representations.graph import mol_from_text

OUTPUT_PROPERTIES = ("logP", "QED", "SA", "MW")
PARALLEL_FROM = 4000   # below this many strings worker start-up costs more than it saves
Row = tuple[str, bool, tuple[float, ...]]


def output_properties(properties: bool | Sequence[str]) -> tuple[str, ...]:
    """The property columns asked for: all of OUTPUT_PROPERTIES (True), none (False), or the names given."""
    if properties is True:
        return OUTPUT_PROPERTIES
    if properties is False or properties is None:
        return ()
    return tuple(dict.fromkeys(match_name(name, OUTPUT_PROPERTIES, "property") for name in properties))


def describe_strings(raw_format: str, names: tuple[str, ...], raws: Sequence[str]) -> list[Row]:
    """(canonical SMILES or "", valid, property values) of each raw string; runs in worker processes."""
    rows = []
    for raw in raws:
        check = _validate(raw_format, raw)
        values = molecule_properties(check.molecule, names) if check.valid and names else {}
        rows.append((check.smiles, check.valid, tuple(round(values[n], 4) for n in names) if values else ()))
    return rows


def _validate(raw_format: str, raw: str) -> Validation:
    """Validation of one raw string: SMILES as it is, SELFIES through its SMILES, and a graph model's
    text straight into an RDKit molecule (no SMILES parsed on the way)."""
    if raw_format == "smiles":
        return validate(raw)
    if raw_format == "graph":
        return validate_molecule(raw, mol_from_text(raw))
    return validate(get_representation(raw_format).detokenize([raw]))


class RowBuilder:
    """Collects decoded batches and turns them into one result frame, in parallel for large requests."""

    def __init__(self, raw_format: str, properties: bool | Sequence[str] = True, expected: int = 0,
                 workers: int | None = None):
        self.raw_format, self.names = raw_format, output_properties(properties)
        workers = workers if workers is not None else (os.cpu_count() or 1) if expected >= PARALLEL_FROM else 1
        self.workers = max(1, workers)
        self.pool = None
        if self.workers > 1:
            load_property_tables(self.names)  # once, before the workers are forked
            self.pool = worker_context().Pool(self.workers, initializer=yield_to_decoding)
        self.raws: list[str] = []
        self.rows: dict[str, Row] = {}
        self.pending: list = []

    def add(self, raws: Sequence[str]) -> None:
        """Queue one decoded batch; with workers the RDKit work starts now, in the background."""
        new = [raw for raw in dict.fromkeys(raws) if raw not in self.rows]
        self.raws.extend(raws)
        for raw in new:
            self.rows[raw] = ("", False, ())  # placeholder, so a later batch does not send it again
        if self.pool is None:
            self.rows.update(zip(new, describe_strings(self.raw_format, self.names, new)))
            return
        size = -(-len(new) // self.workers)
        for start in range(0, len(new), size or 1):
            chunk = new[start:start + size]
            job = self.pool.apply_async(describe_strings, (self.raw_format, self.names, chunk))
            self.pending.append((chunk, job))

    def frame(self) -> pd.DataFrame:
        """One row per string added since the last call: ``smiles`` (empty when invalid), ``raw``,
        ``valid`` and the properties. The workers stay up for further batches until :meth:`close`."""
        for chunk, job in self.pending:
            self.rows.update(zip(chunk, job.get()))
        self.pending = []
        raws, self.raws = self.raws, []
        rows = [self.rows[raw] for raw in raws]
        frame = pd.DataFrame({"smiles": [r[0] for r in rows], "raw": raws, "valid": [r[1] for r in rows]})
        for i, name in enumerate(self.names):
            frame[name] = [r[2][i] if r[1] else float("nan") for r in rows]
        return frame

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool = None

    def __enter__(self) -> RowBuilder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["OUTPUT_PROPERTIES", "RowBuilder", "describe_strings", "output_properties"]
