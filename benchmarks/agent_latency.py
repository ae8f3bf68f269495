"""Chat and CLI latency: cold command-line turns (a fresh process each) and warm in-process turns.

    python benchmarks/agent_latency.py [--turns 20] [--repo PATH]

--repo runs the cold CLI part from another checkout (e.g. a `git worktree` of an older commit), in its own
home, for a before/after table on the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, table

RUN = {"method": "simclr", "data": {"name": "digits"}, "backbone": {"width": 0.25},
       "train": {"steps": 20, "batch_size": 64, "device": "cpu", "log_every": 2, "health_every": 4},
       "method_args": {"proj_hidden_dim": 64, "proj_dim": 32}}


def seeded_home(repo: Path) -> Path:
    """A home with one finished run, made by the checkout at `repo` (its own schema)."""
    home = Path(tempfile.mkdtemp(prefix="sslpilot-latency-"))
    code = (f"from tools.home import Home; from tools.runs import enqueue; from ssl_runtime.worker import run_worker; "
            f"r = enqueue(Home.resolve({str(home)!r}), {RUN!r}); run_worker(r.run_dir)")
    subprocess.run([sys.executable, "-c", code], cwd=repo, env=_env(repo, home), check=True, capture_output=True)
    return home


def _env(repo: Path, home: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(repo), "SSLPILOT_HOME": str(home), "SSLPILOT_AUTOSTART": "0",
            "SSLPILOT_CACHE": str(home / "user-cache")}  # a fresh user cache: the first turn pays the ONNX export


def cold(repo: Path, home: Path, args: list[str], n: int) -> list[float]:
    """Seconds for `sslpilot ARGS` in a fresh process, n times (the first may also fill caches: reported apart)."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=repo, env=_env(repo, home), check=True,
                       capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def cold_table(repo: Path, n: int) -> list[list]:
    home = seeded_home(repo)
    rows = []
    for label, args in (("sslpilot --help", ["--help"]), ("sslpilot runs --json", ["runs", "--json"]),
                        ("sslpilot show 1 --json", ["show", "1", "--json"]), ("sslpilot tag 1 kept", ["tag", "1", "kept"]),
                        ("sslpilot pretrain simclr --data digits --no-wait (queued)",
                         ["pretrain", "simclr", "--data", "digits", "--steps", "5", "--no-wait"]),
                        ("sslpilot chat: why did run 1 collapse? --json",
                         ["chat", "--message", "why did run 1 collapse?", "--json"])):
        times = cold(repo, home, args, n + 1)
        rows.append([label, round(times[0], 2), round(statistics.median(times[1:]), 2), round(max(times[1:]), 2)])
    return rows


def warm_table(turns: int) -> list[list]:
    from agent.session import Agent
    from ssl_runtime.worker import run_worker
    from tools.home import Home
    from tools.runs import enqueue

    home = Home.resolve(Path(tempfile.mkdtemp(prefix="sslpilot-agent-")))
    run = enqueue(home, RUN)
    run_worker(run.run_dir)
    agent = Agent(home, on_launch=lambda rid: None)
    agent.chat(f"why did run {run.id} collapse?", "warm")  # model load, store open
    rows, every = [], []
    for label, message in (("diagnosis question", f"why did run {run.id} collapse?"),
                           ("bare number", f"is {run.id} healthy?"), ("list runs", "what are my runs"),
                           ("recommendation (reads the forecast)", f"what should I try next for run {run.id}?"),
                           ("literature search", "what teacher temperature does DINO use?"),
                           ("launch (pending)", "byol on shapes, 300 steps, lr 0.01"),
                           ("question back", "what should I try next for 99?"), ("launch confirm", None)):
        times = []
        for i in range(turns):
            thread = f"{label}-{i}"
            if message is None:
                agent.chat("pretrain byol on digits for 2 epochs", thread)
                t = time.perf_counter()
                agent.chat("yes", thread)
            else:
                t = time.perf_counter()
                agent.chat(message, thread)
            times.append((time.perf_counter() - t) * 1000)
        every += times
        times.sort()
        rows.append([label, turns, round(statistics.median(times), 1), round(times[int(0.95 * (len(times) - 1))], 1)])
    every.sort()
    rows.append(["all turns", len(every), round(statistics.median(every), 1), round(every[int(0.95 * (len(every) - 1))], 1)])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--cold", type=int, default=3, help="cold repetitions after the first")
    ap.add_argument("--repo", default=str(ROOT), help="checkout to time the cold CLI from")
    ap.add_argument("--skip-warm", action="store_true")
    args = ap.parse_args()
    repo = Path(args.repo).resolve()
    print(f"\n## Cold command-line turns, fresh process each ({repo.name}; {machine()})\n")
    print(table(["command", "first s (fills caches)", "median s", "max s"], cold_table(repo, args.cold)))
    if not args.skip_warm:
        print(f"\n## Warm in-process chat turns ({machine()})\n")
        print(table(["turn", "n", "p50 ms", "p95 ms"], warm_table(args.turns)))


if __name__ == "__main__":
    main()
