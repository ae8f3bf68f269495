"""Offline agent turn latency: p50/p95 for a diagnosis question and for a launch (pending + confirm).

    python benchmarks/agent_latency.py [--turns 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=20)
    args = ap.parse_args()
    from agent.session import Agent
    from ssl_runtime.worker import run_worker
    from tools.home import Home
    from tools.runs import enqueue

    home = Home.resolve(Path(tempfile.mkdtemp(prefix="sslpilot-agent-")))
    run = enqueue(home, {"method": "simclr", "data": {"name": "digits"}, "backbone": {"width": 0.25},
                         "train": {"steps": 20, "batch_size": 64, "device": "cpu", "log_every": 2, "health_every": 5},
                         "method_args": {"proj_hidden_dim": 64, "proj_dim": 32}})
    run_worker(run.run_dir)
    agent = Agent(home, on_launch=lambda rid: None)
    agent.chat(f"why did run {run.id} collapse?", "warm")  # model load, store open
    rows = []
    for label, turns in (("diagnosis question", [f"why did run {run.id} collapse?"]),
                         ("launch (pending)", ["pretrain byol on digits for 2 epochs"]),
                         ("launch confirm", None)):
        times = []
        for i in range(args.turns):
            thread = f"{label}-{i}"
            if turns is None:
                agent.chat("pretrain byol on digits for 2 epochs", thread)
                t = time.perf_counter()
                agent.chat("yes", thread)
            else:
                t = time.perf_counter()
                agent.chat(turns[0], thread)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        rows.append([label, args.turns, round(statistics.median(times), 1), round(times[int(0.95 * (len(times) - 1))], 1)])
    print(f"\n## Offline agent turn latency ({machine()})\n")
    print(table(["turn", "n", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
