"""A Gaussian process on molecules: a Tanimoto kernel on Morgan bits (scikit-learn).

A GP on latent points can only be as smooth as the latent space; many objectives (similarity to a
target, MPO scores built from fingerprints and descriptors) are far smoother as functions of the
molecule's fingerprint. Bayesian optimisation uses this model to rank decoded candidates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, WhiteKernel

from molvae.chem.fingerprints import morgan_matrix
from molvae.optimization.predictors import training_subset


class TanimotoKernel(Kernel):
    """k(a, b) = |a ∧ b| / |a ∨ b| on bit-vector rows: the similarity chemists already use for
    fingerprints, as a scikit-learn kernel with no hyper-parameters of its own (scale it with a
    ``ConstantKernel``, add noise with a ``WhiteKernel``). Within one ``fit`` the same training matrix
    is passed many times, so its Gram matrix is computed once."""

    def __init__(self):
        self._gram: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, X, Y=None, eval_gradient=False):
        if Y is None:
            if self._gram is None or self._gram[0] is not X:
                self._gram = (X, _tanimoto(X, X))
            K = self._gram[1]
        else:
            K = _tanimoto(X, Y)
        return (K, np.empty((len(X), len(X), 0))) if eval_gradient else K

    def diag(self, X):
        return np.ones(len(X))

    def is_stationary(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "Tanimoto()"


def _tanimoto(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    X, Y = np.asarray(X, np.float32), np.asarray(Y, np.float32)
    common = X @ Y.T
    union = X.sum(1)[:, None] + Y.sum(1)[None, :] - common
    return np.divide(common, union, out=np.ones_like(common), where=union > 0).astype(np.float64)


class FingerprintGP:
    """Gaussian process on molecules rather than latent points: (constant × Tanimoto + white noise)
    on Morgan bits, normalised targets, at most ``max_points`` training molecules (best half and a
    random rest). ``fit(smiles, y)`` and ``predict(smiles) -> (mean, std)``."""

    def __init__(self, max_points: int = 1000, seed: int = 0):
        self.max_points, self.seed = max_points, seed

    def fit(self, smiles: Sequence[str], y: np.ndarray) -> FingerprintGP:
        y = np.asarray(y, float)
        keep = training_subset(y, self.max_points, np.random.default_rng(self.seed))
        X = morgan_matrix([smiles[i] for i in keep])
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * TanimotoKernel() + WhiteKernel(0.1, (1e-5, 1.0))
        self.gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at the bounds are harmless here
            self.gp.fit(X, y[keep])
        return self

    def predict(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.gp.predict(morgan_matrix(list(smiles)), return_std=True)
