"""Latent-space optimisation under oracle budgets: objectives, predictors, optimisers, constraints."""

from molvae.optimization.budget import OracleBudget, auc_top_k
from molvae.optimization.conditional import conditional_quality
from molvae.optimization.constraints import similarity_constraint
from molvae.optimization.objectives import desirability, get_oracle, weighted_sum
from molvae.optimization.oracle import Oracle
from molvae.optimization.predictors import heldout_r2, latent_means, make_predictor, train_property_model
from molvae.optimization.run import METHODS, OptimizationResult, optimize
from molvae.optimization.tasks import available_oracles, penalized_logp

__all__ = ["METHODS", "OptimizationResult", "Oracle", "OracleBudget", "auc_top_k", "available_oracles",
           "conditional_quality", "desirability", "get_oracle", "heldout_r2", "latent_means", "make_predictor",
           "optimize", "penalized_logp", "similarity_constraint", "train_property_model", "weighted_sum"]
