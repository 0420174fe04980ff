"""The general VAE core: pure torch, no chemistry.

Gaussian posterior and reparameterisation, KL to the standard normal prior, the ELBO with β and free
bits, KL annealing schedules, condition vectors for CVAEs, and the diagnostics that show collapse.
"""

from molvae.core.conditions import ConditionEncoder
from molvae.core.diagnostics import active_units, dims_at_free_bits_floor
from molvae.core.gaussian import DiagonalGaussian, gaussian_kl, reparameterize
from molvae.core.objective import VAELoss, iwae_bound, vae_loss
from molvae.core.schedules import BetaSchedule

__all__ = [
    "BetaSchedule",
    "ConditionEncoder",
    "DiagonalGaussian",
    "VAELoss",
    "active_units",
    "dims_at_free_bits_floor",
    "gaussian_kl",
    "iwae_bound",
    "reparameterize",
    "vae_loss",
]
