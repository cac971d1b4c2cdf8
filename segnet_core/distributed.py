"""Data-parallel training under torchrun: process group set-up and the collectives we use.

`torchrun --nproc-per-node N` (and `--nnodes M`) sets RANK, WORLD_SIZE and LOCAL_RANK;
`DistributedContext.from_environment` reads them. Without them training runs in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device_type: str) -> "DistributedContext":
        """Join the process group torchrun described, or a one-process context without it."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        backend = "nccl" if device_type == "cuda" else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(),
                   local_rank=int(os.environ.get("LOCAL_RANK", "0")), backend=backend)

    def shard(self, order: np.ndarray) -> np.ndarray:
        """This rank's share of an epoch's sample order; every rank gets the same count."""
        if not self.enabled:
            return order
        total = -(-len(order) // self.world_size) * self.world_size
        padded = np.resize(order, total)  # repeats from the start to even out the shards
        return padded[self.rank::self.world_size]

    def sum_array(self, array: np.ndarray) -> np.ndarray:
        """Element-wise sum over ranks (used for confusion matrices)."""
        if not self.enabled:
            return array
        tensor = self._to_backend(torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64)))
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.cpu().numpy()

    def mean_scalar(self, value: float) -> float:
        if not self.enabled:
            return value
        tensor = self._to_backend(torch.tensor([value], dtype=torch.float64))
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return float(tensor.item()) / self.world_size

    def sync_buffers(self, module: torch.nn.Module) -> None:
        """Give every rank rank 0's batch-norm statistics (DDP keeps weights, not these, equal)."""
        if not self.enabled:
            return
        for buffer in module.buffers():
            dist.broadcast(buffer.data, src=0)

    def _to_backend(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.cuda(self.local_rank) if self.backend == "nccl" else tensor

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()
