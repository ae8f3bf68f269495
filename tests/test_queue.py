"""The queue with real worker processes: slots, kill and retry, cancel and resume, scheduler restarts."""

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from conftest import subprocess_env, tiny_config

from ssl_runtime.errors import ConfigError, SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools import backends
from tools.gpus import GPU, Allocator, Request
from tools.home import Home
from tools.queue import QueuePolicy
from tools.registry import TERMINAL, Registry
from tools.runs import cancel, enqueue, logs, resume
from tools.scheduler import Scheduler, add_scheduled_launch


@pytest.fixture
def home(tmp_path):
    return Home.resolve(tmp_path / "home")


@contextmanager
def running_scheduler(home, cpu_slots=2, grace=10.0, retries=2):
    sched = Scheduler(home, tick_s=0.2, allocator=Allocator(gpus=[], cpu_slots=cpu_slots),
                      policy=QueuePolicy(cancel_grace_s=grace, max_retries=retries))
    stop = threading.Event()
    thread = threading.Thread(target=sched.serve, kwargs={"until": stop.is_set}, daemon=True)
    thread.start()
    try:
        yield sched
    finally:
        stop.set()
        thread.join(timeout=30)
        for run in Registry(home).with_workers():  # never leave a worker behind a failed test
            try:
                os.killpg(run.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(predicate, timeout=240, poll=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError("timed out")


def steps_logged(run_dir):
    return [r["step"] for r in RunFolder(run_dir).read_metrics() if "loss" in r]


def test_three_runs_on_two_slots(home):
    runs = [enqueue(home, tiny_config("simclr", **{"train.steps": 20})) for _ in range(3)]
    reg = Registry(home)
    peak = 0
    with running_scheduler(home, cpu_slots=2):
        def all_done():
            nonlocal peak
            peak = max(peak, len(reg.list(status="running")))
            return all(reg.get(r.id).status in TERMINAL for r in runs)

        wait_for(all_done, poll=0.05)
        wait_for(lambda: not reg.with_workers())  # each worker probes after its final status, then is reaped
    final = [reg.get(r.id) for r in runs]
    assert [r.status for r in final] == ["succeeded"] * 3
    assert all(r.verdict is not None for r in final), [r.verdict for r in final]  # diagnosed once reaped
    assert peak == 2  # both slots used, never oversubscribed
    first_end = min(final[0].ended_at, final[1].ended_at)
    assert final[2].started_at >= first_end - 0.5  # the third waited for a free slot


def test_sigkilled_worker_is_interrupted_then_resumed(home):
    run = enqueue(home, tiny_config("simclr", **{"train.steps": 80, "train.checkpoint_every": 20,
                                                 "train.log_every": 1, "train.batch_size": 128}))
    reg = Registry(home)
    with running_scheduler(home, cpu_slots=1):
        wait_for(lambda: len(steps_logged(run.run_dir)) >= 30, poll=0.02)
        pid = reg.get(run.id).pid
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: reg.get(run.id).status == "succeeded" and reg.get(run.id).retries == 1)
    statuses = [e.message for e in reg.events(run.id, types=["status"])]
    assert any("died" in m for m in statuses), statuses
    assert any(e.type == "retry" for e in reg.events(run.id))
    assert steps_logged(run.run_dir) == list(range(1, 81))  # no duplicated or missing steps
    assert reg.metrics(run.id)["loss"].count == 80


def test_cancel_checkpoints_and_resume_finishes(home):
    run = enqueue(home, tiny_config("simclr", **{"train.steps": 120, "train.checkpoint_every": 10000,
                                                 "train.log_every": 1}))
    reg = Registry(home)
    with running_scheduler(home, cpu_slots=1):
        wait_for(lambda: len(steps_logged(run.run_dir)) >= 10, poll=0.02)
        cancel(home, run.id)
        wait_for(lambda: reg.get(run.id).status == "cancelled")
        folder = RunFolder(run.run_dir)
        # the worker read the cancel and ended `cancelled` itself: never `interrupted` in between (it was, for one
        # dispatcher pass, and a resume could have raced it)
        ended = [e for e in folder.read_events() if e.get("type") == "status" and e["status"] != "running"]
        assert [e["status"] for e in ended][-1:] == ["cancelled"] and "interrupted" not in {e["status"] for e in ended}
        assert ended[-1]["message"].startswith("cancelled by request: stopped by SIGTERM at step ")
        import torch

        step = torch.load(folder.last_checkpoint, weights_only=False)["step"]
        assert 10 <= step < 120
        with pytest.raises(SSLPilotError, match="nothing to cancel"):
            cancel(home, run.id)
        local = backends.get(home, "local")  # local runs go through the backend interface too
        stopped = backends.Handle.load(run.run_dir)
        assert stopped.kind == "local" and stopped.info["devices"] == ["cpu"]
        wait_for(lambda: local.state(stopped) == "cancelled")  # the worker exits just after it says cancelled
        resume(home, run.id)
        wait_for(lambda: reg.get(run.id).status == "succeeded")
    assert steps_logged(run.run_dir) == list(range(1, 121))
    finished = backends.Handle.load(run.run_dir)
    assert finished.job_id != stopped.job_id
    # the worker goes on to probe after the run says succeeded: the job ends after that
    wait_for(lambda: local.state(finished) != "running")
    assert local.state(finished) == "completed"
    text, offset = logs(home, run.id)
    assert '"step": 120' in text and logs(home, run.id, offset) == ("", offset)  # incremental


def test_scheduler_killed_and_restarted_picks_up_queued_and_scheduled(home):
    env = subprocess_env()
    env["SSLPILOT_CPU_SLOTS"] = "0"  # the first scheduler can start nothing
    first = subprocess.Popen([sys.executable, "-m", "tools.scheduler", "--home", str(home.root), "--tick", "0.2"],
                             env=env, start_new_session=True)
    reg = Registry(home)
    wait_for(reg.scheduler_alive, timeout=60)
    queued = enqueue(home, tiny_config("simclr", **{"train.steps": 6}))
    job = add_scheduled_launch(home, tiny_config("byol", **{"train.steps": 6}),
                               at=datetime.now() + timedelta(seconds=3))
    assert job["next_run_time"]
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    time.sleep(3.5)  # the scheduled time passes while no scheduler runs
    env["SSLPILOT_CPU_SLOTS"] = "1"
    second = subprocess.Popen([sys.executable, "-m", "tools.scheduler", "--home", str(home.root), "--tick",
                               "0.2"], env=env, start_new_session=True)
    try:
        def both_done():
            runs = reg.list()
            return len(runs) == 2 and all(r.status == "succeeded" for r in runs)

        wait_for(both_done)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    methods = sorted(r.method for r in reg.list())
    assert methods == ["byol", "simclr"] and reg.get(queued.id).status == "succeeded"
    assert "scheduled" in [r for r in reg.list() if r.method == "byol"][0].tags_json
    assert not reg.scheduler_alive()


def test_bad_requests_are_clear(home, monkeypatch):
    run = enqueue(home, tiny_config())
    with pytest.raises(SSLPilotError, match="no checkpoint"):
        RunFolder(run.run_dir).set_status("failed", "x")
        resume(home, run.id)
    with pytest.raises(SSLPilotError, match="no run '404'"):
        cancel(home, "404")
    monkeypatch.setenv("SSLPILOT_GPUS", "0")
    with pytest.raises(ConfigError, match="train.num_gpus: the run asks for 2 GPUs but this machine has 1"):
        enqueue(home, tiny_config(**{"train.num_gpus": 2, "train.device": "auto"}))
    monkeypatch.setenv("SSLPILOT_GPUS", "")
    with pytest.raises(ConfigError, match="train.device"):
        enqueue(home, tiny_config(**{"train.device": "cuda:1"}))


def test_allocator_places_runs():
    alloc = Allocator(gpus=[GPU(0), GPU(1), GPU(2)], cpu_slots=1)
    assert alloc.assign(Request(2, "auto"), {}) == ["0", "1"]
    assert alloc.assign(Request(2, "auto"), {"0": 1}) == ["1", "2"]
    assert alloc.assign(Request(1, "cuda:1"), {"1": 1}) is None  # pinned GPU busy: wait
    assert alloc.assign(Request(1, "cuda:2"), {"0": 1}) == ["2"]
    assert alloc.assign(Request(1, "cpu"), {"cpu": 1}) is None
    assert Allocator(gpus=[], cpu_slots=2).assign(Request(1, "auto"), {"cpu": 1}) == ["cpu"]


def test_a_cancel_while_loader_workers_stream_images_ends_cancelled_not_failed(home, tmp_path):
    """The cancel's SIGTERM goes to the worker's whole session (torchrun's ranks must get it too), and so reached
    the DataLoader processes that decode a folder's images: they died, the trainer raised "DataLoader worker is
    killed by signal: Terminated" mid-step, and the run ended `failed` instead of cancelled with its checkpoint."""
    from photos import make_photos

    photos = make_photos(tmp_path / "photos", n=200, sizes=(24, 40))
    run = enqueue(home, tiny_config("simclr", **{"data": {"path": str(photos), "image_size": 16},
                                                 "data.loader": "stream", "data.workers": 2, "train.steps": 400,
                                                 "train.checkpoint_every": 10000, "train.log_every": 1}))
    reg = Registry(home)
    with running_scheduler(home, cpu_slots=1):
        wait_for(lambda: len(steps_logged(run.run_dir)) >= 5, poll=0.02)
        cancel(home, run.id)
        # the worker reads the cancel request and ends `cancelled` (it once ended `interrupted` until the
        # dispatcher's next pass, which the test read under load); `interrupted` still fails the assertion below
        wait_for(lambda: reg.get(run.id).status in set(TERMINAL) - {"interrupted"})
    assert reg.get(run.id).status == "cancelled", reg.get(run.id).message


def test_a_resume_waits_for_the_worker_that_ended_the_run_to_exit(home):
    """The worker says `cancelled` as it stops, a moment before it exits: a resume in that moment would have put two
    workers on one folder. It is refused, saying to try again, until that process is gone."""
    run = enqueue(home, tiny_config("simclr"))
    folder = RunFolder(run.run_dir)
    folder.last_checkpoint.parent.mkdir(parents=True, exist_ok=True)
    folder.last_checkpoint.write_bytes(b"a checkpoint")  # resume only needs one to exist
    folder.set_status("cancelled", "cancelled by request: stopped by SIGTERM at step 7")
    reg = Registry(home)
    reg.sync(run.id)
    exiting = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", run.run_dir])  # names the folder
    try:
        reg.update(run.id, pid=exiting.pid)
        with pytest.raises(SSLPilotError, match="still exiting") as err:
            resume(home, run.id)
        assert "in a few seconds" in err.value.fix
    finally:
        exiting.kill()
        exiting.wait()
    assert resume(home, run.id).status == "queued"
    cancel(home, run.id)  # leave nothing queued for the other tests' scheduler


def test_a_cron_day_of_week_fires_on_the_day_cron_means(home):
    """"0 3 * * 1" is Mondays to cron; APScheduler 3's from_crontab read it with Monday as 0 and fired on
    Tuesdays ("1-5": Tuesday to Saturday). The stored job fires on the days written, counted from a Friday."""
    from tools.scheduler import cron_trigger

    friday = datetime(2026, 12, 4, 20, 45).astimezone()
    firsts = {e: cron_trigger(e).get_next_fire_time(None, friday).strftime("%a %d") for e in
              ("0 3 * * 1", "0 3 * * 1-5", "0 3 * * 0,6", "0 3 * * 7", "0 3 * * 5", "0 3 * * */2")}
    assert firsts == {"0 3 * * 1": "Mon 07", "0 3 * * 1-5": "Mon 07", "0 3 * * 0,6": "Sat 05",
                      "0 3 * * 7": "Sun 06", "0 3 * * 5": "Fri 11", "0 3 * * */2": "Sat 05"}
    job = add_scheduled_launch(home, tiny_config("byol"), cron="0 3 * * 1")
    assert datetime.fromisoformat(job["next_run_time"]).strftime("%a") == "Mon"
    with pytest.raises(SSLPilotError, match="day of week"):
        add_scheduled_launch(home, tiny_config("byol"), cron="0 3 * * 9")


def test_a_launch_time_that_has_passed_or_cannot_be_read_is_refused_before_it_is_stored(home):
    from tools.scheduler import launch_time, list_scheduled

    for past in (datetime.now() - timedelta(minutes=1), datetime.now(timezone.utc) - timedelta(hours=2)):
        with pytest.raises(SSLPilotError, match="already passed") as caught:
            add_scheduled_launch(home, tiny_config("byol"), at=past)
        assert caught.value.field == "at"
    with pytest.raises(SSLPilotError, match="cannot read the time") as caught:
        launch_time("tomorrow-ish")
    assert caught.value.field == "at" and "ISO" in caught.value.fix
    assert list_scheduled(home) == []
    soon = launch_time((datetime.now() + timedelta(hours=1)).isoformat(timespec="minutes"))
    assert add_scheduled_launch(home, tiny_config("byol"), at=soon)["next_run_time"]
