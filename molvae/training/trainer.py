"""The one training loop for every molvae model.

Models supply ``collate`` and ``forward`` (per-molecule reconstruction NLL and KL per dimension);
the trainer owns everything else: devices and mixed precision, AdamW with warm-up and cosine decay,
gradient clipping, β annealing and free bits, length-bucketed batches, validation, collapse
diagnostics, early stopping, ``metrics.csv``, and atomic ``last``/``best`` checkpoints that
``resume`` continues from. A run stops after ``epochs``, ``max_steps`` or ``max_minutes``,
whichever comes first, and always saves before it stops. ``last.pt`` records the position inside
the epoch and the random state, so a resumed run takes exactly the steps the uninterrupted run
would have taken (same batches, same noise); ``checkpoint_minutes`` also writes it during an epoch.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import random
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

import molvae.training.distributed as distributed
from molvae.core.diagnostics import dims_at_free_bits_floor
from molvae.core.objective import VAELoss, vae_loss
from molvae.core.schedules import BetaSchedule
from molvae.devices import bf16_autocast_helps, resolve_device
from molvae.errors import MolvaeError
from molvae.files import replace_atomically
from molvae.training.checkpoint import save_checkpoint
from molvae.training.dataset import Dataset
from molvae.training.diagnostics import evaluate_model

log = logging.getLogger(__name__)

METRIC_COLUMNS = ["epoch", "step", "minutes", "lr", "beta", "train_loss", "train_recon", "train_kl",
                  "val_recon", "val_kl", "val_neg_elbo", "active_units", "recon_accuracy",
                  "prior_validity", "prior_uniqueness"]


LR_SCHEDULES = ("cosine", "constant")  # cosine decay after a linear warm-up, or constant after it


@dataclass
class TrainConfig:
    """Optimisation settings; stored in the run's ``config.json`` and in every checkpoint."""

    epochs: int | None = 10
    max_steps: int | None = None
    max_minutes: float | None = None
    epoch_size: int | None = None          # molecules per epoch; None = the whole training set
    batch_size: int = 256
    lr: float = 1e-3
    min_lr_ratio: float = 0.05
    lr_schedule: str = "cosine"            # one of LR_SCHEDULES
    warmup_steps: int = 200
    weight_decay: float = 1e-5
    grad_clip: float = 1.0
    beta: float = 1.0
    beta_schedule: str = "linear"
    beta_start: float = 0.0
    beta_warmup_steps: int = 2000
    beta_cycles: int = 4
    free_bits: float = 0.0                 # per-dimension KL floor, nats
    patience: int | None = 5               # epochs without validation improvement after β warm-up
    seed: int = 0
    device: str = "auto"
    amp: bool = True                       # bf16 autocast on CUDA and on CPUs with native bf16
    diagnostic_molecules: int = 500        # validation molecules reconstructed, prior samples drawn
    bucket_by_length: bool = True          # batches of similar-length molecules: less padding, faster
    checkpoint_minutes: float | None = None  # also save last.pt this often inside an epoch (long runs)
    show_progress: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def beta_at(self) -> BetaSchedule:
        return BetaSchedule(self.beta_schedule, self.beta, self.beta_start, self.beta_warmup_steps, self.beta_cycles)


class Trainer:
    """Trains a model on a training and a validation :class:`Dataset`, writing into ``run_dir``."""

    def __init__(self, model, train: Dataset, val: Dataset, config: TrainConfig, run_dir: str | Path,
                 metadata: dict | None = None):
        if len(train) == 0:
            raise MolvaeError("no usable training molecules")
        self.config, self.run_dir = config, Path(run_dir)
        self.device = distributed.init_from_environment(resolve_device(config.device))
        self.model = model.to(self.device)
        self.network = model  # what the step runs: the model, or its DistributedDataParallel wrapper
        if distributed.world_size() > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.train_set, self.val_set = train, val
        self.metadata = metadata or {}
        self.beta = config.beta_at()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        batches = math.ceil(min(len(train), config.epoch_size or len(train)) / config.batch_size)
        self.steps_per_epoch = max(1, batches // distributed.world_size())
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        # batch: batches of the current epoch already taken; epoch_sums: their summed loss terms
        self.state: dict[str, Any] = {"epoch": 0, "step": 0, "minutes": 0.0, "best": math.inf, "bad_epochs": 0,
                      "batch": 0, "epoch_sums": {}}
        self._rng_state: torch.Tensor | None = None
        self.run_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ schedule
    def _total_steps(self) -> int | None:
        cfg = self.config
        by_epochs = cfg.epochs * self.steps_per_epoch if cfg.epochs else None
        candidates = [s for s in (cfg.max_steps, by_epochs) if s]
        return min(candidates) if candidates else None

    def _lr_factor(self, step: int) -> float:
        cfg = self.config
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        total = self._total_steps()
        if cfg.lr_schedule == "constant" or total is None or total <= cfg.warmup_steps:
            return 1.0
        progress = min(1.0, (step - cfg.warmup_steps) / (total - cfg.warmup_steps))
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    # ------------------------------------------------------------------ resume
    def resume(self, checkpoint: dict[str, Any]) -> None:
        """Continue from a ``last`` checkpoint's weights, optimiser, scheduler and progress."""
        self.model.load_state_dict(checkpoint["state_dict"])
        trainer = checkpoint.get("trainer")
        if not trainer:
            raise MolvaeError("this checkpoint holds no training state to resume from (use a run's last.pt)")
        self.optimizer.load_state_dict(trainer["optimizer"])
        self.scheduler.load_state_dict(trainer["scheduler"])
        self.state.update(trainer["progress"])
        self._rng_state = trainer.get("rng")
        log.info("resuming at epoch %d, batch %d, step %d", self.state["epoch"], self.state["batch"],
                 self.state["step"])

    # ------------------------------------------------------------------ loop
    def fit(self) -> dict[str, Any]:
        cfg = self.config
        if self._rng_state is not None and distributed.world_size() == 1:
            torch.set_rng_state(self._rng_state)  # the same dropout and reparameterisation noise
        else:
            torch.manual_seed(cfg.seed + self.state["step"] + 1_000_003 * distributed.rank())
        started = time.monotonic() - 60 * self.state["minutes"]
        self.started = started
        self._saved_at = time.monotonic()
        stop_reason = ""
        while not stop_reason:
            if cfg.epochs is not None and self.state["epoch"] >= cfg.epochs:
                stop_reason = f"reached {cfg.epochs} epochs"
                break
            try:
                train_terms, stop_reason = self._train_epoch(started)
            except KeyboardInterrupt:  # Ctrl-C: keep every finished step, resumable with --resume
                self.state["minutes"] = (time.monotonic() - started) / 60
                if distributed.is_main_process():
                    self._save("last.pt", with_trainer_state=True)
                    log.warning("interrupted at step %d; saved %s (continue with --resume)",
                                self.state["step"], self.run_dir / "last.pt")
                raise
            if self.state["batch"] == 0:  # the epoch ran to its end (not stopped by a bound inside it)
                self.state["epoch"] += 1
            self.state["minutes"] = (time.monotonic() - started) / 60
            row = self._end_epoch(train_terms) if distributed.is_main_process() else None
            if distributed.broadcast_flag(row is not None and self._early_stop(row), self.device):
                stop_reason = stop_reason or f"no validation improvement for {cfg.patience} epochs"
        if not distributed.parameters_in_sync(self.model):
            raise RuntimeError("data-parallel processes ended with different weights")
        log.info("training stopped: %s", stop_reason)
        return {"stop_reason": stop_reason, **self.state, "epoch": self.epochs_done(), "run_dir": str(self.run_dir)}

    def epochs_done(self) -> int | float:
        """Completed epochs, plus the share of the current one when a bound stopped it midway (0.7)."""
        epoch = self.state["epoch"]
        if self.state["batch"]:
            epoch = round(epoch + self.state["batch"] / self.steps_per_epoch, 3)
        return epoch

    def _train_epoch(self, started: float) -> tuple[dict[str, float], str]:
        cfg, model = self.config, self.model
        model.train()
        rng = random.Random(cfg.seed * 1_000_003 + self.state["epoch"])
        done = self.state["batch"]  # batches of this epoch taken before a resume
        sums = {key: torch.tensor(self.state["epoch_sums"].get(key, 0.0)) for key in ("loss", "recon", "kl")}
        seen = done
        shard = (distributed.rank(), distributed.world_size())
        batches = self.train_set.batches(model.featurizer, cfg.batch_size, rng, cfg.epoch_size,
                                         cfg.bucket_by_length, shard, skip=done)
        bar = tqdm(batches, total=self.steps_per_epoch, initial=done, desc=f"epoch {self.state['epoch'] + 1}",
                   disable=not (cfg.show_progress and distributed.is_main_process()), leave=False,
                   mininterval=2.0, dynamic_ncols=True)
        stop_reason = ""
        for batch in bar:
            beta = self.beta(self.state["step"])
            terms = self._step(batch, beta)
            seen += 1
            for key in sums:
                sums[key] = sums[key] + getattr(terms, key).detach().float().cpu()
            self.state["step"] += 1
            self.state["batch"] = seen
            self.state["epoch_sums"] = {key: value.item() for key, value in sums.items()}
            if seen % 10 == 0:
                bar.set_postfix(loss=f"{terms.loss.item():.2f}", recon=f"{terms.recon.item():.2f}",
                                kl=f"{terms.kl.item():.2f}", beta=f"{beta:.3g}",
                                lr=f"{self.scheduler.get_last_lr()[0]:.2e}", refresh=False)
            stop_reason = self._should_stop(started)
            if distributed.any_process(bool(stop_reason), self.device):
                stop_reason = stop_reason or "another process reached a bound"
                break
            self._checkpoint_if_due(started)
        complete = not stop_reason or seen >= self.steps_per_epoch  # a bound may end it on its last batch
        if complete:
            self.state["batch"], self.state["epoch_sums"] = 0, {}
        bar.close()
        return {f"train_{k}": v.item() / max(seen, 1) for k, v in sums.items()}, stop_reason

    def _checkpoint_if_due(self, started: float) -> None:
        """Inside an epoch, save ``last.pt`` every ``checkpoint_minutes`` (a killed run loses less)."""
        every = self.config.checkpoint_minutes
        if not every or time.monotonic() - self._saved_at < 60 * every:
            return
        self.state["minutes"] = (time.monotonic() - started) / 60
        if distributed.is_main_process():
            self._save("last.pt", with_trainer_state=True)
        self._saved_at = time.monotonic()

    def _should_stop(self, started: float) -> str:
        cfg = self.config
        if cfg.max_steps is not None and self.state["step"] >= cfg.max_steps:
            return f"reached {cfg.max_steps} steps"
        if cfg.max_minutes is not None and time.monotonic() - started >= 60 * cfg.max_minutes:
            return f"reached {cfg.max_minutes} minutes"
        return ""

    def _autocast(self):
        if self.config.amp and bf16_autocast_helps(self.device):
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def _step(self, batch: dict[str, torch.Tensor], beta: float) -> VAELoss:
        terms = training_step(self.network, self.model.batch_to_device(batch), self.optimizer, beta,
                              self.config.free_bits, self.config.grad_clip, self._autocast())
        self.scheduler.step()
        return terms

    # ------------------------------------------------------------------ validation and bookkeeping
    def _end_epoch(self, train_terms: dict[str, float]) -> dict[str, Any]:
        diagnostics = evaluate_model(self.model, self.val_set, self.config.batch_size,
                                     self.config.diagnostic_molecules, seed=self.config.seed)
        row = {"epoch": self.epochs_done(), "step": self.state["step"], "minutes": round(self.state["minutes"], 3),
               "lr": self.scheduler.get_last_lr()[0], "beta": self.beta(self.state["step"]), **train_terms,
               **{k: v for k, v in diagnostics.items() if k != "kl_per_dim"}}
        self._append_csv("metrics.csv", METRIC_COLUMNS, row)
        kl = diagnostics["kl_per_dim"]
        self._append_csv("kl_per_dim.csv", ["epoch", *[f"z{i}" for i in range(len(kl))]],
                         {"epoch": row["epoch"], **{f"z{i}": round(v, 5) for i, v in enumerate(kl)}})
        improved = row["val_neg_elbo"] < self.state["best"]
        if improved:
            self.state["best"] = row["val_neg_elbo"]
        self._save("last.pt", with_trainer_state=True)
        if improved:
            self._save("best.pt", with_trainer_state=False)
        log.info("epoch %d: val -ELBO %.2f nats (recon %.2f, KL %.2f), active units %s/%d, "
                 "recon acc %.3f, prior valid %.3f unique %.3f", row["epoch"], row["val_neg_elbo"],
                 row["val_recon"], row["val_kl"], row["active_units"], self.model.latent_dim,
                 row["recon_accuracy"], row["prior_validity"], row["prior_uniqueness"])
        at_floor = dims_at_free_bits_floor(kl, self.config.free_bits)
        if at_floor >= 0.9 * len(kl):
            log.warning("%d of %d latent dimensions sit at the free-bits floor (KL within 25%% of %g nats): "
                        "z holds only the information free bits make free, whatever the active units say, "
                        "too little to reconstruct molecules; a lower --beta lets more through",
                        at_floor, len(kl), self.config.free_bits)
        self._last_improved = improved
        return row

    def _early_stop(self, row: dict[str, Any]) -> bool:
        cfg = self.config
        if cfg.patience is None or self._last_improved:
            self.state["bad_epochs"] = 0
            return False
        if cfg.beta_schedule != "constant" and self.state["step"] < cfg.beta_warmup_steps * (
                cfg.beta_cycles if cfg.beta_schedule == "cyclical" else 1):
            return False  # the objective still moves with β; judge only after the warm-up
        self.state["bad_epochs"] += 1
        return self.state["bad_epochs"] >= cfg.patience

    def _append_csv(self, name: str, columns: list[str], row: dict[str, Any]) -> None:
        """Add a row to a log of the run; the file is replaced whole, so a crash never leaves half a row."""
        path = self.run_dir / name
        lines = io.StringIO()
        writer = csv.DictWriter(lines, fieldnames=columns, extrasaction="ignore")
        if not path.exists():
            writer.writeheader()
        writer.writerow({k: _round(row.get(k)) for k in columns})
        earlier = path.read_bytes() if path.exists() else b""
        replace_atomically(path, lambda p: p.write_bytes(earlier + lines.getvalue().encode()))

    def _save(self, name: str, with_trainer_state: bool) -> None:
        """``last`` carries optimiser and progress for ``resume``; ``best`` only the model, to keep it small."""
        trainer_state = None
        if with_trainer_state:
            trainer_state = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                             "progress": dict(self.state), "rng": torch.get_rng_state()}
        metadata = {**self.metadata, "train_config": asdict(self.config), "progress": dict(self.state)}
        save_checkpoint(self.run_dir / name, self.model, trainer_state, metadata)


def training_step(network: torch.nn.Module, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                  beta: float, free_bits: float = 0.0, grad_clip: float | None = None,
                  autocast: AbstractContextManager | None = None) -> VAELoss:
    """One optimiser step on one batch already on the model's device, for every model.

    Forward pass (under ``autocast``, e.g. bf16), the β-weighted ELBO with free bits plus any extra
    loss the model returns (a property head's), backward pass, gradient clipping, step. The trainer
    and ``benchmarks/throughput.py`` both train through it. Returns the loss terms (batch means).
    """
    with autocast or nullcontext():
        out = network(batch)
    kl = out["kl"].float() if "kl" in out else None
    terms = vae_loss(out["recon_nll"].float(), out["kl_per_dim"].float(), beta, free_bits, kl)
    loss = terms.loss + out["extra_loss"] if "extra_loss" in out else terms.loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(network.parameters(), grad_clip)
    optimizer.step()
    return terms


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


