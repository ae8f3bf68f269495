"""User data: an image folder (class subfolders become labels) or a `datasets` save_to_disk folder."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ssl_runtime.data.images import ImageSet
from ssl_runtime.errors import DataError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


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


def load_image_folder(root: Path, image_size: int, max_samples: int | None = None) -> ImageSet:
    if not root.exists():
        raise DataError(f"{str(root)!r} does not exist", field="data.path", fix="point it at a folder of images")
    if not root.is_dir():
        raise DataError(f"{str(root)!r} is not a folder", field="data.path")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(
            f"no image files (.jpg, .png, ...) under {str(root)!r}", field="data.path",
            fix="add images, or use --data digits to try the bundled set",
        )
    if max_samples:
        files = files[:max_samples]
    # Class subfolders: every file sits one level below root in a named folder.
    parents = {p.parent for p in files}
    labelled = all(p.parent.parent == root for p in files) and len(parents) > 1
    class_names = sorted(p.name for p in parents) if labelled else []
    with ThreadPoolExecutor(max_workers=8) as pool:
        decoded = list(pool.map(lambda p: _decode(p, image_size), files))
    good = [(f, a) for f, a in zip(files, decoded, strict=True) if a is not None]
    skipped = [str(f) for f, a in zip(files, decoded, strict=True) if a is None]
    if not good:
        raise DataError(
            f"all {len(files)} image files under {str(root)!r} are unreadable", field="data.path",
            fix="check the files open in an image viewer; re-export them as PNG or JPEG",
        )
    labels = None
    if labelled:
        labels = torch.tensor([class_names.index(f.parent.name) for f, _ in good], dtype=torch.int64)
    return ImageSet(_stack([a for _, a in good]), labels, class_names, skipped, source=str(root))


def load_hf_folder(root: Path, image_size: int, max_samples: int | None = None) -> ImageSet:
    """A Hugging Face dataset saved with `save_to_disk` (a Dataset, or a DatasetDict's train split)."""
    import datasets

    try:
        ds = datasets.load_from_disk(str(root))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"cannot open as a datasets folder: {exc}", field="data.path") from None
    if isinstance(ds, datasets.DatasetDict):
        ds = ds["train"] if "train" in ds else ds[next(iter(ds))]
    feats = ds.features
    image_col = next((k for k, f in feats.items() if isinstance(f, datasets.Image)), None)
    if image_col is None:
        raise DataError(f"no image column among {list(feats)}", field="data.path")
    label_col = next((k for k, f in feats.items() if isinstance(f, datasets.ClassLabel)), None)
    if max_samples:
        ds = ds.select(range(min(max_samples, len(ds))))
    arrays, labels, skipped = [], [], []
    for i, row in enumerate(ds):
        a = _decode(row[image_col], image_size) if row[image_col] is not None else None
        if a is None:
            skipped.append(f"{root}#{i}")
            continue
        arrays.append(a)
        if label_col:
            labels.append(row[label_col])
    if not arrays:
        raise DataError("every image in the dataset is unreadable", field="data.path")
    names = list(feats[label_col].names) if label_col else []
    label_t = torch.tensor(labels, dtype=torch.int64) if label_col else None
    return ImageSet(_stack(arrays), label_t, names, skipped, source=str(root))
