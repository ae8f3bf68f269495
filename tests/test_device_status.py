"""Which GPUs are free (tools/device_status.py): declared GPUs and runs placed on them by hand, as the queue would
place them, read back through the tool, its answer and the CLI."""

from __future__ import annotations

import json
import os

import pytest

from agent.answers import device_text
from tools import runs
from tools.agent_tools import ToolBox
from tools.device_status import device_status
from tools.gpus import GPU, Allocator
from tools.home import Home
from tools.registry import Registry

CFG = {"method": "simclr", "data": {"name": "digits"}, "train": {"steps": 5}}
TWO = [GPU(0, "NVIDIA H200", 143_771, 100_000), GPU(1, "NVIDIA H200", 143_771, 143_000)]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    return Home.resolve(tmp_path / "home")


def _placed(home: Home, device: str, owner: str = "ada") -> str:
    """A run the queue started on `device` (its worker's pid set, as Dispatcher.launch sets it)."""
    run = runs.enqueue(home, CFG)
    Registry(home).update(run.id, status="running", device=device, pid=os.getpid(), owner=owner)
    return run.id


def test_each_gpu_says_what_holds_it_and_the_queue_what_waits(home):
    on_zero = _placed(home, "cuda:0")
    waiting = runs.enqueue(home, CFG).id
    out = device_status(home, Allocator(gpus=TWO, cpu_slots=1, runs_per_gpu=1, min_free_mb=0))
    zero, one = out["gpus"]
    assert zero["state"] == "busy" and [r["run_id"] for r in zero["runs"]] == [on_zero]
    assert one["state"] == "free" and one["runs"] == []
    assert out["queued"] == [waiting] and out["source"] == "this process"
    text = device_text({**out, "asked_gpu": None})
    assert "**1 of 2 GPUs free**" in text and f"busy: run {on_zero} (simclr, ada)" in text
    assert f"1 run waits in the queue (run {waiting})" in text


def test_a_gpu_shared_by_two_runs_is_busy_only_when_both_slots_are_held(home):
    first = _placed(home, "cuda:0,1")  # a two-GPU run holds a slot on each
    out = device_status(home, Allocator(gpus=TWO, cpu_slots=1, runs_per_gpu=2, min_free_mb=0))
    assert [g["state"] for g in out["gpus"]] == ["free", "free"]
    assert all([r["run_id"] for r in g["runs"]] == [first] for g in out["gpus"])
    second = _placed(home, "cuda:1")
    out = device_status(home, Allocator(gpus=TWO, cpu_slots=1, runs_per_gpu=2, min_free_mb=0))
    assert [g["state"] for g in out["gpus"]] == ["free", "busy"]
    assert "in use: run " + first in device_text({**out, "asked_gpu": 0})
    assert f"run {first} (simclr, ada), run {second} (simclr, ada)" in device_text({**out, "asked_gpu": 1})


def test_a_gpu_whose_memory_someone_else_holds_is_not_free(home):
    out = device_status(home, Allocator(gpus=TWO, cpu_slots=1, runs_per_gpu=1, min_free_mb=120_000))
    assert [g["state"] for g in out["gpus"]] == ["taken outside sslpilot", "free"]  # 100 GB free on GPU 0


def test_asking_about_a_gpu_that_is_not_there_says_which_are(home):
    out = {**device_status(home, Allocator(gpus=TWO, cpu_slots=1, runs_per_gpu=1, min_free_mb=0)), "asked_gpu": 5}
    assert device_text(out) == "There is no GPU 5 here: this machine has GPUs 0, 1."
    none = {**device_status(home, Allocator(gpus=[], cpu_slots=2)), "asked_gpu": 0}
    assert device_text(none) == "There is no GPU 0 here: runs train on the CPU."


def test_without_gpus_the_cpu_slots_and_their_runs(home):
    on_cpu = _placed(home, "cpu")
    out = device_status(home, Allocator(gpus=[], cpu_slots=2))
    assert out["gpus"] == [] and [r["run_id"] for r in out["cpu_runs"]] == [on_cpu]
    assert f"runs train on the CPU, 2 at a time (`SSLPILOT_CPU_SLOTS` sets how many); run {on_cpu} (simclr, ada) holds one" in device_text(
        {**out, "asked_gpu": None})


def test_the_queue_daemons_own_inventory_wins_while_it_beats(home):
    """The daemon may see other GPUs than this process (its own SSLPILOT_GPUS): its heartbeat's inventory is used."""
    reg = Registry(home)
    daemon = Allocator(gpus=[GPU(3, "declared")], cpu_slots=1, runs_per_gpu=1, min_free_mb=0)
    reg.scheduler_beat(os.getpid(), daemon.inventory())
    out = device_status(home)
    assert [g["index"] for g in out["gpus"]] == [3] and out["source"] == "queue daemon"
    reg.scheduler_beat(None)  # stopped: read here again
    assert device_status(home)["source"] == "this process"


def test_the_tool_validates_its_argument_and_says_which_gpu_was_asked(home):
    box = ToolBox(home)
    assert box.device_status(gpu=1)["asked_gpu"] == 1
    with pytest.raises(ValueError, match="gpu"):
        box.device_status(gpu=-1)


def test_the_cli_prints_the_same_reading(home, monkeypatch):
    from typer.testing import CliRunner

    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_GPUS", "")  # no GPU, whatever this machine has
    placed = _placed(home, "cpu")
    r = CliRunner().invoke(app, ["--home", str(home.root), "gpus", "--json"])
    assert r.exit_code == 0, r.output
    assert [x["run_id"] for x in json.loads(r.stdout)["cpu_runs"]] == [placed]
    r = CliRunner().invoke(app, ["--home", str(home.root), "gpus"])
    assert "No GPU here" in r.stdout
