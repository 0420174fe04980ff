"""Evaluating models: likelihood bounds and, in time, distribution metrics."""

from molvae.evaluation.likelihood import importance_weighted_bound

__all__ = ["importance_weighted_bound"]
