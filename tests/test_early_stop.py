"""Opt-in early stop (monitor.on_failure=stop): a run with a hard failure is stopped with a checkpoint, an event
that says why and what to change, and can be resumed; warn only alerts; a falling rank alone, a flat loss in
the warm-up and a healthy run are never stopped. Verdicts come from traces written by construction."""

from __future__ import annotations

import threading

import pytest
from conftest import tiny_config
from test_diagnosis_synthetic import trace

from ssl_runtime.run_folder import RunFolder
from tools.diagnosis import monitor_tick
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue

COLLAPSED = {"loss": (0.0, -0.97), "std": (0.05, 0.01), "rank": (20, 1.5), "uni": (-1, -0.05)}


def _running(home: Home, rows: list[dict], method: str = "simsiam", **overrides) -> tuple[str, RunFolder]:
    run = enqueue(home, tiny_config(method, **overrides))
    folder = RunFolder(run.run_dir)
    folder.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512, total_steps=1000,
                      data={"num_images": 1797, "duplicates": 0, "skipped_files": 0})
    for r in rows:
        folder.log_metrics(r)
    return run.id, folder


@pytest.fixture
def home(tmp_path):
    return Home.resolve(tmp_path / "home")


def test_stop_records_why_and_the_fix_and_asks_the_worker_to_checkpoint(home):
    stop_id, folder = _running(home, trace(**COLLAPSED), **{"method_args.predictor": False,
                                                             "monitor.on_failure": "stop"})
    warn_id, _ = _running(home, trace(**COLLAPSED), **{"method_args.predictor": False})
    alerts = {a["run_id"]: a for a in monitor_tick(home)}
    assert alerts[stop_id]["verdict"] == alerts[warn_id]["verdict"] == "complete_collapse"
    info = alerts[stop_id]["early_stop"]
    assert info["step"] == 100 and info["saved_steps"] == 900
    assert info["recommendation"] == {"category": "model", "change": {"method_args.predictor": True}}
    event = next(e for e in folder.read_events() if e["type"] == "early_stop")
    assert "stopped at step 100 of 1000" in event["message"] and "method_args.predictor=True" in event["message"]
    reg = Registry(home)
    assert reg.get(stop_id).cancel_requested_at is not None
    assert "early_stop" not in alerts[warn_id] and reg.get(warn_id).cancel_requested_at is None


def test_a_stop_on_failure_asked_while_the_run_trains_is_the_monitors_too(home):
    """"Stop run 3 once it collapses", said after it was launched with on_failure=warn: the run's folder holds it."""
    from ssl_runtime.stop_rules import add

    run_id, folder = _running(home, trace(**COLLAPSED), **{"method_args.predictor": False})
    add(folder, on_failure=True, by="ada")
    (alert,) = monitor_tick(home)
    assert alert["early_stop"]["step"] == 100
    event = next(e for e in folder.read_events() if e["type"] == "early_stop")
    assert "(asked to stop on a failure)" in event["message"]
    assert Registry(home).get(run_id).cancel_requested_at is not None


@pytest.mark.parametrize("case", ["healthy", "rank_falls", "flat_in_warm_up"])
def test_no_early_stop_without_a_hard_failure(home, case):
    rows = {"healthy": trace(std=(0.05, 0.12), rank=(10, 25)),
            "rank_falls": trace(std=(0.11, 0.04), rank=(40, 10)),  # dimensional collapse: an alert, never a stop
            "flat_in_warm_up": [{**r, "step": r["step"] // 10} for r in trace(loss=(5.0, 5.0))]}[case]
    run_id, folder = _running(home, rows, "simclr", **{"monitor.on_failure": "stop", "optim.warmup_steps": None})
    alerts = monitor_tick(home)
    assert all("early_stop" not in a for a in alerts)
    assert [a["verdict"] for a in alerts] == (["dimensional_collapse"] if case == "rank_falls" else [])
    assert Registry(home).get(run_id).cancel_requested_at is None


@pytest.mark.parametrize("lr, stop_at_300", [(1e-9, True), (None, False)])
def test_a_flat_loss_past_the_warm_up_is_stopped(home, lr, stop_at_300):
    """With a reason for it in the config (a rate 1e-6x too small) a flat loss is stopped past the warm-up; with
    none, only past half the run (slow losses read flat over their first checks)."""
    rows = [{**r, "step": r["step"] * 3} for r in trace(loss=(5.0, 5.0))]  # to step 300 of 1000
    lr_arg = {"optim.lr": lr} if lr else {}
    run_id, folder = _running(home, rows, "simclr", **{"monitor.on_failure": "stop", "optim.warmup_steps": None},
                              **lr_arg)
    alerts = monitor_tick(home)
    if stop_at_300:
        assert alerts[0]["verdict"] == "not_learning" and alerts[0]["early_stop"]["step"] == 300
        return
    assert alerts == []
    for r in trace(loss=(5.0, 5.0)):
        folder.log_metrics({**r, "step": 300 + r["step"] * 3})  # on to step 600 of 1000
    (alert,) = monitor_tick(home)
    assert alert["verdict"] == "not_learning" and alert["early_stop"]["step"] == 600


def test_a_real_worker_is_stopped_with_a_checkpoint_and_can_resume(home):
    """The queue's own monitor, a real worker: collapsed health rows are appended while it trains (its own health
    pass runs only at step 1), the monitor stops it, and its checkpoint holds for a resume (a resumed run
    finishing exactly is tests/test_queue.py's cancel-and-resume test: an early stop is that cancel)."""
    import torch
    from test_queue import running_scheduler, wait_for

    from tools.runs import resume

    # 2,000 steps: far more than the worker can take between its 5th logged step and the monitor's stop, even
    # when a busy machine slows the monitor more than the worker (200 once finished first under two test workers)
    run = enqueue(home, tiny_config("simclr", **{"train.steps": 2000, "train.log_every": 1, "train.health_every": 10**6,
                                                 "train.checkpoint_every": 10**6, "monitor.on_failure": "stop"}))
    folder, reg = RunFolder(run.run_dir), Registry(home)
    with running_scheduler(home, cpu_slots=1) as sched:  # its periodic monitor is off: driven by hand below
        wait_for(lambda: len([r for r in folder.read_metrics() if "loss" in r]) >= 5, poll=0.02)
        for r in trace(**COLLAPSED):
            folder.log_metrics(r)
        threading.Thread(target=sched._monitor).start()
        wait_for(lambda: reg.get(run.id).status == "cancelled")
    event = next(e for e in folder.read_events() if e["type"] == "early_stop")
    stopped_at = torch.load(folder.last_checkpoint, weights_only=False)["step"]
    assert event["verdict"] == "complete_collapse" and 5 <= stopped_at < 2000
    assert resume(home, run.id).status == "queued"


def test_a_sweep_reports_the_compute_its_early_stops_saved(home):
    from agent.answers import ranking_text
    from tools.ranking import rank_runs
    from tools.runs import sweep

    runs = sweep(home, tiny_config("simsiam", **{"monitor.on_failure": "stop"}),
                 {"method_args.predictor": [False, True]}, experiment="pred")
    for run, rows in zip(runs, (trace(**COLLAPSED), trace(std=(0.05, 0.12), rank=(10, 25))), strict=True):
        folder = RunFolder(run.run_dir)
        folder.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512,
                          total_steps=1000, data={"num_images": 1797, "duplicates": 0, "skipped_files": 0})
        for r in rows:
            folder.log_metrics(r)
    assert [a["run_id"] for a in monitor_tick(home) if "early_stop" in a] == [runs[0].id]
    r = rank_runs(home, sweep="pred")
    assert r["early_stops"]["runs"] == 1 and r["early_stops"]["saved_steps"] == 900
    assert "ended 1 failing run(s) and saved 900 steps" in ranking_text(r)


def test_the_replay_sees_what_the_monitor_saw_at_each_step(home):
    """RunEvidence.until (the failure suite's replay): metrics up to the step, a running status, no end; a NaN
    event between logged steps is a step of its own, and alerts at once."""
    from tools.diagnosis import alerting, load_evidence

    rows = trace(std=(0.11, 0.12), rank=(25, 30))  # healthy all along: spread 0.9x isotropic or more, far from 0.5x
    run_id, folder = _running(home, rows, "simclr")
    folder.event("error", "non-finite loss at step 57", kind="non_finite_loss", step=57)
    folder.set_status("diverged", "non-finite loss at step 57")
    ev = load_evidence(folder.path)
    steps = ev.checked_steps()
    assert 57 in steps and steps == sorted(steps) and max(steps) == max(r["step"] for r in rows)
    early = ev.until(40)
    assert early.status == "running" and early.probe is None and early.summary is None
    assert max(early.s("loss").steps) <= 40 and max(early.s("health/std").steps) <= 40
    assert alerting(early) is None  # healthy by step 40
    assert alerting(ev.until(57)).verdict == "diverged"
