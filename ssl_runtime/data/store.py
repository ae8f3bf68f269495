"""Images by index, as uint8 canvases: what the crops read, from memory or from the dataset cache.

A canvas is a (3, M, M) uint8 tensor, M = the store's max side, holding the stored image in its top-left
corner (zeros elsewhere); `sizes` says how much of it is image. Two stores:
- ResidentStore: every canvas in one tensor, in host or device memory (built-in data, and caches that fit
  the memory budget);
- CachedStore: canvases decoded from the dataset cache when asked for (the streaming path; host memory
  stays flat whatever the dataset size).
A ResidentFill turns a CachedStore into a ResidentStore in a background thread, so a run need not wait for
the whole set to be decoded before its first step (the steps stream from the cache until the copy is full).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ssl_runtime.data.cache import DatasetCache
from ssl_runtime.device import to_device


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
                 class_names: list[str], stats: dict, mean: torch.Tensor | None = None,
                 std: torch.Tensor | None = None):
        self.canvases, self.sizes, self.labels, self.class_names = canvases, sizes, labels, class_names
        self.max_side = int(canvases.shape[-1])
        self._stats = stats
        if mean is None or std is None:
            x = canvases[:4096].float().div_(255.0)
            mean, std = x.mean(dim=(0, 2, 3)).cpu(), x.std(dim=(0, 2, 3)).clamp_min(1e-3).cpu()
        self.mean, self.std = mean, std

    def canvas(self, idx: torch.Tensor) -> torch.Tensor:
        return self.canvases[to_device(idx, self.canvases.device)]  # on CPU: the same ids

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

    def resident(self, device: torch.device | None = None, workers: int = 4) -> ResidentStore:
        """Decode everything now into one canvas tensor on `device` (a ResidentFill run in this thread)."""
        fill = ResidentFill(self, device or torch.device("cpu"), workers=workers)
        fill.run()
        return fill.store()

    def stats(self) -> dict:
        return self.cache.stats()

    def digests(self) -> np.ndarray:
        return self.cache.index["digest"]


class ResidentFill:
    """A resident copy of a CachedStore, decoded chunk by chunk by a background thread into one canvas tensor
    on the training device. `done` is set when every image is in (or when filling failed: see `error`); the
    training loop streams its steps from the cache until then and reads the copy afterwards. Both give the
    same pixels, so where the switch falls does not change what a step sees."""

    def __init__(self, cached: CachedStore, device: torch.device, chunk: int = 256, workers: int = 4):
        n, m = len(cached), cached.max_side
        self.cached, self.device, self.workers = cached, device, workers
        self.canvases = torch.empty((n, 3, m, m), dtype=torch.uint8, device=device)
        self.chunks = [(a, min(n, a + chunk)) for a in range(0, n, chunk)]
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.seconds: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ResidentFill:
        """Fill in a daemon thread. Start it after any DataLoader workers have forked: a fork must not copy a
        process whose other thread holds a lock."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="resident-fill", daemon=True)
            self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        """Ask the thread to stop after its current chunk (the run ended before the copy was needed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def run(self) -> None:
        t0 = time.perf_counter()
        side_stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        try:
            with ThreadPoolExecutor(self.workers) as pool:  # simplejpeg and numpy copies release the GIL
                todo = iter(self.chunks)
                ahead: deque = deque()
                for a, b in todo:  # decode `workers` chunks ahead, no more: host memory stays a few chunks
                    ahead.append((a, b, pool.submit(self.cached.canvas, torch.arange(a, b))))
                    if len(ahead) >= self.workers:
                        break
                while ahead and not self._stop.is_set():
                    a, b, decoded = ahead.popleft()
                    self._put(a, b, decoded.result(), side_stream)
                    nxt = next(todo, None)
                    if nxt is not None:
                        ahead.append((*nxt, pool.submit(self.cached.canvas, torch.arange(*nxt))))
                for *_, decoded in ahead:
                    decoded.cancel()
            if side_stream is not None:
                side_stream.synchronize()
            if not self._stop.is_set():
                self.seconds = time.perf_counter() - t0
        except BaseException as exc:  # out of memory, a vanished cache file: the run keeps streaming
            self.error = exc
        finally:
            self.done.set()

    def _put(self, a: int, b: int, host: torch.Tensor, side_stream) -> None:
        if side_stream is None:
            self.canvases[a:b] = host
            return
        with torch.cuda.stream(side_stream):  # not the training stream: the copy overlaps the steps
            self.canvases[a:b].copy_(host.pin_memory(), non_blocking=True)

    def store(self) -> ResidentStore:
        if not self.done.is_set() or self.error is not None or self.seconds is None:
            raise RuntimeError("the resident copy is not complete")
        c = self.cached
        return ResidentStore(self.canvases, c.sizes, c.labels, c.class_names, c.stats(), c.mean, c.std)


def from_fixed_size(images: torch.Tensor, labels: torch.Tensor | None, class_names: list[str],
                    stats: dict) -> ResidentStore:
    """A store over images that all have one size (built-in data): each canvas is the image itself."""
    n, _, h, w = images.shape
    sizes = torch.tensor([[h, w]], dtype=torch.int64).expand(n, 2).contiguous()
    return ResidentStore(images, sizes, labels, class_names, stats)


def resident_bytes(n: int, max_side: int) -> int:
    return n * 3 * max_side * max_side
