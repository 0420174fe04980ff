"""The MOSES benchmark of a model as one call: sample, score, model-level metrics, and a table.

``molvae benchmark moses`` is a thin wrapper around :func:`benchmark_moses`; notebooks and scripts
get the same numbers from Python.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from molvae.datasets import moses_path, read_smiles
from molvae.errors import MolvaeError
from molvae.evaluation.baselines import GUACAMOL_BASELINES, GUACAMOL_COLUMNS, GUACAMOL_SOURCE, markdown_table
from molvae.evaluation.metrics import evaluate
from molvae.evaluation.model_metrics import model_metrics
from molvae.generation import sample
from molvae.generation.sampler import describe_prior, sampling_prior
from molvae.training.checkpoint import load_model


@dataclass
class BenchmarkResult:
    """What one benchmark run produced: the samples, their metrics and the model's own metrics."""

    label: str
    samples: pd.DataFrame            # one row per sample: raw output, canonical SMILES or empty
    metrics: dict[str, float | None]  # MOSES and GuacaMol distribution metrics
    model_metrics: dict[str, Any]     # reconstruction, ELBO, IWAE, active units, KL per dimension
    seconds: dict[str, float]
    settings: dict[str, Any]
    details: dict[str, Any] = field(repr=False, default_factory=dict)  # for the HTML report
    model: Any = field(repr=False, default=None)                       # the loaded model (latent map)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``metrics.json``."""
        return {**self.settings, **self.metrics, "model_metrics": self.model_metrics, "seconds": self.seconds}

    def markdown(self) -> str:
        """The metrics beside the published MOSES and GuacaMol baselines, with their sources."""
        q = self.model_metrics
        return "\n".join([
            f"# MOSES benchmark: {self.label}, {self.settings['samples']} samples from the "
            f"{self.settings['prior']}{_at_temperature(self.settings.get('temperature', 1.0))}, "
            f"seed {self.settings['seed']}", "",
            markdown_table(self.metrics, self.label), "",
            markdown_table(self.metrics, self.label, GUACAMOL_COLUMNS, GUACAMOL_BASELINES, GUACAMOL_SOURCE), "",
            (f"Invalid strings were re-drawn: {self.settings['drawn']} decoded for {self.settings['samples']} "
             f"samples, raw validity {self.metrics['valid (raw)']:.4f}; 'valid' above is the validity as returned."
             if self.settings["drawn"] > self.settings["samples"] else
             "No string needed re-drawing (raw validity = validity as returned)."), "",
            (f"Model-level metrics on the first {q['molecules']} encodable MOSES test molecules "
             f"(nats per molecule, β = 1): greedy reconstruction accuracy {q['recon_accuracy']:.4f}, "
             f"ELBO {q['elbo']:.2f}, IWAE K=100 {q['iwae_k100']:.2f} (first {q['iwae_molecules']}), "
             f"active units {q['active_units']}/{q['latent_dim']}, KL {q['kl']:.2f}."), ""])


def _at_temperature(temperature: float) -> str:
    return "" if temperature == 1 else f" at temperature {temperature:g}"


def benchmark_moses(model: str | Path | None = None, n: int = 30_000, seed: int = 0, device: str = "auto",
                    workers: int = 2, train: str | Path | None = "moses", reference_limit: int | None = None,
                    test_molecules: int = 1000, iwae_molecules: int = 200) -> BenchmarkResult:
    """Sample ``n`` molecules from a checkpoint (default: the bundled model) and score them on MOSES.

    Invalid strings are re-drawn as ``molvae sample`` does; ``metrics["valid (raw)"]`` keeps the
    validity before that (the MOSES definition), ``valid`` is the validity of what is returned.

    Distribution metrics against the full MOSES test and scaffold-test splits (or a random subset of
    ``reference_limit``), Novelty against ``train`` (None to skip), and the model-level metrics on the
    first ``test_molecules`` test molecules (IWAE K=100 on the first ``iwae_molecules`` of them).
    """
    if n < 1 or test_molecules < 1 or iwae_molecules < 1:
        raise MolvaeError("the sample count, test molecules and IWAE molecules must be positive")
    started = time.perf_counter()
    net = load_model(model, device)
    frame = sample(net, n, seed=seed, properties=False)
    frame["generated"] = [net.to_smiles(raw) for raw in frame["raw"]]
    sampled = time.perf_counter()
    metrics, details = evaluate(frame["generated"].tolist(), "moses", train, workers=workers, device=device,
                                reference_limit=reference_limit, return_details=True)
    metrics["valid (raw)"] = frame.attrs["raw_validity"]  # before invalid strings were re-drawn
    scored = time.perf_counter()
    quality = model_metrics(net, read_smiles(moses_path("test"), limit=test_molecules),
                            iwae_molecules=iwae_molecules, k=100, seed=seed)
    seconds = {"sampling": round(sampled - started, 1), "metrics": round(scored - sampled, 1),
               "model_metrics": round(time.perf_counter() - scored, 1)}
    settings = {"model": str(model) if model else "bundled", "prior": describe_prior(sampling_prior(net)),
                "temperature": net.sampling_temperature, "samples": n, "seed": seed, "drawn": frame.attrs["drawn"],
                "reference_limit": reference_limit}
    label = f"molvae ({Path(model).name if model else 'bundled'})"
    return BenchmarkResult(label, frame, metrics, quality, seconds, settings, details, net)
