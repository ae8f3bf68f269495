"""The dataset cache and the image loader on real files: reuse, rebuilds, concurrency, kills, bad input,
resident vs streamed parity, the index stream across process counts, and exact resume when streaming."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from conftest import (
    ROOT,
    logged_losses,
    make_run_dir,
    sigkill_after_step,
    start_worker,
    subprocess_env,
    tiny_config,
)
from photos import make_photos
from PIL import Image

from ssl_runtime.config import DataConfig
from ssl_runtime.data import decode, open_store, split_ids
from ssl_runtime.data.cache import cache_name, ensure_cache, find_caches
from ssl_runtime.data.loader import CropSpec, StepBatches
from ssl_runtime.data.order import EpochOrder
from ssl_runtime.data.sources import scan
from ssl_runtime.data.store import CachedStore
from ssl_runtime.errors import DataError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trainer import train

ENSURE = """
import json, sys
from pathlib import Path
from ssl_runtime.data.cache import ensure_cache
r = ensure_cache(sys.argv[1], Path(sys.argv[2]), 64, workers=1, log=lambda m: print("LOG", m, flush=True))
print(json.dumps({"built": r.built, "name": r.cache.name}))
"""


def _ensure_proc(photos, root, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", ENSURE, str(photos), str(root)], env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return make_photos(tmp_path_factory.mktemp("photos"), 120)


def test_second_launch_does_not_decode_the_source(photos, tmp_path, monkeypatch):
    first = ensure_cache(photos, tmp_path, 64)
    assert first.built and len(first.cache) == 120 and first.cache.class_names == ["circle", "cross", "square",
                                                                                   "triangle"]

    def no_decoding(*a, **k):
        raise AssertionError("the source was decoded again")

    monkeypatch.setattr(decode, "prepare", no_decoding)
    monkeypatch.setattr(decode, "load_rgb", no_decoding)
    t0 = time.perf_counter()
    second = ensure_cache(photos, tmp_path, 64)
    assert not second.built and second.cache.name == first.cache.name
    assert time.perf_counter() - t0 < 5
    assert len(find_caches(tmp_path)) == 1


def test_cache_keeps_aspect_and_original_size(photos, tmp_path):
    cache = ensure_cache(photos, tmp_path, 64).cache
    keys = cache.keys()
    for i in (0, 57, 119):
        with Image.open(photos / keys[i]) as img:
            w, h = img.size
        row = cache.index[i]
        assert (row["orig_width"], row["orig_height"]) == (w, h)
        assert max(row["height"], row["width"]) == min(64, max(w, h))  # shrunk to the max side, never enlarged
        assert abs(row["width"] / row["height"] - w / h) < 0.05  # aspect ratio kept
        assert cache.read(i).shape == (row["height"], row["width"], 3)
    assert cache.format == "raw"  # 64 px and under: raw
    assert ensure_cache(photos, tmp_path, 128).cache.format == "jpeg"


def test_a_changed_folder_gets_a_new_cache(photos, tmp_path):
    work = tmp_path / "photos"
    work.mkdir()
    for cls in ("circle", "square"):
        (work / cls).mkdir()
        for p in sorted((photos / cls).iterdir())[:10]:
            (work / cls / p.name).write_bytes(p.read_bytes())
    old = ensure_cache(work, tmp_path / "cache", 64).cache
    Image.new("RGB", (50, 40), (9, 9, 9)).save(work / "circle" / "new.jpg")
    said = []
    new = ensure_cache(work, tmp_path / "cache", 64, log=said.append)
    assert new.built and new.cache.name != old.name and len(new.cache) == len(old) + 1
    assert any("changed since the cache" in m and old.name in m for m in said)
    assert (tmp_path / "cache" / old.name / "meta.json").exists()  # the old one stays until removed


def test_two_launches_build_once(photos, tmp_path):
    root = tmp_path / "cache"
    name = cache_name(scan(photos), 64, "raw")
    (root / ".locks").mkdir(parents=True)
    with open(root / ".locks" / f"{name}.lock", "a+") as held:  # both launch while "someone" holds the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        procs = [_ensure_proc(photos, root) for _ in range(2)]
        first_lines = [p.stdout.readline() for p in procs]  # each says it waits before blocking
        fcntl.flock(held, fcntl.LOCK_UN)
    assert all("is building" in line for line in first_lines), first_lines
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-1500:] for o in outs]
    results = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert sorted(r["built"] for r in results) == [False, True]  # one built, the other waited and read it
    assert results[0]["name"] == results[1]["name"] == name
    assert [c.name for c in find_caches(root)] == [name]


def test_a_killed_build_never_looks_complete(tmp_path):
    many = make_photos(tmp_path / "many", 1500, sizes=(80, 120))
    root = tmp_path / "cache"
    proc = _ensure_proc(many, root)
    deadline = time.time() + 120
    while time.time() < deadline:
        partial = list(root.glob("*.building-*/data.bin"))
        if partial and partial[0].stat().st_size > 0:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert find_caches(root) == []  # no complete-looking cache
    assert list(root.glob("*.building-*"))  # only the leftover of the killed build
    again = ensure_cache(many, root, 64)
    assert again.built and len(again.cache) == 1500
    assert not list(root.glob("*.building-*"))  # the leftover was cleared


def _bad_folder(root):
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(root / f"good{i}.jpg")
    good = (root / "good0.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("this is text, not a JPEG")
    (root / "readme.txt").write_text("not an image, and not named like one")
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(root / "cmyk.jpg")  # pure red in CMYK
    sixteen = np.zeros((20, 30), dtype=np.uint16)
    sixteen[:, :15] = 65535
    Image.fromarray(sixteen).save(root / "sixteen.png")
    pal = Image.new("P", (30, 20), 0)
    pal.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    pal.paste(1, (15, 0, 30, 20))
    pal.save(root / "palette.png", transparency=0)  # left half transparent, right half green
    rgba = np.zeros((20, 30, 4), dtype=np.uint8)
    rgba[:, 15:] = (10, 10, 200, 255)
    Image.fromarray(rgba).save(root / "alpha.png")
    rotated = Image.fromarray(np.zeros((20, 40, 3), dtype=np.uint8))  # 40 wide, 20 high, shown rotated
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(root / "rotated.jpg", exif=exif)
    Image.new("RGB", (100, 100), (1, 2, 3)).save(root / "bomb.png")  # past the 5,000-pixel limit of the test
    os.symlink(root, root / "loop")  # a folder that contains itself


def test_bad_inputs_are_listed_and_the_rest_is_cached(tmp_path):
    folder = tmp_path / "bad"
    _bad_folder(folder)
    cache = ensure_cache(folder, tmp_path / "cache", 64, max_pixels=5000).cache
    reasons = {u["file"]: u["reason"] for u in cache.meta["unreadable_files"]}
    assert set(reasons) == {"truncated.jpg", "empty.jpg", "notes.jpg", "bomb.png"}, reasons
    assert "truncated" in reasons["truncated.jpg"] and "decompression-bomb" in reasons["bomb.png"]
    assert "not an image" in reasons["empty.jpg"] and "not an image" in reasons["notes.jpg"]
    assert cache.meta["unreadable"] == 4 and cache.meta["ignored_files"] == 1
    assert any("symlink loop" in p for p in cache.meta["problems"])
    images = dict(zip(cache.keys(), (cache.read(i) for i in range(len(cache))), strict=True))
    assert len(images) == 9  # 4 good + CMYK, 16-bit, palette, alpha, rotated (the loop adds nothing twice)
    assert np.abs(images["cmyk.jpg"].astype(int) - (255, 0, 0)).max() < 40
    assert images["sixteen.png"][0, 0].tolist() == [255, 255, 255] and images["sixteen.png"][0, -1].tolist() == [0, 0, 0]
    assert images["palette.png"][0, 0].tolist() == [255, 255, 255]  # transparent -> white
    assert images["palette.png"][0, -1].tolist() == [10, 200, 10]
    assert images["alpha.png"][0, 0].tolist() == [255, 255, 255] and images["alpha.png"][0, -1].tolist() == [10, 10, 200]
    i = cache.keys().index("rotated.jpg")
    assert images["rotated.jpg"].shape[:2] == (40, 20)  # EXIF orientation applied
    assert (cache.index[i]["orig_height"], cache.index[i]["orig_width"]) == (40, 20)


def test_a_folder_with_one_image_is_a_clear_error(tmp_path):
    (tmp_path / "one").mkdir()
    Image.new("RGB", (30, 30), (5, 5, 5)).save(tmp_path / "one" / "a.png")
    cfg = DataConfig(path=str(tmp_path / "one"), cache_dir=str(tmp_path / "cache"))
    store = open_store(cfg, 32)
    with pytest.raises(DataError, match=r"only 1 usable image\b"):
        split_ids(store, cfg, 0)


def test_all_unreadable_is_a_clear_error_and_leaves_nothing(tmp_path):
    (tmp_path / "junk").mkdir()
    for i in range(3):
        (tmp_path / "junk" / f"{i}.jpg").write_bytes(b"\x00garbage")
    with pytest.raises(DataError, match="data.path: all 3 image files .* are unreadable"):
        ensure_cache(tmp_path / "junk", tmp_path / "cache", 64)
    assert find_caches(tmp_path / "cache") == [] and not list((tmp_path / "cache").glob("*.building-*"))


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
from ssl_runtime.data.cache import ensure_cache
from ssl_runtime.errors import DataError
from ssl_runtime.run_folder import RunFolder
try:
    ensure_cache(sys.argv[1], Path(sys.argv[2]), 64, workers=1)
except DataError as exc:
    print(exc)
"""


def test_a_full_disk_during_a_build_keeps_nothing_half_written(photos, tmp_path):
    ensure_cache(photos, tmp_path / "cache", 32)  # an earlier cache must survive
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(photos), str(tmp_path / "cache")], env=subprocess_env(),
                         capture_output=True, text=True, timeout=120)
    assert "data.cache_dir: the disk filled while building the dataset cache" in out.stdout, out.stderr[-1500:]
    assert "Fix: free about" in out.stdout
    caches = find_caches(tmp_path / "cache")
    assert [c.max_side for c in caches] == [32] and len(caches[0]) == 120
    assert not list((tmp_path / "cache").glob("*.building-*"))


READ_ONLY = """
import sys
from pathlib import Path
from ssl_runtime.data.cache import ensure_cache
from ssl_runtime.errors import DataError
from ssl_runtime.run_folder import RunFolder
try:
    r = ensure_cache(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), workers=1)
    print("OK", len(r.cache), r.built)
except DataError as exc:
    print(exc)
"""


MOUNT_RO = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 77; shift; exec "$@"'


def _in_read_only(folder, *cmd) -> subprocess.CompletedProcess:
    """Run cmd with `folder` mounted read-only in a private mount namespace (nothing changes outside it)."""
    out = subprocess.run(["unshare", "-m", "sh", "-c", MOUNT_RO, "sh", str(folder), *cmd], env=subprocess_env(),
                         capture_output=True, text=True, timeout=120)
    if out.returncode == 77 or "unshare failed" in out.stderr:
        pytest.skip(f"cannot mount read-only here (needs root and mount namespaces): {out.stderr.strip()[-200:]}")
    return out


@pytest.mark.skipif(not shutil.which("unshare"), reason="util-linux unshare is missing")
def test_a_read_only_home_reads_its_caches_and_refuses_new_ones(photos, tmp_path):
    ensure_cache(photos, tmp_path / "cache", 64)

    def build(side: int) -> str:
        out = _in_read_only(tmp_path / "cache", sys.executable, "-c", READ_ONLY, str(photos), str(tmp_path / "cache"),
                            str(side))
        return out.stdout + out.stderr[-800:]

    assert build(64).startswith("OK 120 False")  # the existing cache reads fine
    said = build(96)
    assert "data.cache_dir: cannot write the dataset cache" in said and "Fix:" in said, said
    assert [c.max_side for c in find_caches(tmp_path / "cache")] == [64]


@pytest.mark.parametrize("host_crops", [False, True], ids=["canvases for a GPU", "crops cut for a CPU"])
def test_resident_and_streamed_batches_are_identical(photos, tmp_path, host_crops):
    cache = ensure_cache(photos, tmp_path, 64).cache
    streamed = CachedStore(cache)
    resident = streamed.resident()
    crops = [CropSpec(32, (0.08, 1.0), flip_p=0.5), CropSpec(16, (0.05, 0.4)), CropSpec(32, (1.0, 1.0), identical=True)]
    train_ids = torch.arange(20, 120)
    make = {id(s): StepBatches(s, train_ids, EpochOrder(100, 25, seed=7), crops, 7, host_crops)
            for s in (streamed, resident)}
    for step in (0, 3, 4, 9):  # crosses an epoch boundary (4 steps per epoch)
        a, b = make[id(streamed)](step), make[id(resident)](step)
        assert torch.equal(a["ids"], b["ids"])
        tensors = ["views"] if host_crops else ["canvas", "corners"]
        for key in tensors:
            x, y = (a[key], b[key]) if isinstance(a[key], list) else ([a[key]], [b[key]])
            assert all(torch.equal(p, q) for p, q in zip(x, y, strict=True)), key
        if host_crops:
            assert [v.shape[-1] for v in a["views"]] == [32, 16, 32] and a["views"][0].dtype == torch.uint8


def test_host_crops_flip_where_drawn(photos, tmp_path):
    store = CachedStore(ensure_cache(photos, tmp_path, 64).cache)
    order = EpochOrder(100, 25, seed=7)
    plain, flipped = (StepBatches(store, torch.arange(100), order, [CropSpec(32, (1.0, 1.0), identical=True,
                                                                             flip_p=p)], 7, True)(0)
                      for p in (0.0, 1.0))
    assert torch.equal(flipped["views"][0], plain["views"][0].flip(-1))


def _engine_config(photos, tmp_path, **overrides):
    return tiny_config("simclr", **{"data.name": None, "data.path": str(photos), "data.image_size": 24,
                                    "data.cache_dir": str(tmp_path / "cache"), "data.workers": 1,
                                    "train.batch_size": 32, **overrides})


def test_steps_streamed_while_the_resident_copy_fills_equal_a_resident_and_a_streamed_run(photos, tmp_path,
                                                                                         monkeypatch):
    """The first steps of a resident run read the cache while a background thread fills the copy; the copy is
    held back here until step 2 is done, so both paths serve steps. Losses: equal, bit for bit."""
    from ssl_runtime.data.store import ResidentFill
    from ssl_runtime.tasks import vision

    fills, gate = [], threading.Event()
    run_fill = ResidentFill.run

    def gated_run(self):
        fills.append(self)
        gate.wait(120)
        run_fill(self)

    def hold_until_filled(row):
        if row["step"] >= 2 and not gate.is_set():
            gate.set()
            assert fills and fills[0].done.wait(120)  # the training thread waits here: the switch is certain

    monkeypatch.setattr(ResidentFill, "run", gated_run)
    common = {"train.log_every": 1}
    runs = {"stream": make_run_dir(tmp_path, _engine_config(photos, tmp_path, **{"data.loader": "stream"}, **common),
                                   "stream")}
    train(runs["stream"])
    runs["filling"] = make_run_dir(tmp_path, _engine_config(photos, tmp_path, **{"data.loader": "resident"}, **common),
                                   "filling")
    filling = train(runs["filling"], progress=hold_until_filled)
    switched = filling["data"]["resident_from_step"]
    assert 3 <= switched <= 12, switched  # steps 1..switched-1 streamed, the rest read the copy
    events = [e["message"] for e in RunFolder(runs["filling"]).read_events()]
    assert any("filled in the background" in m for m in events) and any("resident copy filled" in m for m in events)

    def decoded_before_step_one(self, store):  # the path before this change: decode everything, then train
        return store.resident(), False

    monkeypatch.setattr(vision.VisionTask, "_place", decoded_before_step_one)
    runs["resident"] = make_run_dir(tmp_path, _engine_config(photos, tmp_path, **common), "resident")
    assert "resident_from_step" not in train(runs["resident"])["data"]
    losses = {k: logged_losses(v) for k, v in runs.items()}
    assert len(losses["stream"]) == 12 and losses["stream"] == losses["filling"] == losses["resident"]


def test_a_cpu_run_streams_by_default_and_says_why(photos, tmp_path):
    run = make_run_dir(tmp_path, _engine_config(photos, tmp_path, **{"train.steps": 1}))
    summary = train(run)
    assert summary["data"]["loader"] == "stream"
    said = [e["message"] for e in RunFolder(run).read_events() if e.get("kind") == "data"]
    assert any("data streamed" in m and "on a CPU" in m for m in said), said
    assert {"process_start_s", "data_open_s", "prepare_s", "data_ready_s", "first_step_s", "training_s"} <= set(
        summary["phases"])


def test_a_run_that_ends_before_the_copy_is_needed_leaves_no_filling_thread(photos, tmp_path, monkeypatch):
    from ssl_runtime.data.store import ResidentFill

    run_fill = ResidentFill.run

    def slow_run(self):  # still filling when the one step is done, unless asked to stop
        self._stop.wait(60)
        run_fill(self)

    monkeypatch.setattr(ResidentFill, "run", slow_run)
    run = make_run_dir(tmp_path, _engine_config(photos, tmp_path, **{"train.steps": 1, "data.loader": "resident"}))
    assert train(run)["status"] == "succeeded"
    assert not [t for t in threading.enumerate() if t.name == "resident-fill"]


def test_one_and_two_processes_see_the_same_global_index_stream(photos, tmp_path):
    cache = ensure_cache(photos, tmp_path, 32).cache
    streams = {}
    for n in (1, 2):
        out = tmp_path / f"stream{n}.json"
        cmd = [sys.executable, str(ROOT / "tests" / "index_stream.py"), str(cache.path), str(out), "9"]
        if n == 2:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *cmd[1:]]
        r = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        streams[n] = json.loads(out.read_text())
    assert streams[1] == streams[2]  # ids, crop boxes and pixels, step by step
    ids = [i for s in streams[1] for i in s["ids"]]
    assert len(ids) == 9 * 16 and min(ids) >= 8  # 7 steps make an epoch of 112: every id once per epoch
    assert sorted(ids[:112]) == list(range(8, 120))


def test_sigkill_then_resume_on_the_streaming_path_equals_an_uninterrupted_run(photos, tmp_path):
    common = {"data.loader": "stream", "train.steps": 40, "train.log_every": 1, "train.checkpoint_every": 10,
              "train.health_every": 20}
    ref = make_run_dir(tmp_path, _engine_config(photos, tmp_path, **common), "ref")
    assert start_worker(ref).wait(timeout=300) == 0
    killed = make_run_dir(tmp_path, _engine_config(photos, tmp_path, **common), "killed")
    assert sigkill_after_step(start_worker(killed), killed, 22) >= 22
    resumed = start_worker(killed, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    want, got = logged_losses(ref), logged_losses(killed)
    assert sorted(got) == list(range(1, 41))
    for step in range(1, 41):
        assert got[step] == pytest.approx(want[step], rel=1e-5, abs=1e-6), step


def test_datasets_folders_tar_shards_and_path_lists(tmp_path):
    import tarfile

    import datasets

    rng = np.random.default_rng(1)
    imgs = [rng.integers(0, 255, (20 + i, 30, 3), dtype=np.uint8) for i in range(12)]
    feats = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["a", "b", "c"])})
    datasets.Dataset.from_dict({"image": [Image.fromarray(a) for a in imgs], "label": [i % 3 for i in range(12)]},
                               features=feats).save_to_disk(str(tmp_path / "hf"))
    (tmp_path / "shards").mkdir()
    files = tmp_path / "files"
    files.mkdir()
    for shard in range(2):
        with tarfile.open(tmp_path / "shards" / f"train-{shard}.tar", "w") as tar:
            for i in range(shard * 6, shard * 6 + 6):
                Image.fromarray(imgs[i]).save(files / f"{i:03d}.png")
                tar.add(files / f"{i:03d}.png", arcname=f"{i:03d}.png")
                (files / f"{i:03d}.cls").write_text(str(i % 3))
                tar.add(files / f"{i:03d}.cls", arcname=f"{i:03d}.cls")
    (tmp_path / "list.csv").write_text("path,label\n" + "".join(f"files/{i:03d}.png,{'xyz'[i % 3]}\n" for i in range(12)))
    for source in ("hf", "shards", "list.csv"):
        cache = ensure_cache(tmp_path / source, tmp_path / "cache", 64).cache
        assert len(cache) == 12, source
        assert cache.labels.tolist() == [i % 3 for i in range(12)], source
        first = cache.keys().index({"hf": "#0", "shards": "train-0.tar/000.png", "list.csv": "files/000.png"}[source])
        assert np.array_equal(cache.read(first), imgs[0]), source  # raw at 64 px: exact pixels

