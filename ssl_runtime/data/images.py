"""An in-memory image set: uint8 NCHW tensors that can live on the GPU for the whole run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


@dataclass
class ImageSet:
    """All images at one size, uint8 (N, 3, H, W); labels when the source has them."""

    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unreadable files, kept for events.jsonl
    source: str = ""

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def subset(self, index: torch.Tensor) -> ImageSet:
        labels = self.labels[index] if self.labels is not None else None
        return ImageSet(self.images[index], labels, self.class_names, self.skipped, self.source)

    def _digests(self) -> list[bytes]:
        flat = self.images.reshape(len(self), -1).numpy()
        return [hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in flat]

    def deduplicated(self) -> ImageSet:
        """Keep the first copy of every exactly repeated image."""
        seen: set[bytes] = set()
        keep = []
        for i, d in enumerate(self._digests()):
            if d not in seen:
                seen.add(d)
                keep.append(i)
        return self.subset(torch.tensor(keep, dtype=torch.long))

    def stats(self) -> dict:
        """Size, exact duplicates, corrupt files and class balance: inputs for the diagnosis."""
        digests = set(self._digests())
        out = {
            "num_images": len(self),
            "image_size": self.image_size,
            "duplicates": len(self) - len(digests),
            "skipped_files": len(self.skipped),
        }
        if self.labels is not None:
            counts = torch.bincount(self.labels, minlength=len(self.class_names) or None).tolist()
            out["num_classes"] = len(counts)
            out["class_counts"] = counts
        return out


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 NCHW batch to size x size (antialiased when shrinking)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8)


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, seeded train/val split."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * val_fraction))
    return perm[n_val:].sort().values, perm[:n_val].sort().values
