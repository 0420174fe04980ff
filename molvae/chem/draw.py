"""Grids of molecules drawn by RDKit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdkit.Chem.Draw import rdMolDraw2D

from molvae.chem.molecules import parse_smiles
from molvae.errors import MolvaeError
from molvae.files import replace_atomically


def draw_grid(smiles: Sequence[str], path: str | Path, legends: Sequence[str] | None = None,
              per_row: int = 5, size: int = 250, max_molecules: int = 50) -> Path:
    """Draw up to ``max_molecules`` valid molecules into a PNG grid and return its path."""
    pairs = []
    for i, s in enumerate(smiles):
        mol = parse_smiles(s) if s else None
        if mol is not None:
            pairs.append((mol, legends[i] if legends is not None else ""))
        if len(pairs) >= max_molecules:
            break
    if not pairs:
        raise MolvaeError("no valid molecule to draw")
    mols, labels = zip(*pairs)
    columns = min(per_row, len(mols))
    rows = -(-len(mols) // columns)
    drawer = rdMolDraw2D.MolDraw2DCairo(columns * size, rows * size, size, size)
    drawer.DrawMolecules(list(mols), legends=list(labels))
    drawer.FinishDrawing()
    return replace_atomically(path, lambda p: p.write_bytes(drawer.GetDrawingText()))
