"""Which items make up batch `step`: one seeded permutation per (seed, epoch) over the training set.

Process r of w takes the r-th slice of each global batch, so the items seen at a given step are the same
for any number of processes that divides the global batch ("elastic determinism", as Mosaic's streaming
library calls it), and a resume needs nothing but the step.
"""

from __future__ import annotations

import torch

from ssl_runtime import distributed as dist_utils
from ssl_runtime.device import to_device


class EpochOrder:
    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device | str = "cpu",
                 rank: int | None = None, world: int | None = None):
        self.n, self.batch_size, self.seed, self.device = n, batch_size, seed, torch.device(device)
        self.steps_per_epoch = n // batch_size
        self._epoch, self._perm = -1, None
        self.rank = dist_utils.rank() if rank is None else rank
        self.world = dist_utils.world_size() if world is None else world

    def global_batch(self, step: int) -> torch.Tensor:
        """Positions (into the training set) of every item of batch `step` (0-based), on all processes."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm, self._epoch = to_device(torch.randperm(self.n, generator=g), self.device), epoch
        return self._perm[i * self.batch_size:(i + 1) * self.batch_size]

    def local(self, global_batch: torch.Tensor) -> torch.Tensor:
        """This process's slice of a global batch."""
        per_rank = self.batch_size // self.world
        return global_batch[self.rank * per_rank:(self.rank + 1) * per_rank]

    def batch(self, step: int) -> torch.Tensor:
        return self.local(self.global_batch(step))
