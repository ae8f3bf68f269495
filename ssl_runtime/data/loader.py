"""Step batches for image training: which images, which crop boxes, as uint8 canvases ready for the device.

`StepBatches(step)` is the whole contract: the same step always gives the same images and boxes, on any
number of processes and workers, in the resident path (called in the training process) and in the
streaming path (called inside DataLoader workers, which decode from the dataset cache while the
training step runs).

Where the crops are cut depends on the device. For a GPU the batch carries uint8 canvases and the crops
are cut there in one batched call (ssl_runtime/crops.py), which costs the GPU almost nothing. On a CPU
the producer cuts them with Pillow (a resize with a box: one pass, antialiased), in the loader workers, in
parallel with the training step; a batched crop in the training process would compete with it for cores.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

try:
    import cv2

    cv2.setNumThreads(1)  # one image per call; parallelism comes from the loader workers
except ImportError:  # pragma: no cover - Pillow does the same job, slower
    cv2 = None

from ssl_runtime.crops import box_corners, centre_boxes, covers_canvas, sample_boxes, step_generator
from ssl_runtime.data.order import EpochOrder
from ssl_runtime.data.store import ImageStore


@dataclass(frozen=True)
class CropSpec:
    """One view's crop: output side and the area fraction range (already scaled by augment.strength)."""

    size: int
    scale: tuple[float, float]
    identical: bool = False  # strength 0: every view is the same centre crop
    flip_p: float = 0.0  # with host crops, the horizontal flip is made here too (a GPU flips in kornia)


def crop_on_host(image: np.ndarray, box, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """One crop of an HWC uint8 image resized to size x size: OpenCV (area when shrinking, so antialiased;
    bilinear when enlarging), about 5x Pillow's speed; Pillow's antialiased bilinear where OpenCV is missing."""
    x0, y0, x1, y1 = (int(v) for v in box)
    if (x0, y0) == (0, 0) and (x1 - x0, y1 - y0) == (size, size) == image.shape[1::-1]:
        crop = image
    elif cv2 is None:
        from PIL import Image

        crop = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR, box=(x0, y0, x1, y1)))
    else:
        shrink = x1 - x0 > size and y1 - y0 > size
        inter = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        if out is not None:  # straight into the batch: no extra copy
            cv2.resize(image[y0:y1, x0:x1], (size, size), dst=out, interpolation=inter)
            return out
        crop = cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=inter)
    if out is not None:
        out[...] = crop
        return out
    return crop


def flip_in_place(image: np.ndarray) -> None:
    """Mirror an HWC image left-right where it lies: OpenCV's in-place flip takes 4 us for 224 px, where
    numpy's `out[...] = out[:, ::-1]` copies through a temporary (240 us)."""
    if cv2 is None:
        image[...] = image[:, ::-1].copy()
    else:
        cv2.flip(image, 1, dst=image)


class StepBatches:
    def __init__(self, store: ImageStore, train_ids: torch.Tensor, order: EpochOrder, crops: list[CropSpec],
                 seed: int, host_crops: bool = False):
        self.store, self.train_ids, self.order, self.crops, self.seed = store, train_ids, order, crops, seed
        self.host_crops = host_crops

    def __call__(self, step: int) -> dict:
        positions = self.order.global_batch(step).cpu()
        ids = self.train_ids[positions]
        sizes = self.store.sizes[ids]
        local = self.order.local(torch.arange(len(ids)))  # this process's rows of the global batch
        boxes = []
        for v, spec in enumerate(self.crops):
            if spec.identical:
                boxes.append(centre_boxes(sizes[local]))
            else:  # drawn over the global batch, then sliced: independent of the number of processes
                boxes.append(sample_boxes(sizes, spec.scale, step_generator(self.seed, step, v))[local])
        local_ids = ids[local]
        if self.host_crops:
            flips = [(torch.rand(len(ids), generator=step_generator(self.seed, step, 8 + v)) < s.flip_p)[local]
                     for v, s in enumerate(self.crops)]
            return {"step": step, "ids": local_ids, "views": self._cut(local_ids, boxes, flips)}
        return {"step": step, "ids": local_ids, "canvas": self.store.canvas(local_ids),
                "corners": [box_corners(b) for b in boxes],
                "whole": [covers_canvas(b, self.store.max_side, s.size) for b, s in zip(boxes, self.crops, strict=True)]}

    def _cut(self, ids: torch.Tensor, boxes: list[torch.Tensor], flips: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each view's crops of each image (flipped where drawn), as uint8 (b, 3, size, size); images read in
        file order."""
        views = [np.empty((len(ids), s.size, s.size, 3), dtype=np.uint8) for s in self.crops]
        rows = [b.numpy() for b in boxes]
        flip_rows = [f.numpy() for f in flips]
        for j in np.argsort(ids.numpy(), kind="stable"):
            image = self.store.image(int(ids[j]))
            for v, spec in enumerate(self.crops):
                out = crop_on_host(image, rows[v][j], spec.size, out=views[v][j])
                if flip_rows[v][j]:
                    flip_in_place(out)
        return [torch.from_numpy(v).permute(0, 3, 1, 2) for v in views]


class _StepDataset(torch.utils.data.Dataset):
    """Map-style over steps: the DataLoader asks for [step] and gets that step's whole batch."""

    def __init__(self, batches: StepBatches):
        self.batches = batches

    def __len__(self) -> int:
        return 1 << 62

    def __getitems__(self, steps: list[int]) -> dict:
        return self.batches(steps[0])


class _Steps(torch.utils.data.Sampler):
    """Steps start..stop-1, in order; with `until`, no step is handed out once that event is set (the loader
    then finishes the steps it already asked its workers for, and stops)."""

    def __init__(self, start: int, stop: int, until: threading.Event | None = None):
        self.start, self.stop, self.until = start, stop, until

    def __iter__(self):
        for s in range(self.start, self.stop):
            if self.until is not None and self.until.is_set():
                return
            yield [s]

    def __len__(self) -> int:
        return self.stop - self.start


def _first(batch):
    return batch


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # decoding is per image; threads inside a worker only fight each other
    # A cancel signals the worker's whole session (torchrun's ranks need it): a loader process it killed made the
    # trainer raise mid-step, and the run failed instead of stopping with its checkpoint. The trainer handles the
    # signal and closes its loader; a loader process outlives nothing (torch stops it when its parent exits).
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_IGN)


def default_workers() -> int:
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def stream(batches: StepBatches, start: int, stop: int, workers: int, pin_memory: bool,
           prefetch: int = 4, until: threading.Event | None = None) -> Iterator[dict]:
    """Step batches from `start` to `stop` (or until `until` is set) made by `workers` DataLoader processes,
    `prefetch` each ahead. The workers are forked before this returns."""
    loader = torch.utils.data.DataLoader(
        _StepDataset(batches), batch_sampler=_Steps(start, stop, until), num_workers=workers, collate_fn=_first,
        pin_memory=pin_memory, prefetch_factor=prefetch if workers else None, worker_init_fn=_worker_init,
        persistent_workers=False, multiprocessing_context="fork" if workers else None)
    return iter(loader)


def resident(batches: StepBatches, start: int, stop: int, pin_memory: bool,
             until: threading.Event | None = None) -> Iterator[dict]:
    """Step batches made here, from images already in (device) memory: nothing to decode, nothing to wait for."""
    for step in range(start, stop):
        if until is not None and until.is_set():
            return
        b = batches(step)
        if pin_memory and "corners" in b:
            b["corners"] = [c.pin_memory() for c in b["corners"]]
        yield b
