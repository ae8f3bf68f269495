"""Queue and registry: time from enqueue to the worker's first training step, registry write throughput
with 4 concurrent writers, and how 3 runs share 2 slots.

    python benchmarks/queue_bench.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, machine, table

TINY = {"method": "simclr", "data": {"name": "digits"}, "backbone": {"width": 0.25},
        "train": {"steps": 30, "batch_size": 64, "log_every": 1, "device": "cpu"},
        "method_args": {"proj_hidden_dim": 64, "proj_dim": 32}}

WRITER = r"""
import sys, time
from tools.home import Home
from tools.registry import Registry
from ssl_runtime.run_folder import RunFolder
home = Home.resolve(sys.argv[1]); w = sys.argv[2]; n = int(sys.argv[3])
reg = Registry(home)
folder = RunFolder(home.runs / f"w{w}").create()
folder.config.write_text("method: simclr\n")
reg.add_run(folder, {"method": "simclr"})
t = time.perf_counter()
for i in range(n):
    folder.log_metrics({"step": i + 1, "loss": float(i), "health/std": 0.1})
    folder.event("note", f"event {i}")
    reg.sync(folder.run_id)
print(time.perf_counter() - t)
"""


def first_step_latency(home_dir: Path) -> dict:
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue
    from tools.scheduler import Scheduler

    home = Home.resolve(home_dir)
    stop = threading.Event()
    sched = Scheduler(home, tick_s=0.2)
    t = threading.Thread(target=sched.serve, kwargs={"until": stop.is_set}, daemon=True)
    t.start()
    time.sleep(1.0)
    t0 = time.time()
    run = enqueue(home, TINY)
    metrics = Path(run.run_dir) / "metrics.jsonl"
    launched = first = None
    while first is None and time.time() - t0 < 120:
        r = Registry(home).get(run.id)
        if launched is None and r.pid:
            launched = time.time()
        if metrics.exists() and any('"loss"' in line for line in metrics.read_text().splitlines()):
            first = time.time()
        time.sleep(0.01)
    while Registry(home).get(run.id).status not in ("succeeded", "failed"):
        time.sleep(0.1)
    stop.set()
    t.join()
    events = [json.loads(x) for x in (Path(run.run_dir) / "events.jsonl").read_text().splitlines()]
    running = next(e["time"] for e in events if e.get("status") == "running" and "precision" in e)
    return {"to_launch": launched - t0, "to_training_start": running - t0, "to_first_logged_step": first - t0}


def concurrent_writes(home_dir: Path, n: int = 200) -> float:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(home_dir), str(w), str(n)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for w in range(4)]
    t0 = time.perf_counter()
    outs = [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = time.perf_counter() - t0
    return 4 * n / wall, max(outs)


def three_on_two(home_dir: Path) -> list[list]:
    from tools.gpus import Allocator
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue
    from tools.scheduler import Scheduler

    home = Home.resolve(home_dir)
    runs = [enqueue(home, {**TINY, "train": {**TINY["train"], "steps": 60}}) for _ in range(3)]
    stop = threading.Event()
    sched = Scheduler(home, tick_s=0.2, allocator=Allocator(gpus=[], cpu_slots=2))
    t0 = time.time()
    t = threading.Thread(target=sched.serve, kwargs={"until": stop.is_set}, daemon=True)
    t.start()
    reg = Registry(home)
    peak = 0
    while not all(reg.get(r.id).status == "succeeded" for r in runs):
        peak = max(peak, len(reg.list(status="running")))
        time.sleep(0.05)
    stop.set()
    t.join()
    rows = []
    for r in runs:
        r = reg.get(r.id)
        rows.append([f"run {r.id}", round(r.started_at - t0, 2), round(r.ended_at - t0, 2), r.status])
    rows.append(["peak concurrent", peak, "", ""])
    return rows


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="sslpilot-queue-"))
    lat = first_step_latency(root / "a")
    print(f"\n## Queue and registry ({machine()})\n")
    print(table(["from enqueue to", "seconds"], [[k.replace("_", " "), round(v, 2)] for k, v in lat.items()]))
    rate, slowest = concurrent_writes(root / "b")
    print()
    print(table(["registry writes, 4 processes x 200 (metrics + event + sync)", "value"],
                [["syncs per second, all writers", round(rate, 1)], ["slowest writer, s", round(slowest, 2)]]))
    print()
    print(table(["3 runs of 60 steps on 2 CPU slots", "started s", "ended s", "status"], three_on_two(root / "c")))


if __name__ == "__main__":
    main()
