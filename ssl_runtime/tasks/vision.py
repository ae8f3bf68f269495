"""Images: resident uint8 tensors on the device, batched kornia views, health on two fixed held-out views."""

from __future__ import annotations

import torch

from ssl_runtime import distributed as dist_utils
from ssl_runtime.augment import ViewPipeline, channel_stats
from ssl_runtime.config import RunConfig
from ssl_runtime.data import load_image_set, split_indices
from ssl_runtime.health import HealthMonitor
from ssl_runtime.methods import build_method
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.tasks.base import Task, plan_steps


class VisionTask(Task):
    def __init__(self, cfg: RunConfig, folder: RunFolder | None, device: torch.device, precision: str):
        self.cfg, self.device, self.precision = cfg, device, precision
        data = load_image_set(cfg.data)
        if folder is not None and data.skipped and dist_utils.rank() == 0:
            folder.event("warning", f"skipped {len(data.skipped)} unreadable image files", kind="corrupt_files",
                         count=len(data.skipped), files=data.skipped[:20])
        train_idx, val_idx = split_indices(len(data), cfg.data.val_fraction, cfg.train.seed)
        self.batch_size, self.total_steps, self.steps_per_epoch = plan_steps(cfg, len(train_idx))
        self.data = data
        self.n_train = len(train_idx)
        train_images = data.images[train_idx]
        mean, std = channel_stats(train_images)
        self.train_images = train_images.to(device, non_blocking=True)  # resident for the whole run
        method = build_method(cfg, data.image_size, self.total_steps)
        if dist_utils.is_distributed() and device.type == "cuda":
            method = torch.nn.SyncBatchNorm.convert_sync_batchnorm(method)  # statistics over the global batch
        method = method.to(device)
        if device.type == "cuda":
            method = method.to(memory_format=torch.channels_last)
        if cfg.train.compile:
            method.backbone.compile()
        self.method = method
        recipes = method.view_recipes(data.image_size, cfg.augment.n_local_crops)
        self.pipeline = ViewPipeline(recipes, cfg.augment.strength, mean, std).to(device)
        self.monitor = HealthMonitor(self._health_views(val_idx))
        self.embedding_dim = self.monitor.embedding_dim(method)
        self.health_samples = len(self.monitor.views[0])

    def _health_views(self, val_idx: torch.Tensor) -> list[torch.Tensor]:
        """Two fixed augmented views of held-out images (train images when there is no val split)."""
        source = self.data.images[val_idx] if len(val_idx) >= 16 else self.data.images
        source = source[: self.cfg.train.health_samples].to(self.device)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(12345)
            views = self.pipeline(source)
            if len(views) < 2:  # single-view methods (MAE): a second draw gives the positive pair
                views += self.pipeline(source)
            return views[:2]

    def batch(self, idx: torch.Tensor, step: int) -> list[torch.Tensor]:
        views = self.pipeline(self.train_images[idx])
        if self.device.type == "cuda":
            views = [v.contiguous(memory_format=torch.channels_last) for v in views]
        return views

    def health(self) -> dict[str, torch.Tensor]:
        return self.monitor.measure(self.method)

    def export(self, folder: RunFolder) -> None:
        self.method.backbone.save(folder.encoder, preprocess={
            "image_size": self.data.image_size, "mean": self.pipeline.mean.flatten().tolist(),
            "std": self.pipeline.std.flatten().tolist(), "method": self.cfg.method})

    def stats(self) -> dict:
        return self.data.stats()
