"""molvae: variational autoencoders for molecular design.

The public API::

    import molvae
    model = molvae.load_model()                     # the bundled SMILES model
    samples = molvae.sample(model, n=1000, seed=0)  # DataFrame: smiles, raw, valid, logP, QED, SA, MW
    mu, logvar, kept = molvae.encode(model, ["CCO", "c1ccccc1"])
    path = molvae.interpolate(model, "CCO", "c1ccccc1", steps=8)
    best = molvae.optimize("QED", model, method="bo", budget=500).top  # every oracle call counted
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from molvae._version import __version__
from molvae.errors import InvalidMoleculeError, MolvaeError

# Where each public name lives. They are imported on first use, so that ``import molvae`` and every
# ``molvae`` command pay only for what they touch (scikit-learn and SciPy, for instance, load only
# for optimisation).
_PUBLIC = {
    "evaluate": "molvae.evaluation.metrics",
    **dict.fromkeys(("decode", "encode", "interpolate", "neighbours", "reconstruct", "sample"), "molvae.generation"),
    "optimize": "molvae.optimization",
    **dict.fromkeys(("load_model", "read_checkpoint", "save_checkpoint"), "molvae.training.checkpoint"),
    "train": "molvae.training.run",
    "TrainConfig": "molvae.training.trainer",
}

if TYPE_CHECKING:
    from molvae.evaluation.metrics import evaluate
    from molvae.generation import decode, encode, interpolate, neighbours, reconstruct, sample
    from molvae.optimization import optimize
    from molvae.training.checkpoint import load_model, read_checkpoint, save_checkpoint
    from molvae.training.run import train
    from molvae.training.trainer import TrainConfig


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'molvae' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__all__ = [
    "InvalidMoleculeError",
    "MolvaeError",
    "TrainConfig",
    "__version__",
    "decode",
    "encode",
    "evaluate",
    "interpolate",
    "load_model",
    "neighbours",
    "optimize",
    "read_checkpoint",
    "reconstruct",
    "sample",
    "save_checkpoint",
    "train",
]
