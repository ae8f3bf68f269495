"""A run that waits for another (`after`, Slurm's afterok): held in the queue with its reason until that run has
succeeded, cancelled when it ends any other way, refused up front when it could never start. Through the real
dispatcher and registry, with `sleep` processes as workers (the order is under test, not training)."""

from __future__ import annotations

import pytest

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tests.test_fairshare import ONE_GPU, SleepingWorkers
from tools import runs
from tools.agent_tools import ToolBox
from tools.gpus import GPU, Allocator
from tools.home import Home
from tools.queue import Dispatcher
from tools.registry import Registry


@pytest.fixture
def queue(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    workers = SleepingWorkers()
    registry = Registry(home)
    yield home, registry, Dispatcher(registry, Allocator(gpus=[GPU(0), GPU(1)], cpu_slots=1), local=workers), workers
    for proc in workers.procs.values():
        proc.kill()


def test_a_waiting_run_starts_only_once_the_other_has_succeeded(queue):
    home, registry, dispatcher, workers = queue
    first = runs.enqueue(home, ONE_GPU)
    second = runs.enqueue(home, ONE_GPU, after=f"run {first.id}")
    assert second.after_id == first.id
    dispatcher.tick()  # two GPUs free, yet only the first starts
    assert workers.started == [first.id]
    assert registry.get(second.id).wait_reason == f"waiting for run {first.id} to succeed"
    dispatcher.tick()
    assert workers.started == [first.id] and registry.get(second.id).status == "queued"
    workers.finish(registry, first.id)
    dispatcher.tick()
    assert workers.started == [first.id, second.id]
    assert registry.get(second.id).status == "running"


def test_a_waiting_run_does_not_hold_up_the_runs_queued_after_it(queue):
    home, registry, dispatcher, workers = queue
    first = runs.enqueue(home, ONE_GPU)
    waiting = runs.enqueue(home, ONE_GPU, after=first.id)
    other = runs.enqueue(home, ONE_GPU)
    dispatcher.tick()
    assert workers.started == [first.id, other.id] and registry.get(waiting.id).status == "queued"


@pytest.mark.parametrize("ending", ["failed", "cancelled", "diverged"])
def test_a_waiting_run_is_cancelled_when_the_other_ends_without_success(queue, ending):
    home, registry, dispatcher, workers = queue
    first = runs.enqueue(home, ONE_GPU)
    second = runs.enqueue(home, ONE_GPU, after=first.id)
    dispatcher.tick()
    RunFolder(first.run_dir).set_status(ending, "ended")
    registry.sync(first.id)
    dispatcher.tick()
    got = registry.get(second.id)
    assert got.status == "cancelled" and got.message == f"run {first.id}, which it waited for, ended {ending}"
    assert workers.started == [first.id]


def test_an_interrupted_run_keeps_its_waiters_waiting_and_says_how_to_go_on(queue):
    home, registry, dispatcher, workers = queue
    first = runs.enqueue(home, ONE_GPU)
    second = runs.enqueue(home, ONE_GPU, after=first.id)
    RunFolder(first.run_dir).set_status("interrupted", "worker died")
    registry.sync(first.id)
    dispatcher.tick()
    got = registry.get(second.id)
    assert got.status == "queued" and "interrupted: resume it" in got.wait_reason
    assert workers.started == []


def test_waiting_is_refused_up_front_when_it_could_never_start(queue):
    home, registry, _, _ = queue
    with pytest.raises(SSLPilotError) as missing:
        runs.enqueue(home, ONE_GPU, after="41")
    assert missing.value.field == "after_run" and "no run '41'" in str(missing.value)
    failed = runs.enqueue(home, ONE_GPU)
    RunFolder(failed.run_dir).set_status("failed", "boom")
    before = len(registry.list())
    with pytest.raises(SSLPilotError) as ended:
        runs.enqueue(home, ONE_GPU, after=failed.id)
    assert ended.value.field == "after_run" and "already ended failed" in str(ended.value)
    assert len(registry.list()) == before  # nothing stored


def test_the_wait_survives_a_registry_rebuild(queue):
    home, registry, _, _ = queue
    first = runs.enqueue(home, ONE_GPU)
    second = runs.enqueue(home, ONE_GPU, after=first.id)
    registry.engine.dispose()
    (home.root / "sslpilot.db").unlink()
    fresh = Registry(home)
    fresh.rebuild()
    assert fresh.get(second.id).after_id == first.id and fresh.get(first.id).after_id is None


def test_the_launch_tool_shows_the_wait_before_the_yes_and_queues_it_after(queue):
    home, registry, _, _ = queue
    first = runs.enqueue(home, ONE_GPU)
    box = ToolBox(home)
    proposal = box.launch_pretraining(method="byol", data="digits", steps=5, after_run=f"run {first.id}")
    assert [(a["run_id"], a["status"]) for a in proposal["after"]] == [(first.id, "queued")]
    done = box.execute_confirmed("launch_pretraining", proposal["pending_confirmation"]["args"])
    assert done["after"] == [first.id] and registry.get(done["run_id"]).after_id == first.id
    with pytest.raises(SSLPilotError) as scheduled:
        box.schedule_pretraining(method="byol", data="digits", at="2030-01-01T02:00", after_run=first.id)
    assert scheduled.value.field == "after_run"
    sweep = box.launch_sweep(method="byol", data="digits", steps=5, grid={"optim.lr": [0.1, 0.2]}, after_run=first.id)
    made = box.execute_confirmed("launch_sweep", sweep["pending_confirmation"]["args"])
    assert [registry.get(r).after_id for r in made["run_ids"]] == [first.id, first.id]


def _reading(text: str, runs: list[tuple[str, str]]):
    from agent.intent_model import get_model
    from agent.run_refs import RunInfo, World
    from agent.understand import understand

    world = World([RunInfo(rid, "simclr", "digits", status) for rid, status in runs])
    return understand(text, {}, world, get_model())


def test_the_chat_reads_a_wait_for_a_named_run_or_the_one_going():
    r = _reading("once run 2 is done, pretrain byol on shapes for 30 epochs", [("1", "succeeded"), ("2", "running")])
    assert (r.kind, r.tool) == ("tool", "launch_pretraining")
    assert {k: r.args.get(k) for k in ("method", "data", "epochs", "after_run")} == {
        "method": "byol", "data": "shapes", "epochs": 30, "after_run": "2"}
    r = _reading("launch vicreg on digits when the current run finishes", [("1", "succeeded"), ("2", "queued")])
    assert r.tool == "launch_pretraining" and r.args["after_run"] == "2"
    r = _reading("sweep simclr lr 0.001 and 0.01 on digits after run 1 finishes", [("1", "running")])
    assert r.tool == "launch_sweep" and r.args["after_run"] == "1" and r.args["grid"] == {"optim.lr": [0.001, 0.01]}


def test_the_chat_asks_where_a_wait_could_never_end_or_names_no_one_run():
    r = _reading("pretrain byol on digits after run 4 is done", [("4", "diverged")])
    assert r.kind == "clarify" and "already ended diverged" in r.question and r.options == ["pretrain byol on digits"]
    r = _reading("pretrain byol on digits after run 9 finishes", [("1", "running")])
    assert r.kind == "clarify" and "no run 9" in r.question
    r = _reading("pretrain byol on digits when the current run finishes", [("1", "running"), ("2", "running")])
    assert r.kind == "clarify" and "Runs 1, 2" in r.question
    r = _reading("pretrain byol on digits after run 1 finishes, tonight at 11pm", [("1", "running")])
    assert r.kind == "clarify" and "not both" in r.question
    r = _reading("pretrain byol on digits after run 1's warmup", [("1", "running")])
    assert "after_run" not in r.args  # a run's part, not a wait


def test_the_cli_queues_a_run_that_waits_and_refuses_a_wait_with_a_time(queue):
    import json

    from typer.testing import CliRunner

    from ui.cli import app

    home, registry, _, _ = queue
    first = runs.enqueue(home, ONE_GPU)
    out = CliRunner().invoke(app, ["--home", str(home.root), "pretrain", "byol", "--data", "digits", "--steps", "5",
                                   "--after", first.id, "--no-wait", "--json"])
    assert out.exit_code == 0, out.output
    assert registry.get(json.loads(out.stdout)["run_id"]).after_id == first.id
    both = CliRunner().invoke(app, ["--home", str(home.root), "pretrain", "byol", "--data", "digits", "--after",
                                    first.id, "--at", "2030-01-01T02:00"])
    assert isinstance(both.exception, SSLPilotError) and both.exception.field == "after"  # the CLI prints it as one line


# ---- several runs, and any ending (Slurm's afterok:1:2 and afterany) ---------------------------------------------

def test_a_run_waiting_for_several_starts_once_all_have_succeeded(queue):
    home, registry, dispatcher, workers = queue
    first, second = runs.enqueue(home, ONE_GPU), runs.enqueue(home, ONE_GPU)
    third = runs.enqueue(home, ONE_GPU, after=[first.id, f"run {second.id}"])
    assert third.waits_for == [first.id, second.id] and not third.after_any
    dispatcher.tick()
    assert workers.started == [first.id, second.id]
    assert registry.get(third.id).wait_reason == f"waiting for runs {first.id} and {second.id} to succeed"
    workers.finish(registry, first.id)
    dispatcher.tick()
    assert registry.get(third.id).wait_reason == f"waiting for run {second.id} to succeed"
    assert registry.get(third.id).status == "queued"
    workers.finish(registry, second.id)
    dispatcher.tick()
    assert workers.started[-1] == third.id and registry.get(third.id).status == "running"


def test_a_run_waiting_for_several_is_cancelled_when_one_of_them_fails(queue):
    home, registry, dispatcher, workers = queue
    first, second = runs.enqueue(home, ONE_GPU), runs.enqueue(home, ONE_GPU)
    third = runs.enqueue(home, ONE_GPU, after=[first.id, second.id])
    dispatcher.tick()
    RunFolder(second.run_dir).set_status("diverged", "nan loss")
    registry.sync(second.id)
    dispatcher.tick()
    got = registry.get(third.id)
    assert got.status == "cancelled" and got.message == f"run {second.id}, which it waited for, ended diverged"


@pytest.mark.parametrize("ending", ["failed", "cancelled", "diverged", "interrupted", "succeeded"])
def test_a_run_waiting_for_any_ending_starts_once_all_have_ended_however(queue, ending):
    home, registry, dispatcher, workers = queue
    first, second = runs.enqueue(home, ONE_GPU), runs.enqueue(home, ONE_GPU)
    third = runs.enqueue(home, ONE_GPU, after=[first.id, second.id], after_any=True)
    dispatcher.tick()
    assert registry.get(third.id).wait_reason == f"waiting for runs {first.id} and {second.id} to end"
    RunFolder(first.run_dir).set_status(ending, "ended")
    registry.sync(first.id)
    dispatcher.tick()
    got = registry.get(third.id)
    assert got.status == "queued" and got.wait_reason == f"waiting for run {second.id} to end"
    workers.finish(registry, second.id)
    dispatcher.tick()
    assert registry.get(third.id).status == "running" and workers.started[-1] == third.id


def test_waiting_for_any_ending_accepts_a_run_that_already_ended_and_needs_runs_to_wait_for(queue):
    from tools.tool_table import LaunchArgs

    home, registry, dispatcher, workers = queue
    failed = runs.enqueue(home, ONE_GPU)
    RunFolder(failed.run_dir).set_status("failed", "boom")
    registry.sync(failed.id)
    waiting = runs.enqueue(home, ONE_GPU, after=failed.id, after_any=True)
    dispatcher.tick()
    assert workers.started == [waiting.id]
    with pytest.raises(ValueError, match="after_any: name the run"):
        LaunchArgs(method="byol", after_any=True)
    with pytest.raises(ValueError, match="not both"):
        LaunchArgs(method="byol", after_run="1", after_runs=["2"])
    before = len(registry.list())
    with pytest.raises(SSLPilotError) as missing:  # one run of two not there: nothing stored
        runs.enqueue(home, ONE_GPU, after=[failed.id, "41"], after_any=True)
    assert missing.value.field == "after_run" and len(registry.list()) == before


def test_several_waits_and_any_ending_survive_a_registry_rebuild(queue):
    home, registry, _, _ = queue
    first, second = runs.enqueue(home, ONE_GPU), runs.enqueue(home, ONE_GPU)
    third = runs.enqueue(home, ONE_GPU, after=[first.id, second.id], after_any=True)
    registry.engine.dispose()
    (home.root / "sslpilot.db").unlink()
    fresh = Registry(home)
    fresh.rebuild()
    got = fresh.get(third.id)
    assert (got.waits_for, got.after_any) == ([first.id, second.id], True)


def test_the_tools_show_each_awaited_run_and_queue_the_wait(queue):
    from agent.answers import tool_result_text as render

    home, registry, _, _ = queue
    first, second = runs.enqueue(home, ONE_GPU), runs.enqueue(home, ONE_GPU)
    box = ToolBox(home)
    proposal = box.launch_pretraining(method="byol", data="digits", steps=5, after_runs=[first.id, second.id],
                                      after_any=True)
    assert [a["run_id"] for a in proposal["after"]] == [first.id, second.id] and proposal["after_any"] is True
    text = render("launch_pretraining", proposal)
    assert f"waits for: run {first.id} (simclr, queued), run {second.id} (simclr, queued) to end, however they end" in text
    done = box.execute_confirmed("launch_pretraining", proposal["pending_confirmation"]["args"])
    assert done["after"] == [first.id, second.id] and done["after_any"] is True
    assert f"It starts once runs {first.id} and {second.id} have ended." in render("launch_pretraining", done)
    sweep = box.launch_sweep(method="byol", data="digits", steps=5, grid={"optim.lr": [0.1, 0.2]},
                             after_runs=[first.id, second.id])
    made = box.execute_confirmed("launch_sweep", sweep["pending_confirmation"]["args"])
    assert [registry.get(r).waits_for for r in made["run_ids"]] == [[first.id, second.id]] * 2
    assert "They start once runs" in render("launch_sweep", made) and "have succeeded" in render("launch_sweep", made)


def test_the_cli_waits_for_several_runs_and_for_any_ending(queue):
    import json

    from typer.testing import CliRunner

    from ui.cli import app

    home, registry, _, _ = queue
    first, second = runs.enqueue(home, ONE_GPU), runs.enqueue(home, ONE_GPU)
    out = CliRunner().invoke(app, ["--home", str(home.root), "pretrain", "byol", "--data", "digits", "--steps", "5",
                                   "--after", first.id, "--after", second.id, "--after-any", "--no-wait", "--json"])
    assert out.exit_code == 0, out.output
    got = registry.get(json.loads(out.stdout)["run_id"])
    assert (got.waits_for, got.after_any) == ([first.id, second.id], True)
    alone = CliRunner().invoke(app, ["--home", str(home.root), "pretrain", "byol", "--data", "digits", "--after-any"])
    assert isinstance(alone.exception, SSLPilotError) and alone.exception.field == "after_any"


def test_the_chat_reads_several_runs_and_any_ending():
    world = [("1", "succeeded"), ("2", "running"), ("3", "running"), ("4", "diverged")]
    r = _reading("queue byol on digits after runs 2 and 3 finish", world)
    assert (r.tool, r.args.get("after_runs"), r.args.get("after_any")) == ("launch_pretraining", ["2", "3"], None)
    r = _reading("once #1, #2 and #3 are done, pretrain vicreg on shapes", world)
    assert (r.tool, r.args["after_runs"], r.args["data"]) == ("launch_pretraining", ["1", "2", "3"], "shapes")
    r = _reading("pretrain dino on shapes after run 2 ends, whether or not it succeeds", world)
    assert (r.args.get("after_run"), r.args.get("after_any")) == ("2", True)
    r = _reading("start simclr on digits after run 4 ends either way", world)  # ended already: any ending will do
    assert (r.tool, r.args.get("after_run"), r.args.get("after_any")) == ("launch_pretraining", "4", True)
    r = _reading("train byol on digits after runs 2 and 4 finish", world)  # 4 can never succeed
    assert r.kind == "clarify" and "Run 4 already ended diverged" in r.question
    assert r.options == ["train byol on digits", "train byol on digits after runs 2 and 4 finish, whether or not they "
                         "succeed"]
    r = _reading("queue byol on digits after runs 2 and 9 are done", world)
    assert r.kind == "clarify" and "no run 9" in r.question and r.options == ["queue byol on digits after run 2 finishes"]
    r = _reading("compare runs 2 and 3", world)
    assert (r.tool, r.args) == ("compare_runs", {"run_ids": ["2", "3"]})
