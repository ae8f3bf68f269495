"""Datasets for the runtime: built-in (digits, shapes) and user folders, all as resident uint8 tensors."""

from __future__ import annotations

from pathlib import Path

import torch

from ssl_runtime.config import DataConfig
from ssl_runtime.data.builtin import load_digits, load_shapes
from ssl_runtime.data.folders import load_hf_folder, load_image_folder
from ssl_runtime.data.images import ImageSet, split_indices
from ssl_runtime.errors import DataError

DEFAULT_SIZES = {"digits": 16, "shapes": 32}

__all__ = ["ImageSet", "load_image_set", "preflight", "split_indices", "default_image_size"]


def default_image_size(cfg: DataConfig) -> int:
    return cfg.image_size or DEFAULT_SIZES.get(cfg.name or "", 64)


def preflight(cfg: DataConfig) -> None:
    """Cheap checks before a run is queued: the folder exists and is a folder."""
    if cfg.path is None:
        return
    root = Path(cfg.path).expanduser()
    if not root.exists():
        raise DataError(f"{str(root)!r} does not exist", field="data.path",
                        fix="point it at a folder of images, or use --data digits")
    if not root.is_dir():
        raise DataError(f"{str(root)!r} is not a folder", field="data.path")
    if not any(root.iterdir()):
        raise DataError(f"{str(root)!r} is empty", field="data.path", fix="add images to it")


def load_image_set(cfg: DataConfig, seed: int = 0) -> ImageSet:
    """Load the configured images at one size; raises DataError with the field and fix on bad input."""
    size = default_image_size(cfg)
    if cfg.name == "digits":
        data = load_digits(size)
    elif cfg.name == "shapes":
        data = load_shapes(cfg.num_samples or 2000, size, seed=0)
    else:
        root = Path(cfg.path).expanduser()
        kind = cfg.kind
        if kind == "auto":
            is_hf = (root / "dataset_info.json").exists() or (root / "dataset_dict.json").exists()
            kind = "hf_dataset" if is_hf else "image_folder"
        loader = load_hf_folder if kind == "hf_dataset" else load_image_folder
        data = loader(root, size, cfg.max_samples)
    if cfg.max_samples and len(data) > cfg.max_samples:
        data = data.subset(torch.arange(cfg.max_samples))
    if cfg.dedup:
        data = data.deduplicated()
    if len(data) < 4:
        raise DataError(f"only {len(data)} usable images", field="data", fix="give at least a few hundred images")
    return data
