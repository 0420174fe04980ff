"""Property predictors on latent codes: post-hoc models on latent means, and a head trained with the VAE.

Post-hoc predictors (:func:`make_predictor`) learn y from z after training: a scikit-learn Gaussian
process (mean and uncertainty), ridge regression, or a small ensemble of torch MLPs (mean and spread).
All expose ``fit(Z, y)``, ``predict(Z) -> (mean, std)`` and a differentiable ``torch_mean(z)`` for
gradient ascent. :func:`heldout_r2` reports how well each predicts molecules it has not seen.

:func:`train_property_model` trains a VAE and a property head together (multi-task, as in the
chemical VAE of Gómez-Bombarelli et al. 2018); labels are built-in properties or columns of the
user's CSV.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from molvae.errors import MolvaeError
from molvae.generation import encode
from molvae.training.run import train
from molvae.training.trainer import TrainConfig

log = logging.getLogger(__name__)

PREDICTORS = ("gp", "ridge", "mlp")
GRADIENT_PREDICTORS = (*PREDICTORS, "head")  # what gradient ascent can climb: a post-hoc kind or the model's head


def latent_means(model, smiles: Sequence[str], conditions=None) -> tuple[np.ndarray, list[int]]:
    """Posterior means of molecules (skipping those the model cannot encode) and the kept indices."""
    mu, _, kept = encode(model, list(smiles), conditions, skip_invalid=True)
    return mu.numpy().astype(np.float64), kept


class GPPredictor:
    """Gaussian process regression (constant × RBF + white noise, normalised targets) on at most
    ``max_points`` training points (the best half and a random rest, to keep fitting fast)."""

    kind = "gp"

    def __init__(self, max_points: int = 800, seed: int = 0, restarts: int = 0):
        self.max_points, self.seed, self.restarts = max_points, seed, restarts

    def fit(self, Z: np.ndarray, y: np.ndarray) -> GPPredictor:
        from sklearn.gaussian_process import GaussianProcessRegressor  # noqa: PLC0415  (0.5 s to import)
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel  # noqa: PLC0415

        Z, y = _subset(np.asarray(Z, float), np.asarray(y, float), self.max_points, self.seed)
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(math.sqrt(Z.shape[1]), (1e-2, 1e3)) \
            + WhiteKernel(0.1, (1e-6, 1e1))
        self.gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=self.restarts,
                                           random_state=self.seed)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at the bounds are harmless here
            self.gp.fit(Z, y)
        return self

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.gp.predict(np.asarray(Z, float), return_std=True)
        return mean, std

    def torch_mean(self, z: torch.Tensor) -> torch.Tensor:
        kernel = self.gp.kernel_
        scale, length = kernel.k1.k1.constant_value, kernel.k1.k2.length_scale
        X = torch.as_tensor(self.gp.X_train_, dtype=z.dtype)
        alpha = torch.as_tensor(self.gp.alpha_, dtype=z.dtype).reshape(-1)
        k = scale * torch.exp(-0.5 * torch.cdist(z, X) ** 2 / float(length) ** 2)
        y_std = float(np.ravel(self.gp._y_train_std)[0])
        y_mean = float(np.ravel(self.gp._y_train_mean)[0])
        return (k @ alpha) * y_std + y_mean


class RidgePredictor:
    """Ridge regression; the uncertainty is the training residuals' standard deviation."""

    kind = "ridge"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, Z: np.ndarray, y: np.ndarray) -> RidgePredictor:
        from sklearn.linear_model import Ridge  # noqa: PLC0415  (scikit-learn takes 0.5 s to import)

        self.model = Ridge(alpha=self.alpha).fit(Z, y)
        self.residual = float(np.std(y - self.model.predict(Z)))
        return self

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = self.model.predict(np.asarray(Z, float))
        return mean, np.full_like(mean, self.residual)

    def torch_mean(self, z: torch.Tensor) -> torch.Tensor:
        w = torch.as_tensor(self.model.coef_, dtype=z.dtype)
        return z @ w + float(self.model.intercept_)


class MLPEnsemble:
    """``members`` small MLPs trained from different seeds on bootstrap resamples; mean and spread."""

    kind = "mlp"

    def __init__(self, members: int = 5, hidden: int = 64, epochs: int = 150, seed: int = 0):
        self.members, self.hidden, self.epochs, self.seed = members, hidden, epochs, seed

    def fit(self, Z: np.ndarray, y: np.ndarray) -> MLPEnsemble:
        inputs = torch.as_tensor(np.asarray(Z, float), dtype=torch.float32)
        y = np.asarray(y, float)
        self.y_mean, self.y_std = float(y.mean()), float(y.std()) or 1.0
        target = torch.as_tensor((y - self.y_mean) / self.y_std, dtype=torch.float32)
        self.nets = []
        for m in range(self.members):
            generator = torch.Generator().manual_seed(self.seed * 1000 + m)
            torch.manual_seed(self.seed * 1000 + m)
            net = nn.Sequential(nn.Linear(inputs.shape[1], self.hidden), nn.SiLU(), nn.Linear(self.hidden, self.hidden),
                                nn.SiLU(), nn.Linear(self.hidden, 1))
            rows = torch.randint(len(inputs), (len(inputs),), generator=generator)
            optimiser = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
            for _ in range(self.epochs):
                optimiser.zero_grad()
                loss = ((net(inputs[rows]).squeeze(1) - target[rows]) ** 2).mean()
                loss.backward()
                optimiser.step()
            self.nets.append(net.eval())
        return self

    def _stack(self, z: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(z).squeeze(1) for net in self.nets]) * self.y_std + self.y_mean

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            out = self._stack(torch.as_tensor(np.asarray(Z, float), dtype=torch.float32))
        return out.mean(0).numpy(), out.std(0).numpy()

    def torch_mean(self, z: torch.Tensor) -> torch.Tensor:
        return self._stack(z.float()).mean(0)


class PropertyHeadPredictor:
    """The head of a jointly trained :class:`~molvae.models.property_head.PropertyHeadVAE` as a predictor.

    It predicts property ``prop`` in its own units, or its negative with ``maximize=False`` (the
    utility of a minimised objective such as SA), so gradient ascent can climb it as it is."""

    kind = "head"

    def __init__(self, model, prop: str | None = None, maximize: bool = True):
        if not hasattr(model, "predict_properties"):
            raise MolvaeError("this model has no property head; train one with molvae train --property-head")
        self.model = model
        prop = prop or model.properties[0]
        if prop not in model.properties:
            raise MolvaeError(f"the model's head predicts {', '.join(model.properties)}, not {prop!r}")
        self.index = model.properties.index(prop)
        self.sign = 1.0 if maximize else -1.0

    def fit(self, Z, y) -> PropertyHeadPredictor:
        return self  # trained with the VAE

    def torch_mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.sign * self.model.predict_properties(z.to(self.model.device).float())[:, self.index].cpu()

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            mean = self.torch_mean(torch.as_tensor(np.asarray(Z), dtype=torch.float32)).numpy()
        return mean, np.zeros_like(mean)


def make_predictor(kind: str = "gp", seed: int = 0, **options: Any):
    """A new, unfitted predictor: ``gp``, ``ridge`` or ``mlp``."""
    if kind == "gp":
        return GPPredictor(seed=seed, **options)
    if kind == "ridge":
        return RidgePredictor(**options)
    if kind == "mlp":
        return MLPEnsemble(seed=seed, **options)
    raise MolvaeError(f"unknown predictor {kind!r}; choose one of: {', '.join(PREDICTORS)}")


def heldout_r2(Z: np.ndarray, y: np.ndarray, kinds: Sequence[str] = PREDICTORS, test_fraction: float = 0.2,
               seed: int = 0, predictor=None) -> dict[str, float]:
    """R² on a random held-out ``test_fraction`` of (Z, y) for each predictor kind fitted on the rest."""
    from sklearn.metrics import r2_score  # noqa: PLC0415  (scikit-learn takes 0.5 s to import)

    Z, y = np.asarray(Z, float), np.asarray(y, float)
    if len(y) < 10:
        raise MolvaeError(f"need at least 10 labelled molecules to measure held-out R², got {len(y)}")
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = max(2, int(round(test_fraction * len(y))))
    test, train = order[:n_test], order[n_test:]
    scores = {}
    for kind in kinds:
        model = predictor if predictor is not None and kind == "head" else make_predictor(kind, seed)
        model.fit(Z[train], y[train])
        scores[kind] = float(r2_score(y[test], model.predict(Z[test])[0]))
    return scores


def training_subset(y: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of all points when there are at most ``limit``; else of the best ``limit/2`` and a random
    rest, so a predictor refitted every round stays cheap but still sees the whole landscape."""
    if len(y) <= limit:
        return np.arange(len(y))
    order = np.argsort(-y)
    rest = rng.choice(order[limit // 2:], limit - limit // 2, replace=False)
    return np.concatenate([order[: limit // 2], rest])


def _subset(Z: np.ndarray, y: np.ndarray, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    keep = training_subset(y, limit, np.random.default_rng(seed))
    return Z[keep], y[keep]


# ------------------------------------------------------------------ joint training
def train_property_model(data: str | Path, run_dir: str | Path, properties: Sequence[str],
                         model_config: dict | None = None, train_config=None, smiles_column: str | None = None,
                         limit: int | None = None, property_weight: float = 1.0, val_fraction: float = 0.1,
                         seed: int = 0) -> dict[str, Any]:
    """Train a sequence VAE and a property head together on a molecule file.

    ``properties`` are columns of the file (user labels) or built-in RDKit properties. This is
    :func:`molvae.train` with ``property_head=properties`` (``molvae train --property-head``): the
    usual run folder, and the summary holds the head's held-out R² per property (``property_r2``).
    """
    if not properties:
        raise MolvaeError("name at least one property or label column for the property head")
    return train(data, run_dir, "sequence", model_config, train_config or TrainConfig(seed=seed),
                 smiles_column=smiles_column, limit=limit, val_fraction=val_fraction,
                 property_head=list(properties), property_weight=property_weight)

