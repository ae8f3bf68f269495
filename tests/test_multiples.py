"""A follow-up's settings given as multiples of its parent's ("run 4 again with twice the batch size"): read by the
chat as `scale`, made values by the launch tool from what the parent used, shown with where they came from, and
refused where the parent's value is not known."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ssl_runtime.errors import SSLPilotError
from tools import runs
from tools.agent_tools import ToolBox
from tools.home import Home

PARENT = {"method": "simclr", "data": {"name": "digits"}, "train": {"steps": 30, "batch_size": 64},
          "method_args": {"temperature": 0.2}}


@pytest.fixture
def box(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    return ToolBox(home), runs.enqueue(home, PARENT)


def test_multiples_become_values_of_the_parent_s_settings(box):
    tools, parent = box
    p = tools.launch_pretraining(parent_run=parent.id, scale={"train.batch_size": 2, "train.steps": 0.5,
                                                              "method_args.temperature": 0.5})
    args = p["pending_confirmation"]["args"]
    assert (args["batch_size"], args["steps"], args["overrides"]["method_args.temperature"]) == (128, 15, 0.1)
    assert args["scale"] == {}  # what is confirmed is the values, so the yes launches what was shown
    rows = {r["setting"]: r["from"] for r in p["values"]}
    assert rows["batch size"] == f"2 x run {parent.id}'s 64" and rows["steps"] == f"0.5 x run {parent.id}'s 30"
    assert rows["method_args.temperature"] == f"0.5 x run {parent.id}'s 0.2"


def test_a_multiple_of_a_rate_the_parent_chooses_at_its_start_is_a_scale_of_the_same_rule(box):
    """Run 4 only queued: its rate is chosen when it starts (base rate x batch/256, the batch perhaps lowered for
    small data), so "half run 4's lr" is optim.lr_scale 0.5 of that rule, which each run applies at its own start.
    It was refused."""
    tools, parent = box
    p = tools.launch_pretraining(parent_run=parent.id, scale={"optim.lr": 0.5})
    args = p["pending_confirmation"]["args"]
    assert args["overrides"] == {"optim.lr_scale": 0.5} and args["lr"] is None
    rows = {r["setting"]: (r["value"], r["from"]) for r in p["values"]}
    assert rows["optim.lr_scale"] == (0.5, f"0.5 x run {parent.id}'s rate, chosen when each run starts")
    assert rows["learning rate"][0] == "0.5 x method default x batch/256"
    child = tools.execute_confirmed("launch_pretraining", args)["run_id"]
    halved = runs.enqueue(tools.home, {**PARENT, "optim": {"lr_scale": 4.0}})  # a parent scaled already
    args = tools.launch_pretraining(parent_run=halved.id, scale={"optim.lr": 0.5})["pending_confirmation"]["args"]
    assert args["overrides"] == {"optim.lr_scale": 2.0}
    assert child


def test_the_rate_scale_multiplies_the_linear_scaling_rule_unless_a_rate_is_set():
    from torch import nn

    from ssl_runtime.config import OptimConfig
    from ssl_runtime.optim import build_optimizer

    model = nn.Linear(2, 2)
    assert build_optimizer(model, OptimConfig(lr_scale=2.0), 1e-3, 0.0, 512)[1] == pytest.approx(4e-3)
    assert build_optimizer(model, OptimConfig(), 1e-3, 0.0, 512)[1] == pytest.approx(2e-3)
    assert build_optimizer(model, OptimConfig(lr=0.1, lr_scale=2.0), 1e-3, 0.0, 512)[1] == 0.1
    with pytest.raises(ValidationError, match="lr_scale"):
        OptimConfig(lr_scale=0)


def test_a_multiple_with_no_run_is_refused(box):
    tools, parent = box
    with pytest.raises(SSLPilotError) as alone:
        tools.launch_pretraining(method="simclr", data="digits", scale={"train.batch_size": 2})
    assert alone.value.field == "scale"


def test_only_some_settings_and_sensible_factors_are_taken_as_multiples(box):
    tools, parent = box
    with pytest.raises(ValidationError, match="cannot be given as a multiple"):
        tools.launch_pretraining(parent_run=parent.id, scale={"augment.strength": 2})
    with pytest.raises(ValidationError, match="not a factor"):
        tools.launch_pretraining(parent_run=parent.id, scale={"train.batch_size": 0})


@pytest.mark.parametrize(("message", "scale"), [
    ("retry run 1 with twice the batch size", {"train.batch_size": 2.0}),
    ("run 5 again with half the learning rate", {"optim.lr": 0.5}),
    ("relaunch run 1 with 3x the lr and double the steps", {"optim.lr": 3.0, "train.steps": 2.0}),
    ("train run 1 twice as long", {"train.steps": 2.0}),  # was a forecast
    ("rerun run 1 for twice as many steps", {"train.steps": 2.0}),  # was run 1 again, the length dropped
    ("train run 1 for 3 times as long", {"train.steps": 3.0}),  # was a question about runs 1 and 3
    ("run 5 again for 2x as many epochs", {"train.epochs": 2.0}),
    ("rerun run 1 with three times as many steps", {"train.steps": 3.0}),  # launched at run 1's own length
    ("retry run 1 with four times the batch size", {"train.batch_size": 4.0}),
])
def test_the_chat_reads_multiples_of_the_run_it_follows(message, scale):
    from understanding_eval import WORLD

    from agent.intent_model import get_model
    from agent.understand import understand

    r = understand(message, {}, WORLD, get_model())
    assert r.tool == "launch_pretraining" and r.args["scale"] == scale


def test_a_multiple_of_the_default_or_with_no_run_is_still_asked():
    from understanding_eval import WORLD

    from agent.intent_model import get_model
    from agent.understand import understand

    for message in ("retry run 1 with twice the default lr", "pretrain simclr on digits with twice the batch size"):
        assert understand(message, {}, WORLD, get_model()).kind == "clarify"


def test_a_sweep_or_a_schedule_takes_multiples_as_values_too(box):
    tools, parent = box
    sweep = tools.launch_sweep(parent_run=parent.id, scale={"train.batch_size": 2}, grid={"optim.lr": [0.1, 0.2]})
    assert sweep["pending_confirmation"]["args"]["batch_size"] == 128 and sweep["runs"] == 2
    later = tools.schedule_pretraining(parent_run=parent.id, scale={"train.steps": 2}, at="2030-01-01T02:00")
    assert later["pending_confirmation"]["args"]["steps"] == 60


def test_a_recommended_value_is_shown_once_in_the_proposal(box):
    """A follow-up applying a recommended lr listed it twice ("learning rate: 0.0003" and "optim.lr: 0.0003")."""
    tools, parent = box
    rec = {"run_id": parent.id, "category": "model", "change": {"optim.lr": 0.0003, "train.keep_checkpoints": 3}}
    p = tools.launch_pretraining(parent_run=parent.id, recommendation=rec)
    keyed = [v for v in p["values"] if v.get("key") == "optim.lr"]
    assert [(v["setting"], v["value"], v["from"]) for v in keyed] == [
        ("learning rate", 0.0003, f"recommendation for run {parent.id}")]
    assert any(v["setting"] == "train.keep_checkpoints" and v["value"] == 3 for v in p["values"])


@pytest.mark.parametrize(("message", "context", "asked_about"), [
    ("train run 1 longer", {}, "1"),
    ("train it for longer", {"focus_run": "5"}, "5"),
])
def test_training_longer_with_no_amount_is_asked_how_much(message, context, asked_about):
    from understanding_eval import WORLD

    from agent.intent_model import get_model
    from agent.understand import understand

    r = understand(message, context, WORLD, get_model())
    assert r.kind == "clarify" and f"train run {asked_about} twice as long" in r.options
    assert understand(f"should I train run {asked_about} longer?", {}, WORLD, get_model()).tool == "forecast_run"
