"""Evaluating generators and models: MOSES/GuacaMol distribution metrics with cached reference
statistics, model-level likelihood bounds, and a self-contained HTML report."""

from molvae.datasets.canonical import canonical_set
from molvae.evaluation.benchmark import BenchmarkResult, benchmark_moses
from molvae.evaluation.likelihood import importance_weighted_bound
from molvae.evaluation.metrics import MOSES_KEYS, evaluate, guacamol_scores
from molvae.evaluation.references import ReferenceStats, cache_dir, reference_stats
from molvae.evaluation.similarity import internal_diversity, nearest_similarity

__all__ = [
    "BenchmarkResult",
    "MOSES_KEYS",
    "ReferenceStats",
    "benchmark_moses",
    "cache_dir",
    "canonical_set",
    "evaluate",
    "guacamol_scores",
    "importance_weighted_bound",
    "internal_diversity",
    "nearest_similarity",
    "reference_stats",
]
