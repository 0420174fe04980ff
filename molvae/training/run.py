"""Train a model from a molecule file: the whole path the ``molvae train`` command takes.

read file → validate, canonicalise, tokenise (rejects written to ``rejects.csv``) → vocabulary and
condition statistics from the training split → model from the registry → :class:`Trainer`.
"""

from __future__ import annotations

import json
import logging
import math
import random
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import molvae.training.distributed as distributed
from molvae.core.conditions import ConditionEncoder
from molvae.datasets import read_molecules, resolve_data_path
from molvae.datasets.canonical import shipped_canonical_forms
from molvae.datasets.moses import SHIPPED_CONDITIONS, shipped_conditions
from molvae.devices import resolve_device
from molvae.errors import MolvaeError
from molvae.files import replace_atomically
from molvae.models.graph import GraphVAE
from molvae.models.property_head import PropertyHeadVAE
from molvae.models.registry import MODELS, build_model
from molvae.representations import Vocabulary
from molvae.training.cache import cached_items, cached_preparation
from molvae.training.checkpoint import read_checkpoint
from molvae.training.data import prepare_molecules, split_indices
from molvae.training.dataset import Dataset
from molvae.training.trainer import TrainConfig, Trainer

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class RunConfig:
    """What a training run was started with; the run's ``config.json`` is its plain-data form.

    ``model_config`` is the model's full configuration once the run has started (its defaults
    filled in); ``counts`` says how many molecules were read, rejected and used.
    """

    data: str
    model: str = "sequence"
    model_config: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    conditions: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    smiles_column: str | None = None
    limit: int | None = None
    val_fraction: float = 0.05
    max_val: int = 10_000
    property_head: list[str] = field(default_factory=list)
    property_weight: float = 1.0
    init_from: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Read back ``to_dict`` output, including ``config.json`` files of earlier versions."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names and v is not None}
        return cls(**{**values, "train": TrainConfig.from_dict(data.get("train") or {})})


def train(data: str | Path, run_dir: str | Path, model: str = "sequence", model_config: dict | None = None,
          train_config: TrainConfig | None = None, conditions: list[str] | None = None,
          labels: list[str] | None = None, smiles_column: str | None = None, limit: int | None = None,
          val_fraction: float = 0.05, max_val: int = 10_000, workers: int = 1,
          resume: bool = False, init_from: str | Path | None = None, property_head: list[str] | None = None,
          property_weight: float = 1.0, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train a model on a molecule file (or ``moses``) and write the run into ``run_dir``.

    With ``resume``, the run's own ``config.json`` and ``last.pt`` are used: the same data, split,
    vocabulary, weights and settings, continued with the TrainConfig fields in ``changes`` (bounds,
    patience, device; recorded in ``config.json`` and logged) or, when ``train_config`` is given
    instead, with its bounds; of ``model_config`` only the graph decoder's ring limit
    (``max_ring_size``) and the sampling temperature (``sampling_temperature``) may change.
    With ``init_from`` (a checkpoint, e.g. the bundled model), training starts from that model's
    weights, architecture, vocabulary and conditions with a fresh optimiser: fine-tuning. Molecules
    with a token outside its vocabulary are rejected. With ``property_head`` (built-in properties or
    numeric columns) a property predictor on z is trained jointly with the VAE (the chemical VAE's
    multi-task objective, weighted by ``property_weight``); the summary then holds its held-out R².
    """
    run_dir = Path(run_dir)
    train_config = train_config or TrainConfig()
    start = read_checkpoint(init_from) if init_from is not None and not resume else None
    common: dict[str, Any] = {"train": train_config, "smiles_column": smiles_column, "limit": limit,
                              "val_fraction": val_fraction, "max_val": max_val,
                              "property_head": list(property_head or []), "property_weight": property_weight}
    if resume:
        run = RunConfig.from_dict(json.loads(_read_text(run_dir / "config.json")))
        run.train = _resumed_settings(run.train, changes if changes is not None else _bounds(train_config))
        run.model_config = _resumed_model(run.model_config, model_config)
    elif start:
        if start["model_name"] == PropertyHeadVAE.model_name:
            raise MolvaeError("fine-tuning a model with a property head is not supported; start from its base model")
        encoder = ConditionEncoder.from_dict(start["conditions"])
        run = RunConfig(data=str(data), model=start["model_name"],
                        model_config=_fine_tuning_config(start["config"], model_config),
                        conditions=list(encoder.continuous), labels=list(encoder.categorical),
                        init_from=str(init_from), **common)
    else:
        if model not in MODELS:
            raise MolvaeError(f"unknown model {model!r}; available: {', '.join(MODELS)}")
        run = RunConfig(data=str(data), model=model, model_config=dict(model_config or {}),
                        conditions=list(conditions or []), labels=list(labels or []), **common)
    _check_model_options(run.model, run.model_config)
    config = run.train
    seed_everything(config.seed)
    path = resolve_data_path(run.data)
    frame = read_molecules(path, run.smiles_column, run.limit)
    run.model_config = model_cfg = {**MODELS[run.model].default_config(), **run.model_config}
    longest = model_cfg["max_atoms"] if "max_atoms" in model_cfg else model_cfg.get("max_length", 100) - 2
    head = run.property_head
    computed = list(dict.fromkeys([*run.conditions, *head]))  # condition and head columns, each once
    frame = with_shipped_conditions(frame, path, computed)
    preparation = {"representation": model_cfg.get("representation", "smiles"), "conditions": computed,
                   "labels": run.labels, "max_tokens": longest}
    prepared = cached_preparation(
        path, {**preparation, "smiles_column": run.smiles_column, "limit": run.limit},
        lambda: prepare_molecules(frame, **preparation, workers=workers,
                                  canonical=shipped_canonical_forms(path, frame["smiles"].tolist())))
    distributed.init_from_environment(resolve_device(config.device))  # under torchrun: join the process group
    main_process = distributed.is_main_process()
    run_dir.mkdir(parents=True, exist_ok=True)
    if main_process:
        replace_atomically(run_dir / "rejects.csv", lambda p: prepared.rejects.to_csv(p, index=False))
    if prepared.frame.empty:
        raise MolvaeError(f"no usable molecules in {run.data} ({len(prepared.rejects)} rejected; "
                          f"see {run_dir / 'rejects.csv'})")
    train_idx, val_idx = split_indices(len(prepared.frame), run.val_fraction, run.max_val, config.seed)
    checkpoint = read_checkpoint(run_dir / "last.pt") if resume else start
    vocab = (Vocabulary(checkpoint["vocabulary"]["vocab"]) if checkpoint
             else Vocabulary.build(prepared.tokens))  # every usable molecule, validation too
    encoder = (ConditionEncoder.from_dict(checkpoint["conditions"]) if checkpoint
               else _fit_conditions(prepared.frame, train_idx, run.conditions, run.labels, config.seed))
    net = build_model(run.model, model_cfg, {"vocab": vocab.tokens}, encoder)
    if start:
        _load_start_weights(net, start["state_dict"])
    if checkpoint:  # a vocabulary fixed by a checkpoint (fine-tuning, or resuming one) may not spell them all
        train_idx, val_idx = (_known_tokens(prepared, idx, vocab) for idx in (train_idx, val_idx))
    if head:
        net = _with_property_head(net, prepared.frame, train_idx, head, run.property_weight)
    train_set, val_set = (_dataset(net, prepared, idx, encoder, run, workers) for idx in (train_idx, val_idx))
    run.counts = {"read": len(frame), "rejected": len(prepared.rejects), "train": len(train_set),
                          "validation": len(val_set), "vocabulary": len(vocab)}
    if main_process:
        replace_atomically(run_dir / "config.json", lambda p: p.write_text(json.dumps(run.to_dict(), indent=2)))
    log.info("training on %d molecules, validating on %d (%d rejected)", len(train_set), len(val_set),
             len(prepared.rejects))
    trainer = Trainer(net, train_set, val_set, config, run_dir,
                      metadata={"data": run.data, "counts": run.counts})
    if resume and checkpoint is not None:
        trainer.resume(checkpoint)
    summary = trainer.fit()
    if head and isinstance(net, PropertyHeadVAE):
        summary["property_r2"] = _head_r2(net, val_set, head)
    return summary


# training-time settings, the graph encoder's action reader, which starts without a say in q(z|G), the
# graph decoder's ring limit, which only masks actions, and the temperature samples are drawn at
FINE_TUNABLE = ("word_dropout", "prior", "prior_components", "action_encoder", "max_ring_size",
                "sampling_temperature")
CHANGEABLE_MODEL_ON_RESUME = {"max_ring_size": 0, "sampling_temperature": 1.0}  # with the value an unset one has


def _check_model_options(model: str, model_config: dict) -> None:
    """The graph model's own options are refused for other models; a ring limit must allow rings; a
    sampling temperature must be positive."""
    for key in ("action_encoder", "max_ring_size"):
        if model_config.get(key) and model != GraphVAE.model_name:
            raise MolvaeError(f"{_option(key)} is an option of the graph model (--model graph)")
    ring = model_config.get("max_ring_size") or 0
    if ring < 0 or 0 < ring < 3:
        raise MolvaeError(f"--max-ring-size must be 0 (no limit) or at least 3 atoms, got {ring}")
    temperature = model_config.get("sampling_temperature", 1.0)
    if not 0 < temperature < math.inf:
        raise MolvaeError(f"--sampling-temperature must be a positive number, got {temperature}")


def _resumed_model(kept: dict, model_config: dict | None) -> dict:
    """The run's model settings with the ones a resumed run may change (the ring limit, the sampling
    temperature), logged."""
    new = {k: v for k, v in (model_config or {}).items() if k in CHANGEABLE_MODEL_ON_RESUME}
    unset = CHANGEABLE_MODEL_ON_RESUME
    changed = {k: (kept.get(k, unset[k]), v) for k, v in new.items() if kept.get(k, unset[k]) != v}
    if changed:
        log.info("resuming with a changed model setting: %s",
                 ", ".join(f"{k} {old} -> {value}" for k, (old, value) in changed.items()))
    return {**kept, **new}


def _fine_tuning_config(start: dict, model_config: dict | None) -> dict:
    """The start model's configuration with the settings fine-tuning may change (word dropout, the
    training prior); an architecture setting that differs from the start model's is an error rather
    than silently ignored."""
    model_config = model_config or {}
    for key, value in model_config.items():
        if key not in FINE_TUNABLE and key in start and start[key] != value:
            changeable = ", ".join(_option(k) for k in FINE_TUNABLE)
            raise MolvaeError(f"{_option(key)} {value} differs from the start model's {start[key]}: fine-tuning "
                              f"keeps its architecture (it may change {changeable})")
    return {**start, **{k: v for k, v in model_config.items() if k in FINE_TUNABLE}}


def _option(key: str) -> str:
    return "--" + key.replace("_", "-")


def _load_start_weights(net, state_dict: dict) -> None:
    """The start model's weights; a VampPrior added by fine-tuning keeps its fresh pseudo-inputs (and
    one dropped by fine-tuning with the standard prior is left behind)."""
    missing, unexpected = ([k for k in keys if not k.endswith("pseudo_inputs")]
                           for keys in net.load_state_dict(net.start_weights(state_dict), strict=False))
    if missing or unexpected:
        raise MolvaeError(f"the start model's weights do not fit this model (missing {missing[:3]}, "
                          f"unexpected {unexpected[:3]})")


def _with_property_head(base, frame, train_idx: np.ndarray, properties: list[str], weight: float) -> PropertyHeadVAE:
    """``base`` wrapped with a property head whose targets are standardised on the training split."""
    values = frame[properties].iloc[train_idx].astype(float).to_numpy()
    stats = [[float(np.nanmean(col)), float(np.nanstd(col)) or 1.0] for col in values.T]
    return PropertyHeadVAE({"base_model": base.model_name, "base_config": dict(base.config), "properties": properties,
                            "property_stats": stats, "property_weight": weight}, base)


def _head_r2(model: PropertyHeadVAE, data: Dataset, properties: list[str]) -> dict[str, float]:
    """Held-out R² of the property head, predicting from the latent means of ``data``."""
    from sklearn.metrics import r2_score  # noqa: PLC0415  (scikit-learn takes 0.5 s to import)

    model.eval()
    with torch.no_grad():
        mus = [model.encode(model.batch_to_device(b))[0] for b in data.batches(model.featurizer, 256, bucket=False)]
        predicted = model.predict_properties(torch.cat(mus)).float().cpu().numpy()
    targets = data.targets
    if targets is None:  # a dataset without the head's targets: nothing to score against
        return {name: math.nan for name in properties}
    out = {}
    for j, name in enumerate(properties):
        known = np.isfinite(targets[:, j])
        out[name] = float(r2_score(targets[known, j], predicted[known, j])) if known.sum() > 1 else float("nan")
    return out


def _known_tokens(prepared, indices: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """The molecules among ``indices`` that a fixed vocabulary can spell (fine-tuning keeps its vocabulary)."""
    known = set(vocab.tokens)
    spelled = [i for i in indices if known.issuperset(prepared.tokens[i])]
    if len(spelled) < len(indices):
        log.warning("%d molecules use tokens outside the model's vocabulary and are skipped",
                    len(indices) - len(spelled))
    return np.asarray(spelled, dtype=np.int64)


def _resumed_settings(kept: TrainConfig, changes: dict[str, Any]) -> TrainConfig:
    """The run's settings with ``changes`` applied; the log says which changed, from what to what."""
    changed = {k: (getattr(kept, k), v) for k, v in changes.items() if getattr(kept, k) != v}
    shown = [f"{k} {old} -> {new}" for k, (old, new) in changed.items() if k != "show_progress"]
    if shown:
        log.info("resuming with changed settings: %s", ", ".join(shown))
    return replace(kept, **changes)


def _bounds(config: TrainConfig) -> dict[str, Any]:
    return {"epochs": config.epochs, "max_steps": config.max_steps, "max_minutes": config.max_minutes,
            "show_progress": config.show_progress, "checkpoint_minutes": config.checkpoint_minutes}


def _read_text(path: Path) -> str:
    if not path.exists():
        raise MolvaeError(f"cannot resume: {path} not found (give the run folder of an earlier molvae train)")
    return path.read_text()


def with_shipped_conditions(frame, path: Path, conditions: list[str]):
    """``frame`` with the shipped logP, QED and SA columns when it is the MOSES training split (data
    preparation then reads them instead of computing them: minutes instead of half an hour)."""
    wanted = [name for name in conditions if name not in frame.columns and name in SHIPPED_CONDITIONS]
    shipped = shipped_conditions(path, wanted, len(frame))
    if shipped is None or any(len(values) != len(frame) for values in shipped.values()):
        return frame
    log.info("using the shipped %s of the MOSES training split", ", ".join(wanted))
    return frame.assign(**shipped)


def _fit_conditions(frame, train_idx, conditions, labels, seed) -> ConditionEncoder:
    if not conditions and not labels:
        return ConditionEncoder()
    rows = frame.iloc[train_idx]
    return ConditionEncoder.fit({n: rows[n].astype(float).tolist() for n in conditions},
                                {n: rows[n].astype(str).tolist() for n in labels}, seed=seed)


def _dataset(model, prepared, indices, encoder: ConditionEncoder, run: RunConfig, workers: int) -> Dataset:
    rows = prepared.frame.iloc[indices]
    items = cached_items(model.featurizer, rows["smiles"].tolist(), (prepared.tokens[i] for i in indices), workers)
    targets = rows[run.property_head].astype(float).to_numpy() if run.property_head else None
    conditions = None
    if encoder:
        conditions = encoder.encode_columns({n: rows[n].astype(float).tolist() for n in run.conditions},
                                            {n: rows[n].astype(str).tolist() for n in run.labels})
    return Dataset(items, conditions, rows["smiles"].tolist(), targets)
