"""A worker killed with SIGKILL after a checkpoint resumes onto the very same trajectory."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import subprocess_env

from ssl_runtime.run_folder import RunFolder


def _worker(run_dir, *extra):
    return subprocess.Popen([sys.executable, "-m", "ssl_runtime", "run", str(run_dir), "--no-probe", *extra],
                            env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _losses(run_dir):
    return {r["step"]: r["loss"] for r in RunFolder(run_dir).read_metrics() if "loss" in r}


@pytest.mark.parametrize("method, args", [("moco", {"method_args.queue_size": 128}), ("dino", {})])
def test_sigkill_then_resume_matches_uninterrupted(method, args, run_dir_factory):
    common = {"train.steps": 60, "train.log_every": 1, "train.checkpoint_every": 20, "train.health_every": 20,
              "train.batch_size": 128, **args}
    ref_dir = run_dir_factory(method, name="ref", **common)
    assert _worker(ref_dir).wait(timeout=300) == 0

    run_dir = run_dir_factory(method, name="killed", **common)
    proc = _worker(run_dir)
    folder = RunFolder(run_dir)
    deadline = time.time() + 300
    while time.time() < deadline:
        steps = [r.get("step", 0) for r in folder.read_metrics()]
        if steps and max(steps) >= 30:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not folder.summary.exists(), "the worker finished before it could be killed"
    killed_at = max(r.get("step", 0) for r in folder.read_metrics())
    assert killed_at >= 30

    resumed = _worker(run_dir, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    ref, got = _losses(ref_dir), _losses(run_dir)
    assert sorted(got) == list(range(1, 61)), "every step logged exactly once"
    for step in range(1, 61):
        assert got[step] == pytest.approx(ref[step], rel=1e-5, abs=1e-6), step
    events = folder.read_events()
    resume_event = next(e for e in events if e["type"] == "resume")
    assert resume_event["step"] == 20 or resume_event["step"] == 40
    assert folder.status() == "succeeded"
