"""Image data for the runtime: built-in sets made in memory (digits, shapes) and your images, which go
through the dataset cache (ssl_runtime/data/cache.py) and are read as uint8 canvases (store.py).

Training, the probe and the run page's embedding view all split the same way (`split_ids`), so the
held-out images are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from ssl_runtime.config import DataConfig
from ssl_runtime.data.builtin import load_digits, load_shapes
from ssl_runtime.data.images import ImageSet, split_indices
from ssl_runtime.data.sources import detect_kind
from ssl_runtime.data.store import CachedStore, ImageStore, ResidentStore, from_fixed_size
from ssl_runtime.errors import DataError

DEFAULT_SIZES = {"digits": 16, "shapes": 32}
USER_IMAGE_SIZE = 224  # the ImageNet recipes (DINO's local crops are 96 of it)
SMALL_CNN_IMAGE_SIZE = 64

__all__ = ["ImageSet", "ImageStore", "default_image_size", "eval_images", "load_builtin", "open_store", "preflight",
           "split_ids", "split_indices"]


def default_image_size(cfg: DataConfig, backbone: str = "auto") -> int:
    """The train side: what the config says, else the built-in set's own, else 224 (64 for the small CNN)."""
    if cfg.image_size:
        return cfg.image_size
    if cfg.name:
        return DEFAULT_SIZES[cfg.name]
    return SMALL_CNN_IMAGE_SIZE if backbone == "small_cnn" else USER_IMAGE_SIZE


def cache_side(cfg: DataConfig, image_size: int) -> int:
    """The longest side images are cached at: data.max_side, else at least 256 and never under the train side."""
    from ssl_runtime.data.cache import DEFAULT_MAX_SIDE

    return cfg.max_side or max(DEFAULT_MAX_SIDE, image_size)


def preflight(cfg: DataConfig) -> None:
    """Cheap checks before a run is queued: the path exists, is not empty, and is a kind of source a run reads (a
    file that is no .tar shard or .csv/.jsonl list is refused here, not by a worker after a run was made)."""
    if cfg.path is None:
        return
    root = Path(cfg.path).expanduser()
    if not root.exists():
        raise DataError(f"{str(root)!r} does not exist", field="data.path",
                        fix="point it at a folder of images, or use --data digits")
    if root.is_dir() and not any(root.iterdir()):
        raise DataError(f"{str(root)!r} is empty", field="data.path", fix="add images to it")
    if root.is_file():
        detect_kind(root)


def load_builtin(cfg: DataConfig, image_size: int) -> ImageSet:
    if cfg.name == "digits":
        return load_digits(image_size)
    return load_shapes(cfg.num_samples or 2000, image_size, seed=0)


def open_store(cfg: DataConfig, image_size: int, log: Callable[[str], None] | None = None,
               progress: Callable[[int, int], None] | None = None, run_dir: str | Path | None = None) -> ImageStore:
    """Built-in data in memory, or your images from their dataset cache (built on first use; found next to the
    run folder's home, see datasets_root)."""
    if cfg.name is not None:
        data = load_builtin(cfg, image_size)
        return from_fixed_size(data.images, data.labels, data.class_names, data.stats())
    from ssl_runtime.data.cache import datasets_root, ensure_cache

    result = ensure_cache(cfg.path, datasets_root(cfg.cache_dir, run_dir), cache_side(cfg, image_size), cfg.cache_format,
                          workers=cfg.workers or None, progress=progress, log=log)
    if log:
        log(result.message)
    return CachedStore(result.cache)


def split_ids(store: ImageStore, cfg: DataConfig, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train ids, validation ids) into the store: max_samples and dedup applied, then a seeded split."""
    ids = torch.arange(len(store))
    if cfg.dedup:
        digests = store.digests()
        seen: set[int] = set()
        keep = [i for i in range(len(store)) if not (int(digests[i]) in seen or seen.add(int(digests[i])))]
        ids = torch.tensor(keep, dtype=torch.int64)
    if cfg.max_samples:  # a seeded choice spread over the data, the same for every run of it (its first n would
        ids = capped(ids, cfg.max_samples, 0)  # be a few of a folder's classes: it is stored class by class)
    if len(ids) < 4:
        raise DataError(f"only {len(ids)} usable image{'' if len(ids) == 1 else 's'}", field="data",
                        fix="give at least a few hundred images")
    train, val = split_indices(len(ids), cfg.val_fraction, seed)
    return ids[train], ids[val]


@torch.no_grad()
def eval_images(store: ImageStore, ids: torch.Tensor, size: int, chunk: int = 512) -> torch.Tensor:
    """The largest centred square of each image, resized to size x size: uint8 (n, 3, size, size) on the CPU."""
    from ssl_runtime.crops import box_corners, centre_boxes, covers_canvas, crop_resize

    out = []
    for part in ids.split(chunk):
        canvas = store.canvas(part).cpu()
        boxes = centre_boxes(store.sizes[part])
        x = crop_resize(canvas, box_corners(boxes), size, covers_canvas(boxes, store.max_side, size))
        out.append(x.mul_(255.0).round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out) if out else torch.zeros((0, 3, size, size), dtype=torch.uint8)


def capped(ids: torch.Tensor, limit: int, seed: int) -> torch.Tensor:
    """At most `limit` of `ids`, a seeded choice, in id order."""
    if len(ids) <= limit:
        return ids
    pick = torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed))[:limit]
    return ids[pick.sort().values]


def measured_sample(ids: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """The `n` of `ids` that a run's measurements read (its health batch, the kNN monitor's bank, an audit's or a
    ranking's images): a seeded choice spread over the whole split, in id order. Never the first n: a folder is
    stored class by class (class0/..., class1/...), so its first 256 held-out images are all of one class, and
    the kNN monitor read 1.0 and the health metrics one class's spread. The choice is nested (a smaller n is part of
    a larger one at the same seed), so a run's 256-image health batch lies inside the 2048 images a ranking reads."""
    return capped(ids, n, seed + MEASURED_SEED)


MEASURED_SEED = 3  # beside the probe's seeded samples (seed, seed + 1, seed + 2)

__all__ += ["CachedStore", "ResidentStore", "capped", "cache_side", "measured_sample"]
