"""Continued pretraining: a new run that starts from another run's final weights (train.init_from), with its own
optimiser and schedule; asked for in the chat as "train run 2 for 100 more steps"."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import tiny_config
from test_diagnosis_synthetic import make_run, trace
from understanding_eval import WORLD

from agent.intent_model import get_model
from agent.understand import understand
from ssl_runtime.errors import CheckpointError, ConfigError, SSLPilotError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trainer import train
from tools.agent_tools import ToolBox
from tools.diagnosis import diagnose
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue, validate


def _weights(run_dir) -> dict[str, torch.Tensor]:
    """The trainable tensors of a run's last checkpoint (BatchNorm's running statistics move without learning)."""
    state = torch.load(RunFolder(run_dir).last_checkpoint, weights_only=False)["model"]
    return {k: v for k, v in state.items() if v.is_floating_point() and "running_" not in k}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = Home.resolve(tmp_path_factory.mktemp("continue"))
    run = enqueue(home, tiny_config())
    train(run.run_dir)
    return home, Registry(home).sync(run.id)


def test_a_run_starts_from_the_weights_it_is_given(trained):
    """At a rate of 1e-12 the continued run cannot move its weights: they are the parent's to 1e-6 (by
    construction), while the config without init_from (at another seed) starts from its own random init, far from
    them (measured: 0.77 at the largest, 77x the 1e-2 bar)."""
    home, parent = trained
    start = str(RunFolder(parent.run_dir).last_checkpoint)
    child = enqueue(home, tiny_config(**{"train.steps": 2, "optim.lr": 1e-12, "train.init_from": start}))
    fresh = enqueue(home, tiny_config(**{"train.steps": 2, "optim.lr": 1e-12, "train.seed": 1}))
    train(child.run_dir)
    train(fresh.run_dir)
    a, b, c = _weights(parent.run_dir), _weights(child.run_dir), _weights(fresh.run_dir)
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert max((a[k] - c[k]).abs().max().item() for k in a) > 1e-2
    (event,) = [e for e in RunFolder(child.run_dir).read_events() if e["type"] == "init_from"]
    assert event["step"] == 12 and event["path"] == start


def test_a_start_that_does_not_fit_is_a_clear_error(trained, tmp_path):
    home, parent = trained
    start = str(RunFolder(parent.run_dir).last_checkpoint)
    with pytest.raises(ConfigError, match="train.init_from: no checkpoint"):
        validate(tiny_config(**{"train.init_from": str(tmp_path / "missing.pt")}), home=home)
    other = enqueue(home, tiny_config("byol", **{"train.steps": 2, "train.init_from": start}))
    with pytest.raises(CheckpointError, match="written by method 'simclr'"):
        train(other.run_dir)


def test_a_head_whose_shape_changed_starts_fresh_and_the_backbone_must_fit(trained):
    """"Continue run 3 with a 64-d projection" failed at the start ("checkpoint does not fit the model"): the
    backbone continues, the projector whose shape changed starts fresh and the event says so (transformers'
    ignore_mismatched_sizes); a backbone of another width is still the clear error."""
    home, parent = trained
    start = str(RunFolder(parent.run_dir).last_checkpoint)
    child = enqueue(home, tiny_config(**{"train.steps": 2, "optim.lr": 1e-12, "train.init_from": start,
                                         "method_args.proj_dim": 16}))
    train(child.run_dir)
    a, b = _weights(parent.run_dir), _weights(child.run_dir)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a if k.startswith("backbone."))
    (event,) = [e for e in RunFolder(child.run_dir).read_events() if e["type"] == "init_from"]
    assert event["fresh"] and all(not m.startswith("backbone") for m in event["fresh"])
    assert "started fresh (their shape changed)" in event["message"]
    wider = enqueue(home, tiny_config(**{"train.steps": 2, "train.init_from": start, "backbone.width": 2.0}))
    with pytest.raises(CheckpointError, match="checkpoint does not fit the model"):
        train(wider.run_dir)


def test_the_launch_tool_continues_a_finished_run_and_says_so(trained):
    home, parent = trained
    tb = ToolBox(home, on_launch=lambda _: None)
    pending = tb.launch_pretraining(parent_run=parent.id, steps=3, from_parent_weights=True)
    assert pending["values"][0]["setting"] == "starts from" and f"run {parent.id}'s final weights" in \
        pending["values"][0]["value"]
    done = tb.execute_confirmed("launch_pretraining", pending["pending_confirmation"]["args"])
    child = Registry(home).get(done["run_id"])
    config = json.loads(child.config_json)
    assert config["train"]["init_from"] == str(RunFolder(parent.run_dir).last_checkpoint)
    assert config["train"]["steps"] == 3 and child.parent_id == parent.id
    from agent.answers import tool_result_text

    shown = tool_result_text("get_run", tb.get_run(child.id))
    assert f"- continued from run {parent.id}'s weights (`{RunFolder(parent.run_dir).last_checkpoint}`)" in shown
    again = tb.launch_pretraining(parent_run=child.id, steps=3)  # a follow-up of the continued run starts afresh
    assert again["resolved"]["train"]["init_from"] is None
    with pytest.raises(SSLPilotError, match="still queued"):
        tb.launch_pretraining(parent_run=child.id, steps=3, from_parent_weights=True)


def test_a_flat_loss_after_a_continued_start_is_no_failure_to_learn(tmp_path):
    """The same flat trace (0.1% between thirds, 5x under the 0.5% bar) reads not_learning from scratch and not
    when the run continued from trained weights: there it is where the parent had already got to."""
    flat = trace(loss=(22.0, 21.98))
    scratch = make_run(tmp_path, "vicreg", rows=flat, name="scratch", status="running")
    assert diagnose(scratch).verdict == "not_learning"
    continued = make_run(tmp_path, "vicreg", {"train.init_from": "/runs/7/checkpoints/last.pt"}, rows=flat,
                         name="continued", status="running")
    assert diagnose(continued).verdict != "not_learning", diagnose(continued).to_dict()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


@pytest.mark.parametrize("text, args", [
    ("continue training run 2 for 100 more steps", {"steps": 100}),
    ("train run 1 for another 2 epochs", {"epochs": 2}),
    ("extend run 5 by 500 steps", {"steps": 500}),
    ("train run 4 for 2 more epochs with lr 0.01", {"epochs": 2, "lr": 0.01}),
])
def test_more_training_of_a_run_continues_it(model, text, args):
    r = understand(text, {}, WORLD, model)
    rid = text.split("run ")[1].split()[0]
    assert (r.kind, r.tool, r.args) == ("tool", "launch_pretraining",
                                        {**args, "parent_run": rid, "from_parent_weights": True})


def test_a_length_for_a_resume_offers_the_three_readings(model):
    r = understand("resume run 4 for 200 steps", {}, WORLD, model)
    assert r.kind == "clarify" and r.options == ["train run 4 for 200 more steps",
                                                 "launch a follow-up of run 4 for 200 steps", "resume run 4"]
    back = understand(r.options[0], {}, WORLD, model)
    assert back.args == {"steps": 200, "parent_run": "4", "from_parent_weights": True}


def test_a_forecast_that_says_train_longer_offers_the_continuation(model):
    from agent.answers import forecast_text

    answer = forecast_text({"run_id": "5", "verdict": "train_longer", "reason": "the band clears the bar",
                            "metric": "health/lidar", "current": 20.0, "steps": 300,
                            "at": {"2x": {"steps": 600, "value": 24.0, "low": 22.0, "high": 26.0}}})
    offered = answer.split('"')[1]
    assert offered == "train run 5 for 300 more steps"
    r = understand(offered, {}, WORLD, model)
    assert r.args == {"steps": 300, "parent_run": "5", "from_parent_weights": True}


@pytest.mark.parametrize("text", ["should we give run 4 300 more steps?", "would 2 more epochs pay off for run 1?",
                                  "is it worth training run 5 for another 500 steps?",
                                  "why did run 2 collapse after 100 more steps?"])
def test_advice_about_training_further_is_not_a_launch(model, text):
    """Asking whether more training pays wants a forecast: the words do not decide a continuation here (the readings
    do; these read as forecasts today, and whatever they read as, no launch is proposed)."""
    r = understand(text, {}, WORLD, model)
    assert r.tool not in ("launch_pretraining", "launch_sweep", "schedule_pretraining"), (r.tool, r.args)
