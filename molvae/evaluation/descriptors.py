"""What the metrics need to know about each molecule, computed over worker processes.

One RDKit pass per molecule (:func:`describe`) gives its canonical SMILES, packed Morgan
fingerprint, BRICS fragments, Bemis-Murcko scaffold, properties and, when asked, the GuacaMol
descriptors; ChemNet activations (for FCD) come from the maintained ``fcd`` package.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors, rdmolops
from rdkit.Chem.Scaffolds import MurckoScaffold

from molvae.chem.fingerprints import morgan_bits
from molvae.chem.molecules import parse_smiles
from molvae.chem.properties import molecule_properties
from molvae.datasets.canonical import parallel_map
from molvae.devices import resolve_device, torch_threads
from molvae.evaluation.filters import passes_filters

PROPERTY_NAMES = ("logP", "SA", "QED", "weight")
GUACAMOL_DESCRIPTORS = ("BertzCT", "MolLogP", "MolWt", "TPSA", "NumHAcceptors", "NumHDonors",
                        "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings")


def describe(smiles: str, filters: bool = True, descriptors: bool = False) -> dict | None:
    """Everything the metrics need about one molecule, or None when the string is not a valid one."""
    mol = parse_smiles(smiles)
    if mol is None:
        return None
    properties = molecule_properties(mol, ("logP", "SA", "QED", "MW"))  # QED's logP and weight shared
    row: dict[str, Any] = {
        "smiles": Chem.MolToSmiles(mol),
        "fingerprint": np.packbits(morgan_bits(mol, 2, 1024).astype(bool)),
        "fragments": Chem.MolToSmiles(rdmolops.FragmentOnBRICSBonds(mol)).split("."),
        "scaffold": _scaffold(mol, MurckoScaffold),
        "logP": properties["logP"],
        "SA": properties["SA"],
        "QED": properties["QED"],
        "weight": properties["MW"],
    }
    if filters:
        row["passes"] = passes_filters(mol)
    if descriptors:
        row["nostereo"] = Chem.MolToSmiles(mol, isomericSmiles=False)
        known = {"MolLogP": row["logP"], "MolWt": row["weight"]}  # the same RDKit functions, already computed
        row["descriptors"] = {name: known[name] if name in known else float(getattr(Descriptors, name)(mol))
                              for name in GUACAMOL_DESCRIPTORS}
    return row


def _scaffold(mol, murcko) -> str | None:
    try:
        scaffold = murcko.GetScaffoldForMol(mol)
    except Exception:  # noqa: BLE001 - RDKit raises plain RuntimeErrors on odd molecules
        return None
    text = Chem.MolToSmiles(scaffold)
    return text if text and scaffold.GetRingInfo().NumRings() >= 2 else None


def _describe_item(item: tuple[str, bool, bool]) -> dict | None:
    return describe(*item)


def describe_many(smiles: Sequence[str], workers: int = 2, filters: bool = True, descriptors: bool | int = False
                  ) -> list[dict | None]:
    """:func:`describe` for many strings; ``descriptors`` may be a count: only the first that many get them."""
    limit = len(smiles) if descriptors is True else int(descriptors)
    items = [(s, filters, i < limit) for i, s in enumerate(smiles)]
    describe("c1ccccc1O", filters, limit > 0)  # load RDKit's modules and pattern lists once, before forking
    return parallel_map(_describe_item, items, workers, desc="describing molecules")


def chemnet_activations(smiles: Sequence[str], workers: int = 2, device: str | None = None,
                        batch_size: int = 32) -> np.ndarray:
    """ChemNet's penultimate activations (N, 512) of canonical SMILES, from the ``fcd`` package.

    On a CPU with several workers the molecules are split over processes that each run ChemNet on one
    thread: its small recurrent matrix products scale better that way than over threads.
    """
    smiles = list(smiles)
    dev = resolve_device(device or "auto")
    if dev.type != "cpu" or workers <= 1 or len(smiles) < 2000:
        return _chemnet_part((smiles, max(1, workers), str(dev), batch_size))
    _chemnet()  # loaded once, before forking
    parts = [smiles[i:i + 1000] for i in range(0, len(smiles), 1000)]
    jobs = [(part, 1, "cpu", batch_size) for part in parts]
    return np.concatenate(parallel_map(_chemnet_part, jobs, workers, min_items=2))


@cache
def _chemnet():
    import fcd  # noqa: PLC0415  (fcd imports scipy.linalg: 0.15 s of every command's start-up otherwise)

    return fcd.load_ref_model()


def _chemnet_part(item: tuple[list[str], int, str, int]) -> np.ndarray:
    import fcd  # noqa: PLC0415  (see _chemnet)

    smiles, threads, device, batch_size = item
    with torch_threads(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pad-length notices for SMILES longer than 350 characters
        return fcd.get_predictions(_chemnet(), smiles, batch_size=batch_size, n_jobs=0, device=device)
