"""Reading molecule files and the MOSES benchmark split shipped in ``data/``."""

from molvae.datasets.io import read_molecules, read_smiles, read_table
from molvae.datasets.moses import moses_path, resolve_data_path

__all__ = ["moses_path", "read_molecules", "read_smiles", "read_table", "resolve_data_path"]
