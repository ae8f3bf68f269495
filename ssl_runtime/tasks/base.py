"""What the trainer needs from a kind of data: a method, batches by index, held-out health, an export.

The training loop (trainer.py) is the same for images, text and image-text pairs; a Task holds what
differs. Batches are addressed by indices into `n_train` items so that the seeded epoch order, and with
it an exact resume, works the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ssl_runtime import distributed as dist_utils
from ssl_runtime.config import RunConfig
from ssl_runtime.data.order import EpochOrder
from ssl_runtime.run_folder import RunFolder


def plan_steps(cfg: RunConfig, n_train: int, what: str = "training images") -> tuple[int, int, int]:
    """(global batch size, total steps, steps per epoch) for `n_train` items (see TrainConfig.fit_batch_size);
    settings said in epochs become steps here (RunConfig.settle_epochs), before the method is built."""
    batch = cfg.train.fit_batch_size(n_train, dist_utils.world_size(), what)
    spe = n_train // batch
    cfg.settle_epochs(spe)
    return batch, cfg.train.steps or cfg.train.epochs * spe, spe


class Task:
    cfg: RunConfig
    device: torch.device
    precision: str
    method: nn.Module
    n_train: int
    batch_size: int  # global, resolved from train.batch_size and the data size
    total_steps: int
    steps_per_epoch: int
    embedding_dim: int
    health_samples: int
    index_device: torch.device | None = None  # where batch indices live; None: the training device
    phases: dict[str, float] = {}  # seconds the task's set-up spent in each of its phases (the event log shows them)

    def batch(self, idx: torch.Tensor, step: int) -> Any:
        """The method's input for the items `idx` (on the device) at 0-based `step`."""
        raise NotImplementedError

    def batches(self, order: EpochOrder, start: int) -> Iterator[Any]:
        """The method's inputs for steps start, start+1, ... (0-based). A task that streams its data from
        loader workers overrides this; the default builds each batch here from the order's indices."""
        for step in range(start, self.total_steps):
            yield self.batch(order.batch(step), step)

    def health(self) -> dict[str, torch.Tensor]:
        """Health metrics on fixed held-out data, as device scalars (no host sync here)."""
        raise NotImplementedError

    def initial_metrics(self) -> dict[str, float]:
        """Metrics of the model before the first step (e.g. held-out perplexity), logged at step 0."""
        return {}

    def export(self, folder: RunFolder) -> None:
        """Write the encoder(s) into folder.encoder with save_pretrained."""
        raise NotImplementedError

    def preprocess(self) -> dict | None:
        """How images are read into the backbone (size, normalisation), for reading a kept checkpoint before the
        run exports its encoder (written beside the checkpoints at the start); None where that does not apply."""
        return None

    def stats(self) -> dict:
        return {}
