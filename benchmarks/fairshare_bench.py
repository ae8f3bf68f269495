"""Costs of sharing a box: one dispatch pass in the fair order (tools/fairshare.py) as the queue and the history
grow, against one user's queue of the same length (no usage history read: the reference), and the costs of a
password check (argon2id) and of a session check (every page load of a signed-in browser).

Both GPUs are held by running runs, so every pass walks the queue and gives each waiting run its reason: the
first pass writes every reason, later passes write none (a reason is only written when it changes).

    python benchmarks/fairshare_bench.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine, table


def seeded_home(root: Path, queued: int, users: int, history: int):
    from sqlmodel import Session

    from tools.access import Actor, acting_as
    from tools.accounts import Accounts
    from tools.home import Home
    from tools.records import Run
    from tools.registry import Registry

    home = Home.resolve(root)
    reg = Registry(home)
    names = [f"user{i}" for i in range(users)]
    with acting_as(Actor("admin", "admin")):
        accounts = Accounts(home, reg)
        accounts.add("admin", "admin", "admin-password")
        for n in names:
            accounts.add(n, "member", f"{n}-password")
    cfg = json.dumps({"method": "simclr", "train": {"num_gpus": 1, "device": "auto"}})
    now = time.time()
    with Session(reg.engine) as s:
        for i in range(history):  # finished runs over the last two weeks
            start = now - (i % 336) * 3600
            s.add(Run(id=f"h{i}", method="simclr", owner=names[i % users], status="succeeded", config_json=cfg,
                      device="cuda:0", started_at=start, ended_at=start + 1800, created_at=start - 60))
        for g in range(2):  # both GPUs busy
            s.add(Run(id=f"r{g}", method="simclr", owner=names[g % users], status="running", config_json=cfg,
                      device=f"cuda:{g}", pid=10_000_000 + g, host="elsewhere", started_at=now - 600,
                      created_at=now - 700))
        for i in range(queued):
            s.add(Run(id=f"q{i}", method="simclr", owner=names[i % users], status="queued", config_json=cfg,
                      created_at=now + i * 1e-3))
        s.commit()
    return home, reg


def dispatch_times(queued: int, users: int, history: int, passes: int = 5) -> tuple[float, float]:
    from tools.backends.local import LocalBackend
    from tools.gpus import GPU, Allocator
    from tools.queue import Dispatcher

    class Elsewhere(LocalBackend):
        def alive(self, handle) -> bool:  # the running rows' workers are on another host: busy, never reaped
            return True

    with tempfile.TemporaryDirectory() as tmp:
        home, reg = seeded_home(Path(tmp) / "home", queued, users, history)
        d = Dispatcher(reg, Allocator(gpus=[GPU(0), GPU(1)], cpu_slots=1), local=Elsewhere())
        times = []
        for _ in range(passes):
            t0 = time.perf_counter()
            started = d.dispatch()
            times.append(time.perf_counter() - t0)
            assert started == []
        assert reg.get("q0").wait_reason  # every run got its reason
        return times[0], statistics.median(times[1:])


def login_costs(n: int = 10) -> tuple[float, float]:
    from tools.access import Actor, acting_as
    from tools.accounts import Accounts
    from tools.home import Home

    with tempfile.TemporaryDirectory() as tmp:
        accounts = Accounts(Home.resolve(Path(tmp) / "home"))
        with acting_as(Actor("admin", "admin")):
            accounts.add("admin", "admin", "admin-password")
        verify, check = [], []
        token = accounts.open_session("admin")
        for _ in range(n):
            t0 = time.perf_counter()
            accounts.verify("admin", "admin-password")
            verify.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            accounts.session_user(token)
            check.append(time.perf_counter() - t0)
        return statistics.median(verify), statistics.median(check)


def main() -> None:
    print(f"fair-share dispatch ({machine()})")
    rows = []
    for queued, history in ((50, 0), (50, 2000), (500, 2000)):
        ref_first, ref_steady = dispatch_times(queued, 1, history)
        for users in (3, 10):
            first, steady = dispatch_times(queued, users, history)
            rows.append([queued, history, users, f"{first * 1e3:.0f}", f"{steady * 1e3:.0f}",
                         f"{ref_steady * 1e3:.0f}", f"{steady / ref_steady:.2f}"])
    print(table(["queued", "history", "users", "first pass ms", "steady pass ms", "one user ms",
                 "ratio vs one user"], rows))
    verify, check = login_costs()
    print(table(["password check (argon2id) ms", "session check ms"], [[f"{verify * 1e3:.1f}", f"{check * 1e3:.2f}"]]))


if __name__ == "__main__":
    main()
