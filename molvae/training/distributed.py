"""Data-parallel training across processes with PyTorch's own engine (DistributedDataParallel).

Launch any ``molvae train`` command under ``torchrun`` to train on several GPUs or machines::

    torchrun --nproc_per_node=4 -m molvae train --data moses -o runs/ddp ...

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; each process then takes its own shard of
every epoch's batches, gradients are averaged across processes at each step, and only rank 0
validates, logs and writes checkpoints. NCCL is used on CUDA, gloo on CPU.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


def world_size() -> int:
    """Number of training processes (1 when not launched by torchrun)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main_process() -> bool:
    return rank() == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_environment(device: torch.device) -> torch.device:
    """Join the process group torchrun describes in the environment; return this process's device.

    Without torchrun's variables this does nothing and returns ``device`` unchanged. On CUDA each
    process takes the GPU of its local rank.
    """
    if not launched_by_torchrun():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timedelta(minutes=30))
        log.info("process %d of %d joined (%s backend, %s)", rank(), world_size(), backend, device)
    return device


def any_process(flag: bool, device: torch.device) -> bool:
    """True on every process when ``flag`` is true on at least one (e.g. a wall-clock limit reached)."""
    if world_size() == 1:
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def broadcast_flag(flag: bool, device: torch.device) -> bool:
    """Rank 0's value of ``flag`` on every process (e.g. its early-stopping decision)."""
    if world_size() == 1:
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def parameters_in_sync(model: torch.nn.Module) -> bool:
    """Whether every process holds the same weights (compared through a checksum)."""
    if world_size() == 1:
        return True
    with torch.no_grad():
        checksum = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
    low, high = checksum.clone(), checksum.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    return bool(torch.equal(low, high))


def shutdown(wait: bool = True) -> None:
    """Leave the process group. With ``wait`` (after a run that ended normally) a barrier first lets
    every process finish its last exchange, so none closes its connections while a peer still reads."""
    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()
