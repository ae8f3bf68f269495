"""The warm launcher: local runs forked from a process that has imported torch and transformers already. Such a
worker writes its own log, is a session leader that a cancel reaches, and is told apart from a reused pid."""

from __future__ import annotations

import json
import os
import time

import psutil
import pytest
from conftest import make_run_dir, tiny_config

from ssl_runtime.run_folder import RunFolder
from tools.backends import Handle
from tools.backends.local import LocalBackend


@pytest.fixture(scope="module")
def backend():
    """One launcher for the module (its imports take seconds)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SSLPILOT_WARM_WORKER", "1")
    b = LocalBackend()
    b.prewarm()
    assert b.warm.ready.wait(180), "the warm launcher did not finish its imports"
    yield b
    b.warm.close()
    mp.undo()


def _wait_ended(backend: LocalBackend, handle: Handle, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while backend.alive(handle):
        assert time.time() < deadline, "the worker did not end"
        time.sleep(0.2)


def test_a_warm_worker_runs_writes_its_log_and_reports_its_exit_code(backend, tmp_path):
    run = make_run_dir(tmp_path, tiny_config("simclr", **{"train.steps": 4}))
    t0 = time.perf_counter()
    handle = backend.submit(str(run), "1")
    assert handle.info.get("warm") and handle.job_id != str(backend.warm.proc.pid)
    assert os.getsid(int(handle.job_id)) == int(handle.job_id)  # its own session: a cancel reaches its children
    _wait_ended(backend, handle)
    took = time.perf_counter() - t0
    folder = RunFolder(run)
    assert folder.status() == "succeeded"
    lines = [json.loads(x) for x in folder.stdout.read_text().splitlines() if x.startswith("{")]
    assert lines and lines[-1] == {"status": "succeeded", "steps": 4}
    deadline = time.time() + 10
    while backend.exit_code(handle) is None and time.time() < deadline:
        time.sleep(0.1)
    assert backend.exit_code(handle) == 0
    assert backend.state(handle) == "completed"
    print(f"warm worker: 4-step run in {took:.1f} s")


def test_a_warm_worker_stops_on_cancel(backend, tmp_path):
    run = make_run_dir(tmp_path, tiny_config("simclr", **{"train.steps": 400, "train.log_every": 1}))
    handle = backend.submit(str(run), "2")
    folder = RunFolder(run)
    deadline = time.time() + 120
    while not [r for r in folder.read_metrics() if r.get("step", 0) >= 2]:
        assert time.time() < deadline and backend.alive(handle)
        time.sleep(0.2)
    backend.cancel(handle)
    _wait_ended(backend, handle)
    assert folder.status() == "interrupted"
    deadline = time.time() + 10
    while backend.exit_code(handle) is None and time.time() < deadline:
        time.sleep(0.1)
    assert backend.exit_code(handle) == 4  # the worker's own exit code for interrupted


def test_a_warm_handle_is_known_by_its_start_time_not_its_command_line(tmp_path):
    from tools.backends.local import started_at

    me = psutil.Process()
    info = {"host": None, "run_dir": str(tmp_path), "warm": True}
    same = Handle("local", "local", str(me.pid), info={**info, "started": started_at(me.pid)})
    reused = Handle("local", "local", str(me.pid), info={**info, "started": started_at(me.pid) - 60})
    before = Handle("local", "local", str(me.pid), info={**info, "created": me.create_time()})  # an older handle
    b = LocalBackend()
    assert b.alive(same) and not b.alive(reused) and b.alive(before)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="the boot-relative start time is read from /proc")
def test_a_step_of_the_wall_clock_does_not_make_a_live_worker_look_dead(tmp_path, monkeypatch):
    """A VM resumed from a pause (or an NTP step) moves psutil's create_time, which adds the boot time read now:
    the queue took live warm workers for dead and started their runs again beside them, three workers on one run.
    The start time read after boot does not move with it."""
    from tools.backends.local import started_at

    me = psutil.Process()
    handle = Handle("local", "local", str(me.pid), info={"host": None, "run_dir": str(tmp_path), "warm": True,
                                                           "started": started_at(me.pid)})
    stepped = me.create_time() + 17.0
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: stepped)
    assert LocalBackend().alive(handle)


def test_without_the_launcher_a_run_starts_a_fresh_process(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_WARM_WORKER", "0")
    b = LocalBackend()
    run = make_run_dir(tmp_path, tiny_config("simclr", **{"train.steps": 2}))
    handle = b.submit(str(run), "3")
    assert b.warm is None and not handle.info.get("warm")
    # Popen returns once the child's exec has begun, but the kernel fills in its command line a moment later: under
    # load (two test workers) an immediate read came back empty once, so read until it is there
    proc, deadline = psutil.Process(int(handle.job_id)), time.monotonic() + 10
    cmdline = proc.cmdline()
    while not cmdline and time.monotonic() < deadline:
        time.sleep(0.05)
        cmdline = proc.cmdline()
    assert any(str(run) in part for part in cmdline), cmdline
    b.procs[handle.job_id].wait(180)
    assert RunFolder(run).status() == "succeeded"
