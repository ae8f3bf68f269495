"""The fair order and per-user limits: three users on two declared GPUs, through the real dispatcher and
registry. The workers are `sleep` processes (the order is under test, not training); a run "finishes" when
its folder says so and its process ends, as a worker's would."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools import runs
from tools.access import Actor, acting_as
from tools.accounts import Accounts
from tools.backends import Handle
from tools.backends.local import LocalBackend
from tools.fairshare import FairQueue, reason_for, recent_usage
from tools.gpus import GPU, Allocator
from tools.home import Home
from tools.queue import Dispatcher
from tools.records import Run
from tools.registry import Registry

ONE_GPU = {"method": "simclr", "data": {"name": "digits"}, "train": {"steps": 5, "num_gpus": 1}}


class SleepingWorkers(LocalBackend):
    """Starts `sleep` instead of a worker, and remembers the order it was asked to start runs in."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[str] = []

    def submit(self, run_dir, run_id, *args, devices=None, **kwargs) -> Handle:
        proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
        self.procs[str(proc.pid)] = proc
        self.started.append(run_id)
        return Handle(self.name, "local", str(proc.pid), 1, 1, len(devices or []), {"run_dir": str(run_dir)})

    def finish(self, registry: Registry, run_id: str) -> None:
        run = registry.get(run_id)
        RunFolder(run.run_dir).set_status("succeeded", "done")
        proc = self.procs[str(run.pid)]
        proc.kill()
        proc.wait()


@pytest.fixture
def shared(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    accounts = Accounts(home)
    with acting_as(Actor("root", "admin")):
        accounts.add("root", "admin", "root-password")
        for name in ("alice", "bob", "carol"):
            accounts.add(name, "member", f"{name}-password")
    workers = SleepingWorkers()
    registry = Registry(home)
    dispatcher = Dispatcher(registry, Allocator(gpus=[GPU(0), GPU(1)], cpu_slots=1), local=workers)
    yield home, registry, dispatcher, workers
    for proc in workers.procs.values():
        proc.kill()


def queue(home, user: str, n: int = 1) -> list[str]:
    with acting_as(Actor(user, "member")):
        return [runs.enqueue(home, ONE_GPU).id for _ in range(n)]


def test_three_users_share_two_gpus_in_the_fair_order(shared):
    home, registry, dispatcher, workers = shared
    # carol used both GPUs for 5 hours, ending an hour ago: her recent usage is far above the others'
    (old,) = queue(home, "carol")
    registry.update(old, status="succeeded", device="cuda:0,1", started_at=time.time() - 6 * 3600,
                    ended_at=time.time() - 3600)
    a1, a2, a3 = queue(home, "alice", 3)
    (b1,) = queue(home, "bob")
    c1, c2 = queue(home, "carol", 2)

    dispatcher.tick()
    assert workers.started == [a1, b1]  # alice (first come) and bob: one GPU each, not alice's three
    assert registry.get(c1).wait_reason == "waiting for 1 free GPU"
    assert registry.get(a2).wait_reason == f"waiting: run {c1} goes first (fair order)"

    workers.finish(registry, a1)
    dispatcher.tick()
    # alice and carol both hold nothing now; carol's 10 recent GPU-hours put alice first
    assert workers.started == [a1, b1, a2]
    workers.finish(registry, b1)
    dispatcher.tick()
    assert workers.started == [a1, b1, a2, c1]  # bob has nothing waiting; carol holds less than alice

    with acting_as(Actor("root", "admin")):
        Accounts(home).set_limits("alice", max_gpus=1)
    workers.finish(registry, c1)
    dispatcher.tick()
    # alice is at her 1-GPU limit: her run waits and says why, and does not hold up carol's
    assert workers.started == [a1, b1, a2, c1, c2]
    a3_row = registry.get(a3)
    assert a3_row.status == "queued" and a3_row.wait_reason == "waiting: you already use 1 of your 1 GPU"
    assert reason_for(a3_row, "alice") == "waiting: you already use 1 of your 1 GPU"
    assert reason_for(a3_row, "bob") == "waiting: alice already uses 1 of their 1 GPU"
    assert registry.get(c2).wait_reason is None  # started: no reason left

    workers.finish(registry, a2)
    dispatcher.tick()
    assert workers.started[-1] == a3 and registry.get(a3).wait_reason is None


def test_one_users_queue_is_priority_then_first_come(shared):
    home, registry, dispatcher, workers = shared
    with acting_as(Actor("alice", "member")):
        low = runs.enqueue(home, ONE_GPU).id
        high = runs.enqueue(home, ONE_GPU, priority=5).id
        later = runs.enqueue(home, ONE_GPU).id
    dispatcher.tick()
    assert workers.started == [high, low] and registry.get(later).wait_reason == "waiting for 1 free GPU"


def test_limits_are_checked_when_a_run_is_queued(shared):
    home, registry, _, _ = shared
    with acting_as(Actor("root", "admin")):
        Accounts(home).set_limits("bob", max_gpus=1, max_queued=2)
    queue(home, "bob", 2)
    with pytest.raises(SSLPilotError, match="bob already has 2 run\\(s\\) waiting, the limit of 2"):
        queue(home, "bob")
    with acting_as(Actor("root", "admin")), pytest.raises(SSLPilotError, match="gpus: --gpus -1 is negative"):
        Accounts(home).set_limits("carol", max_gpus=-1)
    with acting_as(Actor("bob", "member")), pytest.raises(SSLPilotError, match="managing users needs the admin"):
        Accounts(home).set_limits("bob", max_queued=50)
    assert len(registry.queued()) == 2 and Accounts(home).get("carol").max_gpus is None  # nothing else stored


def test_recent_usage_decays_with_its_half_life():
    now = 1_000_000.0
    hour = 3600.0

    def run(owner, device, start_h_ago, end_h_ago):  # a row of Registry.device_use
        return owner, device, now - start_h_ago * hour, now - end_h_ago * hour

    usage = recent_usage([run("a", "cuda:0", 1, 0), run("b", "cuda:0,1", 1, 0), run("c", "cuda:0", 169, 168)],
                         at=now, half_life_h=168)
    assert usage["a"] == pytest.approx(1.0, rel=0.01)  # one GPU-hour just now
    assert usage["b"] == pytest.approx(2.0, rel=0.01)  # two GPUs
    assert usage["c"] == pytest.approx(0.5, rel=0.01)  # a week ago: half


def test_an_earlier_spell_on_a_cpu_slot_counts_one_device_like_the_row_does():
    now, hour = 1_000_000.0, 3600.0
    row = ("a", "cpu", now - hour, now, json.dumps([[now - 3 * hour, now - 2 * hour, 0]]))
    assert recent_usage([row], at=now, half_life_h=10**6)["a"] == pytest.approx(2.0, rel=1e-3)


def test_a_resumed_runs_earlier_spells_still_count_in_the_fair_order(tmp_path):
    """1 h on one GPU, interrupted, then resumed for 1 h on two: 3 device-hours, though the resume reset the row's
    started_at (the row alone says 2)."""
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    run = runs.enqueue(home, ONE_GPU)
    folder, hour, t0 = RunFolder(run.run_dir), 3600.0, time.time() - 10 * 3600.0
    for t, status, device in ((t0, "running", "cuda:0"), (t0 + hour, "interrupted", None),
                              (t0 + 5 * hour, "running", "cuda:0,1"), (t0 + 6 * hour, "succeeded", None)):
        folder.append(folder.events, {"time": t, "type": "status", "status": status,
                                      **({"device": device} if device else {})})
    reg.sync(run.id)
    reg.update(run.id, owner="ada", device="cuda:0,1")  # as the queue assigned the last spell
    row = reg.get(run.id)
    assert (row.started_at, row.ended_at) == (t0 + 5 * hour, t0 + 6 * hour)  # the last spell only
    assert [g for _, _, g in json.loads(row.earlier_use_json)] == [1, 2]  # each spell's GPUs, as the events say
    use = reg.device_use(since=t0 - hour)
    assert recent_usage(use, half_life_h=10**6)["ada"] == pytest.approx(3.0, rel=1e-3)
    assert recent_usage([u[:4] for u in use], half_life_h=10**6)["ada"] == pytest.approx(2.0, rel=1e-3)  # before
    folder.append(folder.events, {"type": "status", "status": "running"})  # no time (hand-written): not a spell
    reg.sync(run.id)  # nor does a second sync: the spells are read from all the events each time
    assert recent_usage(reg.device_use(since=t0 - hour), half_life_h=10**6)["ada"] == pytest.approx(3.0, rel=1e-3)


def test_a_rebuilt_registry_still_counts_each_runs_device_time(tmp_path):
    """After `registry rebuild` a row has no device (the queue's assignment lived only in the lost row): the fair
    order counts the spells the run's status events record, instead of skipping the run."""
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    run = runs.enqueue(home, ONE_GPU)
    folder, hour, t0 = RunFolder(run.run_dir), 3600.0, time.time() - 10 * 3600.0
    folder.append(folder.events, {"time": t0, "type": "owner", "user": "ada"})
    for t, status, device in ((t0, "running", "cuda:0"), (t0 + hour, "interrupted", None),
                              (t0 + 5 * hour, "running", "cuda:0,1"), (t0 + 6 * hour, "succeeded", None)):
        folder.append(folder.events, {"time": t, "type": "status", "status": status,
                                      **({"device": device} if device else {})})
    reg.engine.dispose()
    (home.root / "sslpilot.db").unlink()
    fresh = Registry(home)
    fresh.rebuild()
    row = fresh.get(run.id)
    assert row.device is None and row.owner == "ada"
    assert recent_usage(fresh.device_use(since=t0 - hour), half_life_h=10**6)["ada"] == pytest.approx(3.0, rel=1e-3)


def test_a_row_without_a_device_counts_only_its_ended_spells():
    now, hour = 1_000_000.0, 3600.0
    spells = json.dumps([[now - 4 * hour, now - 3 * hour, 2], [now - 2 * hour, now - hour, 0]])
    assert recent_usage([("a", None, now - 2 * hour, now - hour, spells)], at=now,
                        half_life_h=10**6)["a"] == pytest.approx(3.0, rel=1e-3)  # 2 GPU-hours, then a CPU slot's hour
    assert recent_usage([("a", None, now - hour, None, "[]")], at=now) == {}  # nothing ended: nothing to count


def test_the_fair_queue_orders_by_held_then_usage_then_age():
    def q(owner, created):
        return Run(id=f"{owner}{created}", method="simclr", owner=owner, created_at=created)

    running = [Run(id="r", method="simclr", owner="a", device="cuda:0", pid=1)]
    fair = FairQueue([q("a", 1), q("b", 2), q("c", 3)], running, {"b": 5.0, "c": 1.0})
    order = []
    while (r := fair.next()) is not None:
        order.append(r.id)
        fair.started(r, "cuda:0")
    assert order == ["c3", "b2", "a1"]  # a holds a GPU; b used more than c


def test_the_homes_default_limits_apply_to_users_without_their_own(shared, monkeypatch):
    home, registry, dispatcher, workers = shared
    monkeypatch.setenv("SSLPILOT_USER_MAX_QUEUED", "1")
    monkeypatch.setenv("SSLPILOT_USER_MAX_GPUS", "1")
    (b,) = queue(home, "bob")
    with pytest.raises(SSLPilotError, match="bob already has 1 run\\(s\\) waiting, the limit of 1"):
        queue(home, "bob")
    with acting_as(Actor("root", "admin")):
        Accounts(home).set_limits("carol", max_queued=3)  # her own limit wins over the default
    c = queue(home, "carol", 3)
    dispatcher.tick()
    assert sorted(workers.started) == sorted([b, c[0]])  # one GPU each: the default GPU limit holds carol
    assert {registry.get(r).wait_reason for r in c[1:]} == {"waiting: you already use 1 of your 1 GPU"}
