"""The objective type: an :class:`Oracle` scores one molecule for the optimisers.

An oracle maps a canonical SMILES to a float that the optimisers maximise (``maximize=False`` flips
the sign for them, e.g. for SA). Built-in ones live in :mod:`molvae.optimization.tasks`; names on the
command line are resolved by :mod:`molvae.optimization.objectives`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rdkit import Chem

from molvae.chem.molecules import parse_smiles
from molvae.errors import MolvaeError

MolScore = Callable[[Chem.Mol], float]


@dataclass
class Oracle:
    """A named objective. ``fn`` takes an RDKit molecule (``takes_mol``) or a SMILES string."""

    name: str
    fn: Callable
    description: str = ""
    maximize: bool = True
    takes_mol: bool = True
    meta: dict = field(default_factory=dict)

    def __call__(self, smiles: str) -> float:
        """The raw value for one SMILES (may raise or return NaN; the budget turns that into a failure)."""
        if not self.takes_mol:
            return float(self.fn(smiles))
        mol = parse_smiles(smiles)
        if mol is None:
            raise MolvaeError(f"invalid molecule {smiles!r}")
        return float(self.fn(mol))

    def utility(self, value: float) -> float:
        """What the optimisers maximise: the value, or its negative for a minimised objective."""
        return value if self.maximize else -value
