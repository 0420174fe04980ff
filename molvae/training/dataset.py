"""A training set as the trainer and the model-level metrics read it: featurised items, their
condition vectors, canonical SMILES and (for a property head) property targets."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch


class Dataset:
    """Featurised molecules, their condition vectors and their canonical SMILES."""

    def __init__(self, items: Sequence[Any], conditions: torch.Tensor | None, smiles: Sequence[str],
                 targets: np.ndarray | None = None):
        self.items = items if isinstance(items, Sequence) else list(items)  # a flat table stays one
        self.conditions, self.smiles = conditions, list(smiles)
        self.targets = None if targets is None else np.asarray(targets, dtype=np.float32)  # (N, properties)

    def __len__(self) -> int:
        return len(self.items)

    def batches(self, featurizer, batch_size: int, rng: random.Random | None = None, limit: int | None = None,
                bucket: bool = True, shard: tuple[int, int] = (0, 1),
                skip: int = 0) -> Iterator[dict[str, torch.Tensor]]:
        """Batches, shuffled when ``rng`` is given; with ``bucket``, of molecules of similar size
        (sorted within pools of 50 batches), which cuts padding and time per molecule. Without
        ``rng`` and ``bucket`` the molecules keep their order. ``shard`` = (index, count) yields
        every count-th batch from the index-th on, the same number for every shard (data-parallel
        processes each take one shard of the same shuffled epoch). ``skip`` leaves out the first
        batches of that order (a resumed epoch continues where it stopped)."""
        order = list(range(len(self)))
        if rng is not None:
            rng.shuffle(order)
        order = order[:limit] if limit else order
        if bucket:
            pool = batch_size * 50
            order = [i for start in range(0, len(order), pool)
                     for i in sorted(order[start:start + pool], key=lambda i: len(self.items[i]))]
        groups = [order[j:j + batch_size] for j in range(0, len(order), batch_size)]
        if rng is not None:
            rng.shuffle(groups)
        index, count = shard
        if count > 1:
            groups = groups[index: len(groups) - len(groups) % count: count]
        for group in groups[skip:]:
            c = self.conditions[group] if self.conditions is not None else None
            batch = featurizer.collate([self.items[i] for i in group], c)
            if self.targets is not None:
                batch["y"] = torch.from_numpy(self.targets[group])
            yield batch
