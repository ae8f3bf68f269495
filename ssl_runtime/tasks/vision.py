"""Images: crops cut on the stored images, batched kornia views, health on two fixed held-out views.

Data reaches the device one of two ways (data.loader, data.memory_budget_gb; `_place` says why in the events):
- resident: every image decoded once into uint8 canvases in device memory; a step only indexes them. The copy
  is filled by a background thread while the first steps stream, so a launch never waits for the whole set;
- streamed: DataLoader workers read and decode each step's images from the dataset cache while the
  previous step trains, into pinned memory; host memory stays flat whatever the dataset size. On a CPU
  this is the default: the workers crop there anyway, and a resident copy would only add memory.
Either way the same step gets the same images and the same crop boxes (data/loader.py), so a run can
switch paths mid-run, or be resumed, without changing what it sees.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psutil
import torch

from ssl_runtime import distributed as dist_utils
from ssl_runtime.augment import ViewPipeline, crop_scale
from ssl_runtime.config import RunConfig
from ssl_runtime.crops import box_corners, centre_boxes, crop_resize, sample_boxes, step_generator
from ssl_runtime.data import default_image_size, eval_images, measured_sample, open_store, split_ids
from ssl_runtime.data.loader import CropSpec, StepBatches, default_workers, resident, stream
from ssl_runtime.data.order import EpochOrder
from ssl_runtime.data.store import CachedStore, ImageStore, ResidentFill, resident_bytes
from ssl_runtime.health import HealthMonitor, eval_mode
from ssl_runtime.knn_monitor import KnnMonitor
from ssl_runtime.methods import build_method
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.tasks.base import Task, plan_steps

HEALTH_SEED = 12345


def memory_budget(cfg_gb: float | None, device: torch.device) -> int:
    """Bytes of decoded images the resident path may hold: the setting, else half the free GPU memory,
    else a quarter of the available host memory."""
    if cfg_gb is not None:
        return int(cfg_gb * 1e9)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free // 2
    return psutil.virtual_memory().available // 4


class VisionTask(Task):
    index_device = torch.device("cpu")  # the order and the crop boxes are made on the host

    def __init__(self, cfg: RunConfig, folder: RunFolder | None, device: torch.device, precision: str):
        self.cfg, self.device, self.precision = cfg, device, precision
        self.main = dist_utils.rank() == 0
        self.folder = folder
        size = default_image_size(cfg.data, cfg.backbone.name)
        self.image_size = size
        t0 = time.perf_counter()
        store = open_store(cfg.data, size, log=self._info, run_dir=folder.path if folder else None)
        self.phases = {"data_open_s": time.perf_counter() - t0}
        self.train_ids, val_ids = split_ids(store, cfg.data, cfg.train.seed)
        self.n_train = len(self.train_ids)
        self.batch_size, self.total_steps, self.steps_per_epoch = plan_steps(cfg, self.n_train)
        self._report_data(store, size)
        self.cached = store if isinstance(store, CachedStore) else None
        self.fill: ResidentFill | None = None  # the resident copy being filled, until the steps switch to it
        self.resident_from: int | None = None  # the first 0-based step that read the resident copy
        self.store, self.streaming = self._place(store)
        t1 = time.perf_counter()
        method = build_method(cfg, size, self.total_steps)
        if dist_utils.is_distributed() and device.type == "cuda":
            method = torch.nn.SyncBatchNorm.convert_sync_batchnorm(method)  # statistics over the global batch
        method = method.to(device)
        if device.type == "cuda":
            method = method.to(memory_format=torch.channels_last)
        if cfg.train.compile:
            method.backbone.compile()
        self.method = method
        recipes = method.view_recipes(size, cfg.augment)
        strength = cfg.augment.strength
        self.host_crops = device.type == "cpu"  # a CPU cuts and flips in the loader workers; a GPU in kornia
        self.crops = [CropSpec(r.size, crop_scale(r, strength), identical=strength == 0,
                               flip_p=r.flip_p * strength if self.host_crops else 0.0) for r in recipes]
        self.pipeline = ViewPipeline(recipes, strength, store.mean, store.std, crop=False,
                                     flip=not self.host_crops).to(device)
        health_ids = measured_sample(val_ids if len(val_ids) >= 16 else self.train_ids, cfg.train.health_samples,
                                     cfg.train.seed)
        self.health_ids = health_ids
        self.monitor = HealthMonitor(lambda: self.health_views(health_ids))  # made at the first health step
        first = self.crops[0].size
        self.embedding_dim = HealthMonitor.embedding_dim(method, torch.zeros(2, 3, first, first, device=device))
        self.health_samples = len(health_ids)
        self.knn = self._knn_monitor(store, health_ids) if len(val_ids) >= 16 else None
        self.phases["model_s"] = time.perf_counter() - t1

    def _knn_monitor(self, store: ImageStore, query_ids: torch.Tensor) -> KnnMonitor | None:
        """kNN accuracy at each health step, where the images have labels (ssl_runtime/knn_monitor.py)."""
        ev = self.cfg.eval
        if store.labels is None or not ev.knn_monitor_images or not self.main:
            return None
        bank_ids = measured_sample(self.train_ids, ev.knn_monitor_images, self.cfg.train.seed)
        n_classes = len(store.class_names) or int(store.labels.max()) + 1

        def images() -> tuple[torch.Tensor, ...]:
            labels = self.store.labels
            return (eval_images(self.store, bank_ids, self.image_size).to(self.device), labels[bank_ids].to(self.device),
                    eval_images(self.store, query_ids, self.image_size).to(self.device),
                    labels[query_ids].to(self.device))

        return KnnMonitor(images, lambda x: self.pipeline.normalise(x.float().div(255.0)), n_classes, ev.knn_k,
                          ev.knn_temperature)

    # ---- data placement -------------------------------------------------------------------------------
    def _info(self, message: str) -> None:
        if self.main and self.folder is not None:
            self.folder.event("info", message, kind="data")
        if self.main:
            print(message, flush=True)

    def _report_data(self, store: ImageStore, size: int) -> None:
        stats = store.stats()
        if not (self.main and self.folder is not None):
            return
        if stats.get("skipped_files"):
            files = getattr(store, "cache", None)
            listed = files.meta.get("unreadable_files", [])[:20] if files is not None else []
            self.folder.event("warning", f"skipped {stats['skipped_files']} unreadable image files",
                              kind="corrupt_files", count=stats["skipped_files"], files=listed)
        longest = store.sizes.max(dim=1).values.float().median().item()
        if longest < size:
            self.folder.event("warning", f"the images are stored at {longest:.0f} px on their longest side (median) "
                              f"but train at {size} px, so crops are upsampled; set data.image_size to {int(longest)} "
                              "or less, or use larger images", kind="low_resolution", stored=longest, train=size)

    def _place(self, store: ImageStore) -> tuple[ImageStore, bool]:
        """(the store the first steps read, streamed?). Resident when it fits the budget (on a GPU; on a CPU only
        when asked, or for tiny images cropped in-process), filled in the background; else streamed."""
        loader = self.cfg.data.loader
        if not isinstance(store, CachedStore):
            return store.to(self.device), False
        need = resident_bytes(len(store), store.max_side)
        budget = memory_budget(self.cfg.data.memory_budget_gb, self.device)
        sizes = f"{len(store)} images need {need / 1e9:.2f} GB decoded, budget {budget / 1e9:.2f} GB"
        if loader != "auto":
            go_resident, why = loader == "resident", f"data.loader={loader}"
        elif need > budget:
            go_resident, why = False, "the decoded set exceeds data.memory_budget_gb"
        elif self.device.type == "cpu" and store.max_side > 64:
            go_resident, why = False, ("on a CPU the loader workers decode and crop while the step trains; a resident "
                                       "copy would only add host memory (data.loader=resident holds one)")
        else:
            go_resident, why = True, "it fits the memory budget"
        if go_resident:
            self.fill = ResidentFill(store, self.device, workers=max(1, min(8, default_workers())))
            self._info(f"data resident, filled in the background while the first steps stream: {sizes} ({why})")
            return store, False
        self._info(f"data streamed: {sizes} ({why})")
        return store, True

    # ---- batches ----------------------------------------------------------------------------------------
    def batches(self, order: EpochOrder, start: int) -> Iterator[list[torch.Tensor]]:
        """The run's step batches as views. The first source opens now, not at the first next(): its loader
        workers fork and decode the first batches while the trainer finishes its set-up."""
        fill, self.fill = self.fill, None
        if fill is None:
            return self._views(self._source(self.store, order, start))
        return self._filling(fill, self._source(self.cached, order, start, until=fill.done), order, start)

    def _views(self, source: Iterator[dict]) -> Iterator[list[torch.Tensor]]:
        for b in source:
            yield self.views(b)

    def _filling(self, fill: ResidentFill, early: Iterator[dict], order: EpochOrder,
                 start: int) -> Iterator[list[torch.Tensor]]:
        """Stream from the cache while the copy fills, then read the copy. The filling thread starts once the
        first step's batch has been handed over (the trainer asks for the second): the first step does not
        share the CPU with it (a one-step run never fills), and the loader workers forked before any thread."""
        step = start
        try:
            for b in early:
                step = b["step"] + 1
                yield self.views(b)
                if not fill.started:
                    fill.start()
        finally:
            if fill.started and (step >= self.total_steps or not fill.done.is_set()):
                fill.stop()  # the run ended, or stopped, before it needed the copy: no thread outlives it
        if step >= self.total_steps:
            return
        if fill.error is not None:
            self._info(f"the resident copy could not be filled ({type(fill.error).__name__}: {fill.error}); "
                       "streaming the rest of the run from the cache")
            self.streaming = True
        else:
            self.store, self.resident_from = fill.store(), step
            self._info(f"resident copy filled in {fill.seconds:.1f} s; steps {step + 1}.. read it "
                       f"(steps {start + 1}..{step} streamed meanwhile)")
        yield from self._views(self._source(self.store, order, step))

    def _source(self, store: ImageStore, order: EpochOrder, start: int, until=None) -> Iterator[dict]:
        host_crops = self.host_crops
        steps = StepBatches(store, self.train_ids, order, self.crops, self.cfg.train.seed, host_crops)
        pin = self.device.type == "cuda"
        if isinstance(store, CachedStore) or (host_crops and store.max_side > 64):
            # workers decode and/or crop while the step trains (tiny images are cheaper to crop right here)
            workers = self.cfg.data.workers if self.cfg.data.workers is not None else default_workers()
            return stream(steps, start, self.total_steps, workers, pin, until=until)
        return resident(steps, start, self.total_steps, pin, until=until)

    def views(self, b: dict) -> list[torch.Tensor]:
        """Crop (unless the loader did), augment and normalise one step batch on the device. The colour ops draw
        from a generator seeded by (seed, step, rank), so a resume or another path repeats them exactly."""
        torch.manual_seed((self.cfg.train.seed * 1_000_003 + b["step"]) * 64 + 32 + dist_utils.rank())
        canvas = b["canvas"].to(self.device, non_blocking=True) if "canvas" in b else None
        out = []
        for v, spec in enumerate(self.crops):
            if canvas is None:
                x = b["views"][v].to(self.device, non_blocking=True).float().div_(255.0)
            else:
                corners = b["corners"][v].to(self.device, non_blocking=True)
                x = crop_resize(canvas, corners, spec.size, b["whole"][v])
            x = self.pipeline.augment(v, x)
            out.append(x.contiguous(memory_format=torch.channels_last) if self.device.type == "cuda" else x)
        return out

    def health_views(self, ids: torch.Tensor, count: int = 2) -> list[torch.Tensor]:
        """`count` fixed augmented views of held-out images (train images when there is no val split), alternating
        the method's first two view recipes; the first two are the health batch's. More views serve LiDAR as its
        paper computes it (benchmarks/label_free.py --pool-views)."""
        canvas = self.store.canvas(ids).to(self.device)
        sizes = self.store.sizes[ids]
        specs = self.crops if len(self.crops) >= 2 else self.crops * 2  # MAE: two draws of its one view
        devices = [self.device] if self.device.type == "cuda" else []
        views = []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(HEALTH_SEED)
            for v in range(count):
                spec = specs[v % 2]
                boxes = centre_boxes(sizes) if spec.identical else sample_boxes(
                    sizes, spec.scale, step_generator(HEALTH_SEED, 0, v))
                x = crop_resize(canvas, box_corners(boxes).to(self.device), spec.size)
                views.append(self.pipeline.augment(min(v % 2, len(self.crops) - 1), x))
        return views

    def health(self) -> dict[str, torch.Tensor]:
        out = self.monitor.measure(self.method)
        if self.knn is not None:
            with eval_mode(self.method):
                out.update(self.knn.measure(self.method.backbone))
        return out

    def export(self, folder: RunFolder) -> None:
        self.method.backbone.save(folder.encoder, preprocess=self.preprocess())

    def preprocess(self) -> dict:
        return {"image_size": self.image_size, "mean": self.pipeline.mean.flatten().tolist(),
                "std": self.pipeline.std.flatten().tolist(), "method": self.cfg.method,
                "crop": "largest centred square, resized"}

    def stats(self) -> dict:
        out = {**self.store.stats(), "image_size": self.image_size,
               "loader": "stream" if self.streaming else "resident"}
        if self.resident_from is not None:
            out["resident_from_step"] = self.resident_from + 1
        return out
