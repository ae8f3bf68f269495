"""Image-caption pairs for clip: the captioned shapes set, or a CSV/JSONL of (image path, caption)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ssl_runtime.config import DataConfig
from ssl_runtime.data.builtin import load_shapes
from ssl_runtime.data.images import ImageSet
from ssl_runtime.data.text import _table, shape_captions
from ssl_runtime.errors import DataError


def _decode(path_or_image, size: int) -> np.ndarray | None:
    """Decode, convert to RGB, resize the short side and centre-crop to size x size."""
    from PIL import Image, ImageOps

    try:
        img = Image.open(path_or_image) if isinstance(path_or_image, (str, Path)) else path_or_image
        img = ImageOps.fit(img.convert("RGB"), (size, size), method=Image.Resampling.BICUBIC)
        return np.asarray(img, dtype=np.uint8)
    except Exception:  # noqa: BLE001 - any decoder failure means "skip and count this file"
        return None


def _stack(arrays: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()

@dataclass
class CaptionSet:
    images: ImageSet
    captions: list[str]
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.captions)


def load_caption_pairs(cfg: DataConfig, image_size: int) -> CaptionSet:
    if cfg.name == "shapes":
        n = cfg.num_samples or 2000
        return CaptionSet(load_shapes(n, image_size), shape_captions(n)[0])
    if cfg.name is not None:
        raise DataError(f"built-in dataset {cfg.name!r} has no captions", field="data.name",
                        fix="use data.name=shapes, or data.path=<captions.csv or .jsonl>")
    path = Path(cfg.path).expanduser()
    if not path.is_file() or path.suffix.lower() not in (".csv", ".jsonl"):
        raise DataError(f"{str(path)!r} is not a .csv or .jsonl captions file", field="data.path",
                        fix=f"give a file with {cfg.image_field!r} and {cfg.caption_field!r} columns")
    rows, kept, skipped = _table(path), [], []
    order = range(len(rows))
    if cfg.max_samples and cfg.max_samples < len(rows):  # a seeded choice over the whole file, as images take it
        order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(0)).tolist()  # (its first rows
        # would be a few categories of a file sorted by them); only the rows kept are decoded
    for i in order:
        row = rows[i]
        rel, caption = row.get(cfg.image_field), row.get(cfg.caption_field)
        if not isinstance(rel, str) or not isinstance(caption, str) or not caption.strip():
            skipped.append(f"row {i + 1}: no {cfg.image_field!r} or {cfg.caption_field!r}")
            continue
        image_path = Path(rel).expanduser()
        image_path = image_path if image_path.is_absolute() else path.parent / image_path
        if not image_path.is_file():
            skipped.append(f"row {i + 1}: missing image {rel}")
            continue
        arr = _decode(image_path, image_size)
        if arr is None:
            skipped.append(f"row {i + 1}: unreadable image {rel}")
            continue
        kept.append((i, arr, caption.strip()))
        if cfg.max_samples and len(kept) >= cfg.max_samples:
            break
    kept.sort(key=lambda k: k[0])  # in the file's order
    arrays, captions = [a for _, a, _ in kept], [c for *_, c in kept]
    if len(captions) < 4:
        raise DataError(f"only {len(captions)} usable image-caption pairs in {path.name} ({len(skipped)} skipped, "
                        f"e.g. {skipped[0] if skipped else 'none'})", field="data.path",
                        fix="check that the image paths exist (relative paths are read from the file's folder)")
    return CaptionSet(ImageSet(_stack(arrays), None, [], source=str(path)), captions, skipped)
