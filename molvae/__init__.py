"""molvae: variational autoencoders for molecular design.

The public API::

    import molvae
    model = molvae.load_model()                     # the bundled SMILES model
    samples = molvae.sample(model, n=1000, seed=0)  # DataFrame: smiles, raw, valid, logP, QED, SA, MW
    mu, logvar, kept = molvae.encode(model, ["CCO", "c1ccccc1"])
    path = molvae.interpolate(model, "CCO", "c1ccccc1", steps=8)
    best = molvae.optimize("QED", model, method="bo", budget=500).top  # every oracle call counted
"""

from molvae._version import __version__
from molvae.errors import InvalidMoleculeError, MolvaeError
from molvae.evaluation.metrics import evaluate
from molvae.generation import decode, encode, interpolate, neighbours, reconstruct, sample
from molvae.optimization import optimize
from molvae.training.checkpoint import load_model, read_checkpoint, save_checkpoint
from molvae.training.run import train
from molvae.training.trainer import TrainConfig

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
