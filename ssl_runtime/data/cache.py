"""The dataset cache: a user's images decoded once, stored at a maximum side, shared by every run.

Layout of `<datasets>/<name>-<fingerprint>/` (<datasets> is data.cache_dir, else $SSLPILOT_HOME/datasets):
- `data.bin`: every image back to back, either raw RGB uint8 (small images: no decoding at all when read)
  or re-encoded baseline JPEG (larger ones; about a tenth of the raw size) - FFCV's RAW and JPEG fields;
- `index.npy`: one row per image: offset, byte length, stored height and width, original height and
  width, label (-1 without), and a digest of the pixels (exact duplicates share it);
- `keys.txt`: the source file of each row (relative path, shard/member or #row), one per line;
- `meta.json`: the source, its fingerprint, the settings, counts, the dataset's channel mean/std, and the
  files that could not be read, with reasons (all of them in `unreadable.jsonl`).

A build writes into `<name>.building-<pid>/` and renames it into place only when complete, so a killed
build or a full disk never leaves a cache that looks complete; the next build removes the leftovers. A
lock per cache name makes two launches of the same data build it once: the second waits, then reads it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_runtime import settings
from ssl_runtime.data import decode
from ssl_runtime.data.sources import Scan, hf_image_bytes, scan, tar_image_bytes
from ssl_runtime.errors import DataError, is_full_disk

CACHE_VERSION = 1
DEFAULT_MAX_SIDE = 256
RAW_MAX_SIDE = 64  # at or below this side images are stored raw (decoding would cost more than it saves)
INDEX_DTYPE = np.dtype([("offset", "<u8"), ("nbytes", "<u4"), ("height", "<u2"), ("width", "<u2"),
                        ("orig_height", "<u4"), ("orig_width", "<u4"), ("label", "<i4"), ("digest", "<i8")])
ProgressFn = Callable[[int, int], None]
LogFn = Callable[[str], None]


def datasets_root(cache_dir: str | None = None, run_dir: str | Path | None = None) -> Path:
    """Where caches live: data.cache_dir; else the home the run folder sits in (<home>/runs/<id> ->
    <home>/datasets); else $SSLPILOT_HOME/datasets; else ./.sslpilot/datasets."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if run_dir is not None and Path(run_dir).resolve().parent.name == "runs":
        return Path(run_dir).resolve().parent.parent / "datasets"
    home = settings.get("SSLPILOT_HOME")
    return (Path(home).expanduser() if home else Path(".sslpilot")) / "datasets"


def resolve_format(fmt: str, max_side: int) -> str:
    if fmt not in ("auto", "raw", "jpeg"):
        raise DataError(f"unknown cache format {fmt!r}", field="data.cache_format", fix="use auto, raw or jpeg")
    return ("raw" if max_side <= RAW_MAX_SIDE else "jpeg") if fmt == "auto" else fmt


def cache_name(s: Scan, max_side: int, fmt: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", s.root.stem if s.root.is_file() else s.root.name).strip("_.") or "data"
    import hashlib

    key = hashlib.sha256(f"{s.fingerprint}|{max_side}|{fmt}|v{CACHE_VERSION}".encode()).hexdigest()[:12]
    return f"{slug[:40]}-{key}"


class DatasetCache:
    """A finished cache, read with pread (the OS page cache holds hot images; our RSS stays flat)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.meta = json.loads((self.path / "meta.json").read_text())
            self.index = np.load(self.path / "index.npy")
        except (OSError, ValueError) as exc:
            raise DataError(f"dataset cache {self.path.name} is unreadable ({exc})", field="data",
                            fix=f"remove it (`sslpilot data rm {self.path.name}`) and launch again") from None
        self.format = self.meta["format"]
        self._fd: int | None = None
        self._pid = -1

    name = property(lambda self: self.path.name)
    max_side = property(lambda self: int(self.meta["max_side"]))
    class_names = property(lambda self: list(self.meta.get("class_names") or []))

    def __len__(self) -> int:
        return len(self.index)

    def __getstate__(self) -> dict:  # DataLoader workers reopen the file themselves
        return {**self.__dict__, "_fd": None, "_pid": -1}

    @property
    def labels(self) -> np.ndarray | None:
        labels = self.index["label"]
        return labels.astype(np.int64) if len(labels) and (labels >= 0).all() else None

    @property
    def sizes(self) -> np.ndarray:
        """(N, 2) stored height and width."""
        return np.stack([self.index["height"], self.index["width"]], 1).astype(np.int64)

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # after a fork, each process has its own handle
            self._fd, self._pid = os.open(self.path / "data.bin", os.O_RDONLY), os.getpid()
            if hasattr(os, "posix_fadvise"):  # training reads are random: readahead would fetch unused neighbours
                os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_RANDOM)
        return self._fd

    def keys(self) -> list[str]:
        """The source file of each image, in index order."""
        return (self.path / "keys.txt").read_text().splitlines()

    def read(self, i: int) -> np.ndarray:
        row = self.index[i]
        data = os.pread(self._file(), int(row["nbytes"]), int(row["offset"]))
        return decode.decode(data, self.format, int(row["height"]), int(row["width"]))

    def stats(self) -> dict:
        m = self.meta
        out = {"num_images": len(self), "image_size": self.max_side, "duplicates": int(m.get("duplicates", 0)),
               "skipped_files": int(m.get("unreadable", 0)), "cache": self.name, "cache_format": self.format}
        labels = self.labels
        if labels is not None:
            counts = np.bincount(labels, minlength=len(self.class_names) or 0).tolist()
            out.update(num_classes=len(counts), class_counts=counts)
        return out


# ---- building ------------------------------------------------------------------------------------------

@dataclass
class BuildResult:
    cache: DatasetCache
    built: bool  # False: an existing cache was used
    message: str


def find_caches(root: Path) -> list[DatasetCache]:
    """Every complete cache under root (building folders and stray files are not caches)."""
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.iterdir()):
        if p.is_dir() and ".building-" not in p.name and (p / "meta.json").exists():
            try:
                out.append(DatasetCache(p))
            except DataError:
                continue
    return out


def ensure_cache(source: str | Path, root: Path, max_side: int = DEFAULT_MAX_SIDE, fmt: str = "auto",
                 workers: int | None = None, progress: ProgressFn | None = None, log: LogFn | None = None,
                 max_pixels: int | None = None) -> BuildResult:
    """The cache of `source` at these settings: found (the source is only listed, never decoded) or built."""
    say = log or (lambda msg: None)
    fmt = resolve_format(fmt, max_side)
    s = scan(source)
    name = cache_name(s, max_side, fmt)
    final = root / name
    if (final / "meta.json").exists():
        return BuildResult(DatasetCache(final), False, f"using the dataset cache {name}")
    stale = [c for c in find_caches(root) if c.meta.get("source") == str(s.root)
             and c.meta.get("max_side") == max_side and c.meta.get("format") == fmt]
    try:
        (root / ".locks").mkdir(parents=True, exist_ok=True)
        lock = open(root / ".locks" / f"{name}.lock", "a+")  # noqa: SIM115 - held across the build
    except OSError as exc:
        raise DataError(f"cannot write the dataset cache under {root} ({exc.strerror})", field="data.cache_dir",
                        fix="set data.cache_dir (or SSLPILOT_HOME) to a writable folder") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            say(f"another process (pid {lock.read().strip() or '?'}) is building {name}; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (final / "meta.json").exists():  # the other process finished it while we waited
                return BuildResult(DatasetCache(final), False, f"using the dataset cache {name} (built by another "
                                   "process while this one waited)")
            lock.seek(0)
            lock.truncate()
            lock.write(str(os.getpid()))
            lock.flush()
            for leftover in root.glob(f"{name}.building-*"):  # we hold the lock: these are from killed builds
                shutil.rmtree(leftover, ignore_errors=True)
            if stale:
                say(f"{s.root} changed since the cache {stale[-1].name} was built; building a new cache (the old "
                    f"one stays until `sslpilot data rm {stale[-1].name}`)")
            t0 = time.perf_counter()
            _build(s, root, name, max_side, fmt, workers, progress, say, max_pixels)
            cache = DatasetCache(final)
            msg = (f"built the dataset cache {name}: {len(cache)} images in {time.perf_counter() - t0:.1f}s"
                   + (f", {cache.meta['unreadable']} unreadable (listed in {name}/unreadable.jsonl)"
                      if cache.meta["unreadable"] else ""))
            return BuildResult(cache, True, msg)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _payloads(s: Scan):
    """(item index, path or bytes) in the order the build writes them."""
    if s.kind == "tar_shards":
        yield from tar_image_bytes(s.root, s.items)
    elif s.kind == "hf_dataset":
        yield from hf_image_bytes(s.root)
    else:
        yield from ((i, item.path) for i, item in enumerate(s.items))


def _prepared(s: Scan, max_side: int, fmt: str, workers: int | None, max_pixels: int | None):
    """(item index, Prepared | reason) in payload order; parallel for real folders, with a bounded window so
    memory stays flat however many images there are."""
    n = len(s.items)
    workers = workers or max(1, min(16, (os.cpu_count() or 2)))
    if workers == 1 or n < 256:
        for i, payload in _payloads(s):
            yield i, decode.prepare(payload, max_side, fmt, max_pixels) if payload is not None else "empty record"
        return
    import multiprocessing

    chunk = 32
    # fork, as DataLoader workers do: the children only decode (Pillow, simplejpeg, numpy), and spawn would
    # re-run the caller's main module, which breaks any script without a __main__ guard
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        window: deque = deque()
        batch: list = []

        def submit(batch):
            window.append(([i for i, _ in batch], pool.submit(_prepare_chunk, [p for _, p in batch], max_side, fmt,
                                                              max_pixels)))

        for item in _payloads(s):
            batch.append(item)
            if len(batch) == chunk:
                submit(batch)
                batch = []
                while len(window) >= 4 * workers:
                    ids, fut = window.popleft()
                    yield from zip(ids, fut.result(), strict=True)
        if batch:
            submit(batch)
        while window:
            ids, fut = window.popleft()
            yield from zip(ids, fut.result(), strict=True)


def _prepare_chunk(payloads: list, max_side: int, fmt: str, max_pixels: int | None) -> list:
    return [decode.prepare(p, max_side, fmt, max_pixels) if p is not None else "empty record" for p in payloads]


def _build(s: Scan, root: Path, name: str, max_side: int, fmt: str, workers: int | None,
           progress: ProgressFn | None, say: LogFn, max_pixels: int | None) -> None:
    building = root / f"{name}.building-{os.getpid()}"
    building.mkdir(parents=True)
    n = len(s.items)
    rows = np.zeros(n, dtype=INDEX_DTYPE)
    ok = np.zeros(n, dtype=bool)
    unreadable: list[dict] = []
    sums, squares, pixels = np.zeros(3), np.zeros(3), 0
    offset, done, last_report = 0, 0, 0.0
    try:
        with open(building / "data.bin", "wb") as out:
            for i, result in _prepared(s, max_side, fmt, workers, max_pixels):
                done += 1
                if isinstance(result, str):
                    unreadable.append({"file": s.items[i].key, "reason": result})
                else:
                    out.write(result.data)
                    rows[i] = (offset, len(result.data), result.height, result.width, result.orig_height,
                               result.orig_width, s.items[i].label, result.digest)
                    ok[i] = True
                    offset += len(result.data)
                    sums += result.channel_sum
                    squares += result.channel_sq
                    pixels += result.height * result.width
                now = time.monotonic()
                if progress and (now - last_report > 0.5 or done == n):
                    progress(done, n)
                    last_report = now
            out.flush()
            os.fsync(out.fileno())
        kept = rows[ok]
        if len(kept) == 0:
            raise DataError(f"all {n} image files under {str(s.root)!r} are unreadable "
                            f"(first: {unreadable[0]['file']}: {unreadable[0]['reason']})", field="data.path",
                            fix="check the files open in an image viewer; re-export them as PNG or JPEG")
        np.save(building / "index.npy", kept)
        (building / "keys.txt").write_text("".join(s.items[i].key.replace("\n", " ") + "\n" for i in np.flatnonzero(ok)))
        with open(building / "unreadable.jsonl", "w") as f:
            f.writelines(json.dumps(u) + "\n" for u in unreadable)
        mean = sums / max(pixels, 1)
        std = np.sqrt(np.maximum(squares / max(pixels, 1) - mean ** 2, 1e-6))
        meta = {
            "version": CACHE_VERSION, "name": name, "source": str(s.root), "source_kind": s.kind,
            "fingerprint": s.fingerprint, "max_side": max_side, "format": fmt, "count": int(len(kept)),
            "labels": bool(len(kept) and (kept["label"] >= 0).all()), "class_names": s.class_names,
            "unreadable": len(unreadable), "unreadable_files": unreadable[:200], "ignored_files": s.ignored,
            "problems": s.problems[:50], "duplicates": int(len(kept) - len(np.unique(kept["digest"]))),
            "bytes": int(offset), "source_bytes": int(s.source_bytes), "mean": mean.tolist(), "std": std.tolist(),
            "created": time.time(),
        }
        (building / "meta.json").write_text(json.dumps(meta, indent=1))
        os.rename(building, root / name)  # the moment the cache exists, complete
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        if is_full_disk(exc):
            per_image = offset / max(1, done - len(unreadable))
            raise DataError(f"the disk filled while building the dataset cache after {done} of {n} images "
                            f"({offset / 1e9:.2f} GB written, about {per_image / 1e3:.0f} kB per image); nothing "
                            "was kept", field="data.cache_dir",
                            fix=f"free about {per_image * n / 1e9:.1f} GB under {root}, or point data.cache_dir at "
                                "a larger disk") from None
        raise DataError(f"cannot write the dataset cache under {root} ({exc.strerror or exc})",
                        field="data.cache_dir", fix="set data.cache_dir (or SSLPILOT_HOME) to a writable folder") from None
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def remove_cache(root: Path, name: str) -> dict:
    path = root / name
    if not (path / "meta.json").exists() or "/" in name or name.startswith("."):
        raise DataError(f"no dataset cache named {name!r} in {root}", field="name", fix="see `sslpilot data ls`")
    meta = json.loads((path / "meta.json").read_text())
    trash = root / f"{name}.building-rm{os.getpid()}"  # renamed first: a half-removed cache never looks whole
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return {"name": name, "removed": True, "bytes": meta.get("bytes", 0)}
