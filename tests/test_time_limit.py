"""A run given a time ("for 2 hours"): train.max_minutes stops it with a checkpoint and an exported encoder, and a
launch given a time and no length gets the steps that time holds at the speed measured here."""

from __future__ import annotations

import pytest
from conftest import tiny_config
from understanding_eval import WORLD

from agent.answers import pending_text
from agent.intent_model import get_model
from agent.slots import find_duration
from agent.understand import understand
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trainer import train
from tools.agent_tools import ToolBox
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("time-limit"))


def test_a_run_stops_at_its_time_limit_and_ends_as_succeeded(home):
    """A limit of 0.03 s against 10,000 planned steps (each takes milliseconds or more): it stops thousands of
    steps early, by construction, with its checkpoint at the step it stopped and its encoder exported."""
    run = enqueue(home, tiny_config(**{"train.steps": 10_000, "train.max_minutes": 0.0005}))
    summary = train(run.run_dir)
    folder = RunFolder(run.run_dir)
    assert summary["status"] == "succeeded" and summary["steps"] < 5_000 and summary["total_steps"] == 10_000
    assert summary["message"].startswith("stopped at its time limit of 0.0005 min at step")
    assert summary["last_checkpoint_step"] == summary["steps"] and folder.encoder.exists()
    (event,) = [e for e in folder.read_events() if e["type"] == "time_limit"]
    assert event["step"] == summary["steps"]
    assert Registry(home).sync(run.id).status == "succeeded"


def test_without_a_limit_a_run_trains_every_step(home):
    run = enqueue(home, tiny_config(**{"train.steps": 12, "train.max_minutes": 600}))
    summary = train(run.run_dir)
    assert (summary["steps"], summary["message"]) == (12, "finished")


def test_a_launch_given_only_a_time_is_fitted_to_the_measured_speed(home):
    """A finished run measured this kind's speed here: the launch's steps are what 30 minutes hold at it, written
    into the launch's own arguments (so the run confirmed is the run queued)."""
    measured = enqueue(home, tiny_config(**{"train.steps": 12}))
    train(measured.run_dir)
    Registry(home).sync(measured.id)  # the queue does this when a run ends
    tb = ToolBox(home, on_launch=lambda _: None)
    pending = tb.launch_pretraining(method="simclr", data="digits", overrides={"train.max_minutes": 30,
                                                                                "backbone.name": "small_cnn"})
    est = pending["estimate"]
    steps = pending["pending_confirmation"]["args"]["steps"]
    assert steps == int(30 * 60 * est["img_per_s"] / est["batch_size"])
    row = next(v for v in pending["values"] if v["setting"] == "steps")
    assert row["value"] == steps and row["from"].startswith("fitted to 30 min at")
    assert "its length fills 30 min" in pending_text(pending)
    given = tb.launch_pretraining(method="simclr", data="digits", steps=40, overrides={"train.max_minutes": 30})
    assert given["pending_confirmation"]["args"]["steps"] == 40  # a length the user gave is kept
    assert "stops at 30 min if it has not finished its steps" in pending_text(given)
    sweep = tb.launch_sweep(method="simclr", data="digits", grid={"optim.lr": [1e-3, 3e-3]},
                            overrides={"train.max_minutes": 30, "backbone.name": "small_cnn"})
    assert sweep["pending_confirmation"]["args"]["steps"] == steps  # each run of a sweep the same way


def test_a_launch_with_a_time_and_no_measured_speed_says_so(tmp_path):
    tb = ToolBox(Home.resolve(tmp_path / "empty"), on_launch=lambda _: None)
    pending = tb.launch_pretraining(method="byol", data="digits", overrides={"train.max_minutes": 45})
    assert pending["pending_confirmation"]["args"]["steps"] is None
    assert "stops at 45 min if it has not finished; no earlier run" in pending_text(pending)


@pytest.mark.parametrize("text, minutes", [("for 2 hours", 120), ("for 90 minutes", 90), ("for an hour", 60),
                                           ("for half an hour", 30), ("a 3-hour run", 180), ("for 1.5h", 90),
                                           ("for another hour", 60), ("for another 2 hours", 120),
                                           ("a 4-hour vicreg run", 240),
                                           ("cap it at half an hour", 30), ("limit the run to an hour", 60),  # 56j
                                           ("at most an hour", 60),
                                           ("for half a minute", 0.5),  # 57b
                                           ("in 2 hours", None), ("after 40 epochs", None)])
def test_durations_in_words(text, minutes):
    assert find_duration(text) == minutes


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


def test_the_chat_carries_the_time_and_a_delay_is_still_a_schedule(model):
    r = understand("pretrain simclr on digits for 2 hours", {}, WORLD, model)
    assert (r.tool, r.args) == ("launch_pretraining", {"method": "simclr", "data": "digits",
                                                       "overrides": {"train.max_minutes": 120.0}})
    later = understand("pretrain simclr on digits in 2 hours", {}, WORLD, model)
    assert later.tool == "schedule_pretraining" and "overrides" not in later.args
    more = understand("train run 2 for 30 more minutes", {}, WORLD, model)
    assert (more.tool, more.args) == ("launch_pretraining", {"overrides": {"train.max_minutes": 30.0},
                                                             "parent_run": "2", "from_parent_weights": True})


def test_overnight_is_asked_about_and_each_option_reads_back(model):
    """"pretrain dino on shapes overnight" launched the default length without a word."""
    r = understand("pretrain dino on shapes overnight", {}, WORLD, model)
    assert r.kind == "clarify" and "overnight" in r.question
    length, later = (understand(o, {}, WORLD, model) for o in r.options)
    assert (length.tool, length.args["overrides"]) == ("launch_pretraining", {"train.max_minutes": 480.0})
    assert later.tool == "schedule_pretraining" and later.args["method"] == "dino"


def test_a_resumed_run_counts_the_time_it_already_trained(home):
    """The checkpoint keeps the seconds trained: a run that stopped at its limit and is resumed has none left, so it
    stops again after one step (it got a fresh budget before)."""
    run = enqueue(home, tiny_config(**{"train.steps": 10_000, "train.max_minutes": 0.0005}))
    first = train(run.run_dir)
    again = train(run.run_dir, resume=True)
    assert again["steps"] == first["steps"] + 1 and again["message"].startswith("stopped at its time limit")
