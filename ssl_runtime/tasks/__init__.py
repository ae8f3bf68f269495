"""One Task per kind of data: images (vision methods), text (mlm, clm), image-text pairs (clip)."""

from __future__ import annotations

import torch

from ssl_runtime.catalogue import TEXT_METHODS
from ssl_runtime.config import RunConfig
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.tasks.base import Task, plan_steps

__all__ = ["Task", "build_task", "plan_steps"]


def build_task(cfg: RunConfig, folder: RunFolder | None, device: torch.device, precision: str) -> Task:
    if cfg.method in TEXT_METHODS:
        from ssl_runtime.tasks.text import TextTask

        return TextTask(cfg, folder, device, precision)
    if cfg.method == "clip":
        from ssl_runtime.tasks.clip import ClipTask

        return ClipTask(cfg, folder, device, precision)
    from ssl_runtime.tasks.vision import VisionTask

    return VisionTask(cfg, folder, device, precision)
