"""DDP helpers: rank queries, differentiable all-gather, and mean across ranks."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def init_from_env(device_type: str) -> bool:
    """Join the process group torchrun set up (NCCL on CUDA, gloo on CPU); False when not under torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or is_distributed():
        return is_distributed()
    dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return True


def gather_batch(x: torch.Tensor) -> torch.Tensor:
    """Concatenate x from every rank along dim 0, keeping gradients to the local part (lightly's way)."""
    if not is_distributed():
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x), dim=0)


def mean_across_ranks(x: torch.Tensor) -> torch.Tensor:
    if not is_distributed():
        return x
    x = x.detach().clone()
    dist.all_reduce(x, op=dist.ReduceOp.SUM)
    return x / world_size()


def any_across_ranks(flag: bool, device: torch.device) -> bool:
    """True on every rank when it is True on any (a stop signal that reached the ranks at different steps)."""
    if not is_distributed():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


PEER_LOSS = ("Connection reset by peer", "Connection closed by peer", "Broken pipe", "NCCL communicator was aborted",
             "Socket Timeout", "Connection refused")


def lost_a_peer(exc: BaseException) -> bool:
    """A collective failed because another rank went away (its node lost, its process killed), which is not this
    run's own error: the run is interrupted and resumes, rather than failed. gloo raises these as RuntimeError, so
    the message decides."""
    if world_size() <= 1:
        return False
    return isinstance(exc, getattr(dist, "DistNetworkError", ())) or any(s in str(exc) for s in PEER_LOSS)


def barrier() -> None:
    """Wait for every rank (e.g. until rank 0 has written files the others read)."""
    if is_distributed():
        dist.barrier()
