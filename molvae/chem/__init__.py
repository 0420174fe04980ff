"""Chemistry helpers built on RDKit only (no torch): parsing, validation, properties, drawing."""

from molvae.chem.molecules import canonical_smiles, parse_smiles, silence_rdkit, validate
from molvae.chem.properties import PROPERTY_FUNCTIONS, compute_properties, property_table

__all__ = [
    "PROPERTY_FUNCTIONS",
    "canonical_smiles",
    "compute_properties",
    "parse_smiles",
    "property_table",
    "silence_rdkit",
    "validate",
]
