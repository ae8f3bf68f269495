"""The data engine on a generated folder of 256-px JPEGs (class subfolders), against the usual alternatives.

    python benchmarks/data_engine.py --images 50000 --rss-images 200000 --workers 2

Measures, each printed as a table with the ratio to its reference:
1. launch to first step: the first launch (building the cache), a second launch (cache hit), and the loader
   sslpilot had before the cache (PIL-decode every file at every launch into one resident tensor);
2. the cache build: images/s, and bytes per image against the source folder;
3. loader-only throughput at 224 px, two views of random-resized crop + flip (no model), against an
   ImageFolder-style DataLoader doing PIL RandomResizedCrop + flip + to-tensor per image, same workers;
   also sslpilot's raw path at 64 px;
4. peak RSS (training process + loader workers) while streaming, at two dataset sizes;
5. (`--parts hit`) the second launch of a one-step run through the real worker (`python -m ssl_runtime run`,
   probe included) on folders of each `--hit-sizes`, resident and streamed: launch to first step, end to
   end, the phases the run's event log reports, and peak PSS of the worker and its loader processes; the
   reference is the path before the background fill (decode the whole set, then train), timed in-process.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table  # noqa: E402

CLASSES = 10


def _make_chunk(args: tuple[Path, int, int, int]) -> int:
    """Photo-like 256x(192..256) JPEGs: gradients, blobs and sensor noise, so they compress like photos."""
    from PIL import Image

    root, start, stop, seed = args
    rng = np.random.default_rng(seed + start)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32) / 256
    for i in range(start, stop):
        c = rng.uniform(0, 255, (3, 3))
        img = c[0] * xx[..., None] / 1 + c[1] * yy[..., None] + c[2] * (1 - xx[..., None]) / 2
        for _ in range(3):
            cx, cy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.25)
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
            img[mask] = rng.uniform(0, 255, 3)
        img = np.clip(img / 2 + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
        h = int(rng.integers(192, 257))
        folder = root / f"class{i % CLASSES}"
        Image.fromarray(img[:h]).save(folder / f"{i:07d}.jpg", quality=90)
    return stop - start


def make_folder(root: Path, n: int, workers: int) -> Path:
    if (root / "DONE").exists() and int((root / "DONE").read_text()) == n:
        return root
    for c in range(CLASSES):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    step = 2000
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_make_chunk, [(root, s, min(n, s + step), 0) for s in range(0, n, step)]))
    (root / "DONE").write_text(str(n))
    return root


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.jpg"))


# ---- 1. launch to first step ----------------------------------------------------------------------------

def _run_tree(photos: Path, cache_dir: Path, size: int) -> dict:
    return {"method": "simclr", "data": {"path": str(photos), "image_size": size, "cache_dir": str(cache_dir),
                                         "loader": "stream"},
            "backbone": {"name": "small_cnn", "width": 0.25}, "method_args": {"proj_hidden_dim": 64, "proj_dim": 32},
            "train": {"steps": 1, "batch_size": 64, "health_every": 10**6, "health_samples": 64,
                      "checkpoint_every": 10**6, "device": "cpu"}}


def launch_to_first_step(photos: Path, cache_dir: Path, size: int) -> float:
    from _common import make_run

    from ssl_runtime.trainer import train

    run_dir = make_run(_run_tree(photos, cache_dir, size), f"launch-{time.time_ns()}")
    t0 = time.perf_counter()
    train(run_dir)
    return time.perf_counter() - t0


def data_ready(photos: Path, cache_dir: Path, size: int) -> float:
    """The data part of a launch: list the source, open (or build) its cache, split, make the first batch."""
    from ssl_runtime.config import DataConfig
    from ssl_runtime.data import open_store, split_ids
    from ssl_runtime.data.loader import CropSpec, StepBatches
    from ssl_runtime.data.order import EpochOrder

    t0 = time.perf_counter()
    cfg = DataConfig(path=str(photos), image_size=size, cache_dir=str(cache_dir))
    store = open_store(cfg, size)
    train_ids, _ = split_ids(store, cfg, 0)
    order = EpochOrder(len(train_ids), 64, seed=0, world=1, rank=0)
    StepBatches(store, train_ids, order, [CropSpec(size, (0.08, 1.0))] * 2, 0, host_crops=True)(0)
    return time.perf_counter() - t0


def previous_loader_launch(photos: Path, size: int) -> float:
    """What a launch cost before the cache: decode every file with PIL (8 threads), fit to size, stack."""
    from PIL import Image, ImageOps

    files = sorted(photos.rglob("*.jpg"))
    t0 = time.perf_counter()

    def load(p):
        with Image.open(p) as img:
            return np.asarray(ImageOps.fit(img.convert("RGB"), (size, size), method=Image.Resampling.BICUBIC))

    with ThreadPoolExecutor(8) as pool:
        arrays = list(pool.map(load, files))
    torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return time.perf_counter() - t0


# ---- 3. loader-only throughput -------------------------------------------------------------------------

class ImageFolderReference(torch.utils.data.Dataset):
    """torchvision's ImageFolder + RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor, written with PIL
    (torchvision does not import beside the CPU torch wheel here); two views per image, as SSL needs."""

    def __init__(self, root: Path, size: int):
        self.files = sorted(root.rglob("*.jpg"))
        self.size = size

    def __len__(self) -> int:
        return len(self.files)

    def _view(self, img):
        from PIL import Image

        w, h = img.size
        for _ in range(10):
            area = w * h * random.uniform(0.08, 1.0)
            r = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
            cw, ch = round(math.sqrt(area * r)), round(math.sqrt(area / r))
            if 0 < cw <= w and 0 < ch <= h:
                x, y = random.randint(0, w - cw), random.randint(0, h - ch)
                break
        else:
            cw, ch, x, y = min(w, h), min(w, h), (w - min(w, h)) // 2, (h - min(w, h)) // 2
        out = img.resize((self.size, self.size), Image.Resampling.BILINEAR, box=(x, y, x + cw, y + ch))
        if random.random() < 0.5:
            out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return torch.from_numpy(np.asarray(out, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255)

    def __getitem__(self, i: int):
        from PIL import Image

        with Image.open(self.files[i]) as img:
            img = img.convert("RGB")
            return self._view(img), self._view(img)


def reference_throughput(photos: Path, size: int, batch: int, workers: int, steps: int) -> float:
    loader = torch.utils.data.DataLoader(ImageFolderReference(photos, size), batch_size=batch, shuffle=True,
                                         num_workers=workers, drop_last=True, persistent_workers=False)
    it = iter(loader)
    next(it)  # workers started, first batch made
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    return steps * batch / (time.perf_counter() - t0)


def sslpilot_throughput(cache_path: Path, size: int, batch: int, workers: int, steps: int,
                        rss: list[int] | None = None, to_float: bool = True) -> float:
    """Streamed step batches from the cache, crops cut and flipped like a training step does (on the CPU here)."""
    from ssl_runtime.data.cache import DatasetCache
    from ssl_runtime.data.loader import CropSpec, StepBatches, stream
    from ssl_runtime.data.order import EpochOrder
    from ssl_runtime.data.store import CachedStore

    store = CachedStore(DatasetCache(cache_path))
    crops = [CropSpec(size, (0.08, 1.0), flip_p=0.5), CropSpec(size, (0.08, 1.0), flip_p=0.5)]
    order = EpochOrder(len(store), batch, seed=0, world=1, rank=0)
    batches = StepBatches(store, torch.arange(len(store)), order, crops, seed=0)
    done, t0 = 0, None
    batches.host_crops = True  # on a CPU the workers cut and flip (see ssl_runtime/data/loader.py)
    floats: list[torch.Tensor] = []
    for b in stream(batches, 0, steps + 1, workers, pin_memory=False):
        if to_float:  # the float batch the reference's ToTensor delivers, made as a device copy would be:
            floats = floats or [torch.empty(v.shape) for v in b["views"]]  # into buffers kept across steps
            for buf, view in zip(floats, b["views"], strict=True):
                buf.copy_(view).mul_(1 / 255.0)
        if rss is not None:
            me = psutil.Process()
            # PSS: pages shared by the forked workers are counted once, not once per process
            rss.append(sum(p.memory_full_info().pss for p in (me, *me.children(recursive=True))))
        if t0 is None:
            t0 = time.perf_counter()  # after the first batch: workers are up
        else:
            done += 1
    return done * batch / (time.perf_counter() - t0)


def peak_rss_streaming(cache_path: Path, workers: int, steps: int) -> int:
    samples: list[int] = []
    sslpilot_throughput(cache_path, 224, 64, workers, steps, rss=samples)
    return max(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=50000)
    ap.add_argument("--rss-images", type=int, default=200000)
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--root", default=os.path.join(tempfile.gettempdir(), "sslpilot-data-bench"))
    ap.add_argument("--parts", default="launch,build,loader,rss", help="which tables to make (and: hit)")
    ap.add_argument("--hit-sizes", default="5000,20000,50000", help="folder sizes for the second-launch table")
    ap.add_argument("--hit-health-samples", type=int, default=512, help="train.health_samples of those runs")
    ap.add_argument("--warm", action="store_true", help="hit: launch through LocalBackend's warm launcher")
    args = ap.parse_args()
    parts = set(args.parts.split(","))

    from ssl_runtime.data.cache import ensure_cache

    root = Path(args.root)
    if "hit" in parts:
        hit_table(args, root)
        parts.discard("hit")
        if not parts:
            return
    photos = make_folder(root / f"photos{args.images}", args.images, args.workers)
    cache_dir = root / f"cache{time.time_ns()}"  # a fresh cache: the first launch builds it
    src_bytes = folder_bytes(photos)

    if "launch" in parts:
        launch_table(args, photos, cache_dir)
    jpeg_dir = root / (f"build{time.time_ns()}" if "build" in parts else "build")  # build: measure a fresh one
    t0 = time.perf_counter()
    jpeg = ensure_cache(photos, jpeg_dir, 256, "jpeg", workers=args.workers)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    raw = ensure_cache(photos, jpeg_dir, 64, "raw", workers=args.workers)
    raw_s = time.perf_counter() - t0
    jpeg, raw = jpeg.cache, raw.cache
    if "build" in parts:
        print(f"\n## Cache build ({args.workers} processes)\n")
        print(table(["cache", "images/s", "bytes/image", "vs source bytes"], [
            ["source folder (JPEG q90, 256 px)", "-", src_bytes / args.images, "1.00x"],
            ["JPEG cache, max side 256", len(jpeg) / build_s, jpeg.meta["bytes"] / len(jpeg),
             f"{jpeg.meta['bytes'] / src_bytes:.2f}x"],
            ["raw cache, max side 64", len(raw) / raw_s, raw.meta["bytes"] / len(raw),
             f"{raw.meta['bytes'] / src_bytes:.2f}x"]]))
    if "loader" in parts:
        loader_table(args, photos, jpeg, raw)
    if "rss" in parts:
        rss_table(args, root, jpeg)


def launch_table(args, photos: Path, cache_dir: Path) -> None:
    first = launch_to_first_step(photos, cache_dir, 64)
    second = launch_to_first_step(photos, cache_dir, 64)
    ready = data_ready(photos, cache_dir, 64)
    before = previous_loader_launch(photos, 64)
    print(f"\n## Launch, {args.images} JPEGs of 256 px, train size 64 ({machine()})\n")
    print(table(["launch", "seconds", "vs the previous loader"], [
        ["previous loader: data ready (PIL-decode the folder at every launch)", before, "1.00x"],
        ["sslpilot, cache hit: data ready (list the folder, open the cache, first batch)", ready,
         f"{before / ready:.2f}x"],
        ["sslpilot, first launch to first step (builds the cache; CPU model and health views included)", first,
         f"{before / first:.2f}x"],
        ["sslpilot, second launch to first step (cache hit; same)", second, f"{before / second:.2f}x"]]))


def loader_table(args, photos: Path, jpeg, raw) -> None:
    ref = reference_throughput(photos, 224, args.batch, args.workers, args.steps)
    ours = sslpilot_throughput(jpeg.path, 224, args.batch, args.workers, args.steps)
    ours_u8 = sslpilot_throughput(jpeg.path, 224, args.batch, args.workers, args.steps, to_float=False)
    ours64 = sslpilot_throughput(raw.path, 64, args.batch, args.workers, args.steps)
    ref64 = reference_throughput(photos, 64, args.batch, args.workers, args.steps)
    print(f"\n## Loader only: 2 views of random-resized crop + flip, batch {args.batch}, {args.workers} workers\n")
    print(table(["loader", "images/s", "vs reference"], [
        ["ImageFolder-style PIL DataLoader, 224 px", ref, "1.00x"],
        ["sslpilot, JPEG cache, 224 px", ours, f"{ours / ref:.2f}x"],
        ["sslpilot, JPEG cache, 224 px, uint8 as delivered to the device", ours_u8, f"{ours_u8 / ref:.2f}x"],
        ["ImageFolder-style PIL DataLoader, 64 px", ref64, "1.00x"],
        ["sslpilot, raw cache, 64 px", ours64, f"{ours64 / ref64:.2f}x"]]))


def rss_table(args, root: Path, jpeg) -> None:
    rows = [[f"{args.images} images", peak_rss_streaming(jpeg.path, args.workers, args.steps) / 1e6, "1.00x"]]
    if args.rss_images:
        from ssl_runtime.data.cache import ensure_cache

        big = make_folder(root / f"photos{args.rss_images}", args.rss_images, args.workers)
        big_cache = ensure_cache(big, root / "cache-big", 256, "jpeg", workers=args.workers).cache
        mb = peak_rss_streaming(big_cache.path, args.workers, args.steps) / 1e6
        rows.append([f"{args.rss_images} images", mb, f"{mb / rows[0][1]:.2f}x"])
    print("\n## Peak memory (PSS) while streaming at 224 px (training process + workers)\n")
    print(table(["dataset", "peak RSS (MB)", "vs the smaller set"], rows))



# ---- 5. the second launch of a one-step run ---------------------------------------------------------------

def _hit_tree(photos: Path, cache_dir: Path, loader: str, health_samples: int) -> dict:
    """The issue's launch: SimCLR, small CNN (width 0.25), 224 px, batch 32, one step, labels present."""
    return {"method": "simclr", "data": {"path": str(photos), "image_size": 224, "cache_dir": str(cache_dir),
                                         "loader": loader},
            "backbone": {"name": "small_cnn", "width": 0.25},
            "train": {"steps": 1, "batch_size": 32, "device": "cpu", "health_samples": health_samples}}


def worker_launch(tree: dict, runs: Path, backend=None) -> dict:
    """One run from its launch to the worker's exit, sampling PSS of the worker and its children: a fresh
    `python -m ssl_runtime run`, or with `backend` a LocalBackend's submit (forked by its warm launcher)."""
    import json
    import subprocess

    from _common import make_run

    run = make_run(tree, f"hit-{time.time_ns()}", runs)
    t0 = time.time()
    if backend is None:
        proc = subprocess.Popen([sys.executable, "-m", "ssl_runtime", "run", str(run)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        pid, running = proc.pid, lambda: proc.poll() is None
    else:
        handle = backend.submit(str(run), run.name)
        pid, running = int(handle.job_id), lambda: backend.alive(handle)
    submit_s = time.time() - t0
    me, peak = psutil.Process(pid), 0
    while running():
        try:
            peak = max(peak, sum(p.memory_full_info().pss for p in (me, *me.children(recursive=True))))
        except psutil.Error:
            pass
        time.sleep(0.1)
    end = time.time() - t0
    summary = json.loads((run / "summary.json").read_text())
    if summary.get("status") != "succeeded":
        raise SystemExit(f"the launch failed: {summary.get('message')}")
    ph = summary["phases"]  # process_start_s: since the fork or the exec, so the submit itself is added
    final = submit_s + ph["process_start_s"] + ph["prepare_s"] + ph["training_s"] + ph["export_s"]
    return {"starts": submit_s + ph["process_start_s"] + ph["data_ready_s"],
            "first_step": submit_s + ph["process_start_s"] + ph["first_step_s"], "final": final, "end": end,
            "peak": peak, "phases": ph, "loader": summary["data"]["loader"]}


def decode_all_first(photos: Path, cache_dir: Path) -> float:
    """The reference: what the resident path did before step 1 until now, decode every image of the cache."""
    from ssl_runtime.config import DataConfig
    from ssl_runtime.data import open_store

    store = open_store(DataConfig(path=str(photos), image_size=224, cache_dir=str(cache_dir)), 224)
    t0 = time.perf_counter()
    store.resident()
    return time.perf_counter() - t0


def hit_table(args, root: Path) -> None:
    rows, phase_rows = [], []
    runs = root / "hit-runs"
    backend = None
    if args.warm:
        from tools.backends.local import LocalBackend

        os.environ["SSLPILOT_WARM_WORKER"] = "1"
        backend = LocalBackend()
        backend.prewarm()
        backend.warm.ready.wait(600)
    how = "forked by the warm launcher" if args.warm else "a fresh Python process"
    for n in (int(v) for v in args.hit_sizes.split(",")):
        photos = make_folder(root / f"photos{n}", n, args.workers)
        cache_dir = root / f"hit-cache{n}"
        worker_launch(_hit_tree(photos, cache_dir, "stream", args.hit_health_samples), runs)  # builds the cache
        before = decode_all_first(photos, cache_dir) if not args.warm else float("nan")
        for loader in ("stream", "resident"):
            r = worker_launch(_hit_tree(photos, cache_dir, loader, args.hit_health_samples), runs, backend)
            rows.append([f"{n}", loader, r["starts"], r["first_step"], r["final"], r["end"], r["peak"] / 1e9,
                         f"{before:.1f} s + the rest"])
            ph = r["phases"]
            phase_rows.append([f"{n}", loader, ph["process_start_s"], ph.get("data_open_s", 0.0),
                               ph.get("model_s", 0.0), ph["first_step_s"] - ph["prepare_s"],
                               ph["training_s"], ph.get("evaluation_s", 0.0)])
            print(f"  {n} {loader}: first step {r['first_step']:.1f} s, end {r['end']:.1f} s", flush=True)
    if backend is not None:
        backend.warm.close()
    print(f"\n## Second launch of a one-step run (cache hit), {how}, 224 px, small CNN x0.25, batch 32, "
          f"health sample {args.hit_health_samples} ({machine()})\n")
    print(table(["images", "data.loader", "launch to first step starting (s)", "...done (s)", "to status final (s)",
                 "end to end, probe included (s)", "peak PSS (GB)", "before: decode all, then train"], rows))
    print("\nPhases from the run's event log (seconds):\n")
    print(table(["images", "data.loader", "process start (imports, or since the fork)", "open data",
                 "model (health views: at the first health step)", "first batch + first step", "training (step 1 + its health)",
                 "evaluation (probe)"], phase_rows))


if __name__ == "__main__":
    main()
