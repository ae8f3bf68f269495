"""What a CUDA machine must show, in one short call: every method trains there, no host sync sits in the per-step
path, and how close a step comes to the hardware's limit.

Parts (each prints a table and adds to <out>/gpu_check.json, so a call cut short keeps what it finished):
  smoke       every catalogue method trains (bf16 autocast, channels_last, resident data) and is probed
  syncs       torch's sync debug mode over a run's steps: each Python line that synchronised, and how often
  big         ResNet-50 / ViT-S at 224 px: images/s, model TFLOP/s (torch's FLOP counter) and the share of peak
  compile     the same big run with train.compile (torch.compile of the backbone)
  throughput  benchmarks/train_throughput.py, the small per-method table against a plain loop
  health      the health metrics' share of training time

    python benchmarks/gpu_check.py [--parts smoke,syncs,big] [--out DIR] [--peak-tflops 790] [--compare JSON]
The peak defaults to the bf16 matrix rate measured on an H200 here (KINDS.md), not the datasheet's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from _common import LM, ROOT, docs_corpus, machine, make_run, table

PARTS = ("smoke", "syncs", "big", "health", "throughput", "compile")


def small_tree(method: str, work: Path, steps: int, device: str) -> dict:
    """A short run of `method` on bundled or generated data."""
    train = {"steps": steps, "batch_size": 128, "log_every": 10, "health_every": 10, "checkpoint_every": 10**6,
             "device": device, "health_samples": 256}
    if method in ("mlm", "clm"):
        docs = work / "docs" if (work / "docs").exists() else docs_corpus(work / "docs")
        return {"method": method, "data": {"path": str(docs), "val_fraction": 0.1}, "method_args": LM,
                "train": {**train, "batch_size": 32, "health_samples": 64}}
    if method == "clip":
        return {"method": "clip", "data": {"name": "shapes", "num_samples": 1000}, "method_args": {"embed_dim": 128},
                "train": train}
    return {"method": method, "data": {"name": "shapes", "num_samples": 1000},
            "augment": {"n_local_crops": 2} if method == "dino" else {}, "train": train}


def smoke(args, work: Path) -> list[dict]:
    from ssl_runtime.catalogue import METHODS
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.worker import run_worker

    rows = []
    for method in METHODS:
        t0 = time.perf_counter()
        run = make_run(small_tree(method, work, args.smoke_steps, args.device), f"smoke-{method}", work)
        try:
            s = run_worker(run, probe=True)
            metrics = RunFolder(run).read_metrics()
            finite = all(v == v and abs(v) != float("inf") for r in metrics for v in r.values()
                         if isinstance(v, float))
            probe = RunFolder(run).probe
            p = json.loads(probe.read_text()) if probe.exists() else {}
            acc = p.get("probe/acc", s["final"].get("val/perplexity"))
            rows.append({"method": method, "status": s["status"], "device": s["device"], "precision": s["precision"],
                         "loss": s["final"].get("loss"), "all_finite": finite, "samples_per_s": s["samples_per_s"],
                         "probe": acc, "seconds": round(time.perf_counter() - t0, 1)})
        except Exception as exc:  # noqa: BLE001 - one method's failure must not hide the others'
            rows.append({"method": method, "status": f"error: {type(exc).__name__}: {exc}"[:200],
                         "trace": traceback.format_exc()[-2000:]})
        print(json.dumps(rows[-1])[:300], flush=True)
    print(f"\n## Every method on {args.device}, {args.smoke_steps} steps, then its probe ({machine()})\n")
    keys = ["method", "status", "device", "precision", "loss", "all_finite", "samples_per_s", "probe", "seconds"]
    print(table(keys, [[r.get(k, "") for k in keys] for r in rows]))
    return rows


def syncs(args, work: Path) -> list[dict]:
    """Every synchronising CUDA call during training, by the innermost line of this repo that made it. A line met
    about once per step is a per-step sync; lines met at logging steps only are the intended ones."""
    import torch

    from ssl_runtime.trainer import train

    rows = []
    for method in args.sync_methods.split(","):
        tree = small_tree(method, work, args.sync_steps, args.device)
        tree["train"].update(log_every=args.sync_steps // 2, health_every=10**6)  # syncs at steps 1, n/2 and n
        run = make_run(tree, f"syncs-{method}", work)
        seen: dict[str, int] = {}

        def record(message, category, filename, lineno, file=None, line=None, seen=seen):
            if "synchroniz" not in str(message):
                return
            frames = [f for f in traceback.extract_stack()[:-1] if f.filename.startswith(str(ROOT))
                      and "benchmarks" not in f.filename]
            where = f"{Path(frames[-1].filename).relative_to(ROOT)}:{frames[-1].lineno}" if frames else filename
            seen[where] = seen.get(where, 0) + 1

        old = warnings.showwarning
        warnings.showwarning = record
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = record
                torch.cuda.set_sync_debug_mode("warn")
                s = train(run)
        finally:
            torch.cuda.set_sync_debug_mode("default")
            warnings.showwarning = old
        per_step = {k: v for k, v in seen.items() if v >= args.sync_steps - 3}
        rows.append({"method": method, "status": s["status"], "steps": args.sync_steps, "lines": len(seen),
                     "syncs": sum(seen.values()), "per_step_lines": per_step, "all": seen})
        print(json.dumps(rows[-1])[:1500], flush=True)
    print(f"\n## Host syncs over {args.sync_steps} steps (logging at 3 of them; {machine()})\n")
    print(table(["method", "status", "sync calls", "lines", "lines met at every step"],
                [[r["method"], r["status"], r["syncs"], r["lines"], ", ".join(r["per_step_lines"]) or "none"]
                 for r in rows]))
    return rows


BIG = {
    "simclr-resnet50": {"method": "simclr", "backbone": {"name": "resnet50"}},
    "dino-resnet50": {"method": "dino", "backbone": {"name": "resnet50"}, "augment": {"n_local_crops": 6}},
    "mae-vit_small": {"method": "mae", "backbone": {"name": "vit_small"}},
    "byol-resnet18": {"method": "byol", "backbone": {"name": "resnet18"}},
}


def big_tree(name: str, args, compile_: bool = False) -> dict:
    base = BIG[name]
    return {**base, "data": {"name": "shapes", "num_samples": args.big_images, "image_size": 224},
            "train": {"steps": args.big_steps, "batch_size": args.big_batch, "log_every": 10, "health_every": 10**6,
                      "checkpoint_every": 10**6, "device": args.device, "compile": compile_}}


def step_flops(tree: dict) -> float:
    """Model FLOPs of one training step (forward and backward), by torch's FLOP counter on a real batch."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ssl_runtime.configure import build_config
    from ssl_runtime.data.order import EpochOrder
    from ssl_runtime.device import autocast
    from ssl_runtime.trainer import prepare

    cfg = build_config({**tree, "train": {**tree["train"], "compile": False}})
    p = prepare(cfg)
    batches = p.batches(EpochOrder(p.n_train, p.batch_size, 0, p.index_device or p.device), 0)
    inputs = next(batches)
    with FlopCounterMode(display=False) as counter:
        with autocast(p.device, p.precision):
            out = p.method(inputs, 0)
        out["loss"].backward()
    batches.close()
    del p
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return float(counter.get_total_flops())


def big(args, work: Path, compile_: bool = False) -> list[dict]:
    import torch

    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.trainer import train

    rows = []
    for name in (args.compile_configs if compile_ else args.big).split(","):
        t0 = time.perf_counter()
        tree = big_tree(name, args, compile_)
        try:
            flops = step_flops(tree)
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            run = make_run(tree, f"big-{name}-{int(compile_)}", work)
            s = train(run)
            # steady state: the logged speed after the first logging interval (warm-up, cudnn autotune, compile)
            speeds = [r["samples_per_s"] for r in RunFolder(run).read_metrics() if "samples_per_s" in r][1:]
            steady = sorted(speeds)[len(speeds) // 2] if speeds else s["samples_per_s"]
            tflops = flops * steady / args.big_batch / 1e12
            rows.append({"config": name, "compile": compile_, "status": s["status"], "precision": s["precision"],
                         "img_per_s_run": s["samples_per_s"], "img_per_s_steady": round(steady, 1),
                         "step_gflop": round(flops / 1e9, 1), "tflops": round(tflops, 1),
                         "share_of_peak": round(tflops / args.peak_tflops, 3),
                         "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 1)
                         if torch.cuda.is_available() else None,
                         "phases": s.get("phases"), "seconds": round(time.perf_counter() - t0, 1)})
        except Exception as exc:  # noqa: BLE001
            rows.append({"config": name, "compile": compile_, "status": f"error: {type(exc).__name__}: {exc}"[:200],
                         "trace": traceback.format_exc()[-2000:]})
        print(json.dumps(rows[-1])[:600], flush=True)
    label = "torch.compile" if compile_ else "eager"
    print(f"\n## 224 px, batch {args.big_batch}, {args.big_steps} steps, {label} ({machine()}; "
          f"peak {args.peak_tflops:g} TFLOP/s)\n")
    keys = ["config", "status", "precision", "img_per_s_steady", "step_gflop", "tflops", "share_of_peak",
            "peak_mem_gb", "seconds"]
    print(table(keys, [[r.get(k, "") for k in keys] for r in rows]))
    return rows


def script(name: str, *extra: str, timeout: int = 300) -> dict:
    """Run another benchmark script as it is documented; keep its table."""
    t0 = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *extra], capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT)
        out = done.stdout[-6000:] + (f"\n[stderr]\n{done.stderr[-3000:]}" if done.returncode else "")
        rc = done.returncode
    except subprocess.TimeoutExpired as exc:
        out, rc = f"timed out after {timeout} s\n{(exc.stdout or b'')[-3000:]!r}", 124
    print(out, flush=True)
    return {"script": name, "args": list(extra), "rc": rc, "seconds": round(time.perf_counter() - t0, 1),
            "output": out}


def compare(results: dict, ref_path: Path) -> None:
    """Before/after against a stored reading (benchmarks/gpu_check_h200.json: the H200 of session 31, taken before
    the sync fixes): images/s of each big config and host syncs of each method, side by side with their ratio."""
    ref = json.loads(ref_path.read_text())
    print(f"\n## Against {ref_path.name} ({ref.get('machine')})\n")
    rows = []
    for part, key, value in (("big", "config", "img_per_s_steady"), ("compile", "config", "img_per_s_steady"),
                             ("syncs", "method", "syncs")):
        old = {r[key]: r.get(value) for r in ref.get(part, []) if isinstance(r, dict)}
        for r in results.get(part, []) if isinstance(results.get(part), list) else []:
            now, then = r.get(value), old.get(r[key])
            ratio = f"{now / then:.2f}x" if isinstance(now, (int, float)) and then else "-"
            rows.append([part, r[key], value, then if then is not None else "-", now, ratio])
    print(table(["part", "run", "measure", "reference", "now", "now / reference"], rows))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--out", default=os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu-check-"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--smoke-steps", type=int, default=30)
    ap.add_argument("--sync-steps", type=int, default=40)
    ap.add_argument("--sync-methods", default=None, help="comma-separated; default: every method")
    ap.add_argument("--big", default=",".join(BIG))
    ap.add_argument("--big-steps", type=int, default=60)
    ap.add_argument("--big-batch", type=int, default=256)
    ap.add_argument("--big-images", type=int, default=2048)
    ap.add_argument("--peak-tflops", type=float, default=790.0)
    ap.add_argument("--compile-configs", default="simclr-resnet50")
    ap.add_argument("--throughput-steps", type=int, default=10)  # the per-sample reference is slow on any machine
    ap.add_argument("--throughput-methods", default="simclr,mae")
    ap.add_argument("--health-steps", type=int, default=300)
    ap.add_argument("--compare", default=str(Path(__file__).with_name("gpu_check_h200.json")),
                    help="a stored gpu_check.json to print a before/after against ('' for none)")
    args = ap.parse_args()
    if args.sync_methods is None:
        from ssl_runtime.catalogue import METHODS

        args.sync_methods = ",".join(METHODS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gpu-check-runs-"))
    results: dict = {"machine": machine(), "args": vars(args)}
    jobs = {"smoke": lambda: smoke(args, work), "syncs": lambda: syncs(args, work), "big": lambda: big(args, work),
            "compile": lambda: big(args, work, compile_=True),
            "throughput": lambda: script("train_throughput.py", "--steps", str(args.throughput_steps), "--device",
                                         args.device, "--methods", args.throughput_methods),
            "health": lambda: script("health_overhead.py", "--steps", str(args.health_steps), "--device",
                                     args.device)}
    for part in args.parts.split(","):
        t0 = time.perf_counter()
        print(f"\n=== {part} ===", flush=True)
        try:
            results[part] = jobs[part]()
        except Exception:  # noqa: BLE001 - the parts after it still run
            results[part] = {"error": traceback.format_exc()[-3000:]}
            print(results[part]["error"], flush=True)
        results.setdefault("seconds", {})[part] = round(time.perf_counter() - t0, 1)
        (out / "gpu_check.json").write_text(json.dumps(results, indent=1, default=str))
    if args.compare and Path(args.compare).exists():
        compare(results, Path(args.compare))
    print(f"\nparts took {results['seconds']} s; results in {out / 'gpu_check.json'}")


if __name__ == "__main__":
    main()
