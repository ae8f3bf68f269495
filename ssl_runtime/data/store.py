"""Images by index, as uint8 canvases: what the crops read, from memory or from the dataset cache.

A canvas is a (3, M, M) uint8 tensor, M = the store's max side, holding the stored image in its top-left
corner (zeros elsewhere); `sizes` says how much of it is image. Two stores:
- ResidentStore: every canvas in one tensor, in host or device memory (built-in data, and caches that fit
  the memory budget);
- CachedStore: canvases decoded from the dataset cache when asked for (the streaming path; host memory
  stays flat whatever the dataset size).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ssl_runtime.data.cache import DatasetCache


class ImageStore:
    max_side: int
    sizes: torch.Tensor  # (N, 2) int64 height, width (CPU)
    labels: torch.Tensor | None
    class_names: list[str]
    mean: torch.Tensor  # per-channel, in [0, 1] units, for normalisation
    std: torch.Tensor

    def __len__(self) -> int:
        return int(self.sizes.shape[0])

    def canvas(self, idx: torch.Tensor) -> torch.Tensor:
        """(b, 3, M, M) uint8 for the images `idx` (a CPU int64 tensor)."""
        raise NotImplementedError

    def image(self, i: int) -> np.ndarray:
        """One stored image, HWC uint8 (host memory)."""
        raise NotImplementedError

    def stats(self) -> dict:
        raise NotImplementedError

    def digests(self) -> np.ndarray:
        """One int64 per image; equal for exact duplicates (data.dedup)."""
        raise NotImplementedError


class ResidentStore(ImageStore):
    def __init__(self, canvases: torch.Tensor, sizes: torch.Tensor, labels: torch.Tensor | None,
                 class_names: list[str], stats: dict):
        self.canvases, self.sizes, self.labels, self.class_names = canvases, sizes, labels, class_names
        self.max_side = int(canvases.shape[-1])
        self._stats = stats
        x = canvases.float().div_(255.0) if len(canvases) <= 4096 else canvases[:4096].float().div_(255.0)
        self.mean, self.std = x.mean(dim=(0, 2, 3)).cpu(), x.std(dim=(0, 2, 3)).clamp_min(1e-3).cpu()

    def canvas(self, idx: torch.Tensor) -> torch.Tensor:
        if self.canvases.device.type == "cuda":  # pinned, so the copy of the ids never waits for the GPU
            return self.canvases[idx.pin_memory().to(self.canvases.device, non_blocking=True)]
        return self.canvases[idx]

    def image(self, i: int) -> np.ndarray:
        h, w = (int(v) for v in self.sizes[i])
        return np.ascontiguousarray(self.canvases[i, :, :h, :w].permute(1, 2, 0).cpu().numpy())

    def to(self, device: torch.device) -> ResidentStore:
        self.canvases = self.canvases.to(device, non_blocking=True)
        return self

    def stats(self) -> dict:
        return dict(self._stats)

    def digests(self) -> np.ndarray:
        flat = self.canvases.cpu().reshape(len(self), -1).numpy()
        return np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little",
                                        signed=True) for row in flat], dtype=np.int64)


class CachedStore(ImageStore):
    def __init__(self, cache: DatasetCache):
        self.cache = cache
        self.max_side = cache.max_side
        self.sizes = torch.from_numpy(cache.sizes)
        labels = cache.labels
        self.labels = torch.from_numpy(labels) if labels is not None else None
        self.class_names = cache.class_names
        self.mean = torch.tensor(cache.meta["mean"], dtype=torch.float32)
        self.std = torch.tensor(cache.meta["std"], dtype=torch.float32).clamp_min(1e-3)

    def canvas(self, idx: torch.Tensor) -> torch.Tensor:
        m = self.max_side
        out = np.zeros((len(idx), m, m, 3), dtype=np.uint8)
        order = np.argsort(idx.numpy(), kind="stable")  # read in file order: neighbouring pages, fewer seeks
        for j in order:
            img = self.cache.read(int(idx[j]))
            out[j, : img.shape[0], : img.shape[1]] = img
        return torch.from_numpy(out).permute(0, 3, 1, 2)

    def image(self, i: int) -> np.ndarray:
        return self.cache.read(i)

    def resident(self, workers: int = 4) -> ResidentStore:
        """Decode everything once into one canvas tensor (when it fits the memory budget)."""
        n, m = len(self), self.max_side
        canvases = torch.zeros((n, 3, m, m), dtype=torch.uint8)
        chunks = torch.arange(n).split(1024)

        def fill(chunk: torch.Tensor) -> None:
            canvases[chunk] = self.canvas(chunk)

        with ThreadPoolExecutor(workers) as pool:  # simplejpeg and numpy copies release the GIL
            list(pool.map(fill, chunks))
        return ResidentStore(canvases, self.sizes, self.labels, self.class_names, self.stats())

    def stats(self) -> dict:
        return self.cache.stats()

    def digests(self) -> np.ndarray:
        return self.cache.index["digest"]


def from_fixed_size(images: torch.Tensor, labels: torch.Tensor | None, class_names: list[str],
                    stats: dict) -> ResidentStore:
    """A store over images that all have one size (built-in data): each canvas is the image itself."""
    n, _, h, w = images.shape
    sizes = torch.tensor([[h, w]], dtype=torch.int64).expand(n, 2).contiguous()
    return ResidentStore(images, sizes, labels, class_names, stats)


def resident_bytes(n: int, max_side: int) -> int:
    return n * 3 * max_side * max_side
