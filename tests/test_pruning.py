"""A sweep that stops its weak runs early (successive halving, ASHA): judged at rungs on constructed metric rows, in
the order the runs reach them; a stop is a step rule in the run's folder, every judgement an event, none made twice.
The arithmetic and the bookkeeping are under test, not what training learns."""

from __future__ import annotations

import json

import pytest
from conftest import tiny_config

from ssl_runtime.run_folder import RunFolder
from ssl_runtime.stop_rules import read_added
from tools import runs
from tools.agent_tools import ToolBox
from tools.home import Home
from tools.pruning import Policy, cutoff, prune_sweeps, value_at
from tools.registry import Registry


def test_rungs_are_eta_apart_from_the_first_and_end_before_the_run_does():
    assert Policy("monitor/knn_acc", 3, None).rungs(900) == [100, 300]
    assert Policy("monitor/knn_acc", 2, 50).rungs(900) == [50, 100, 200, 400, 800]
    assert Policy("monitor/knn_acc", 3, None).rungs(90, every=50) == [50]  # no rung before the metric's first value
    assert Policy.of({"monitor": {"prune_metric": None}}) is None


def test_the_cut_is_the_best_1_over_eta_of_the_runs_before_and_the_loss_is_cut_from_below():
    rising, falling = Policy("monitor/knn_acc", 3, None), Policy("loss", 3, None)
    assert cutoff([], rising) is None and cutoff([0.5], rising) is None  # fewer than eta at the rung: no cut
    assert cutoff([0.5, 0.8], rising) == pytest.approx(0.5 + 0.3 * 2 / 3)
    assert cutoff([2.0, 5.0], falling) == pytest.approx(2.0 + 3.0 / 3)
    assert rising.worse(0.6, 0.7) and not rising.worse(0.7, 0.7)
    assert falling.worse(3.5, 3.0) and not falling.worse(2.5, 3.0)
    rows = [{"step": 10, "loss": 1.0}, {"step": 50, "monitor/knn_acc": 0.4}, {"step": 100, "monitor/knn_acc": 0.6}]
    assert value_at(rows, "monitor/knn_acc", 20) == 0.4 and value_at(rows, "monitor/knn_acc", 101) is None


@pytest.fixture
def sweep(tmp_path, monkeypatch):
    """Four running runs of one pruned sweep (90 steps, rung at step 10 with eta 3 and min_steps 10), one running
    run of a sweep without pruning, and a lone run; no worker runs, the rows are written by the test."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    base = tiny_config(**{"train.steps": 90, "train.health_every": 10, "monitor.prune_metric": "monitor/knn_acc",
                          "monitor.prune_min_steps": 10})
    made = runs.sweep(home, base, {"optim.lr": [0.1, 0.2, 0.3, 0.4]}, experiment="lrs")
    plain = runs.sweep(home, tiny_config(**{"train.steps": 90}), {"optim.lr": [0.1, 0.2]}, experiment="plain")
    reg = Registry(home)
    for run in [*made, *plain]:
        RunFolder(run.run_dir).set_status("running", "running", total_steps=90)
        reg.sync(run.id)
    return home, reg, [r.id for r in made], [r.id for r in plain]


def reach(reg: Registry, rid: str, step: int, knn: float) -> None:
    RunFolder(reg.get(rid).run_dir).log_metrics({"step": step, "loss": 5.0, "monitor/knn_acc": knn})
    reg.sync(rid)


def test_runs_are_judged_as_they_reach_a_rung_and_the_weak_ones_stopped_once(sweep):
    home, reg, (a, b, c, d), plain = sweep
    reach(reg, a, 10, 0.50)
    assert prune_sweeps(reg) == []  # the first at the rung goes on
    reach(reg, b, 10, 0.30)
    reach(reg, c, 10, 0.40)
    assert prune_sweeps(reg) == [c]  # b: below a, but the second of eta = 3 goes on; c: 0.40 < the cut of [0.5, 0.3]
    folder = RunFolder(reg.get(c).run_dir)
    assert [str(r) for r in read_added(folder).rules] == ["step>=10"]
    events = {e["type"]: e for e in folder.read_events() if e["type"] in ("rung", "pruned")}
    assert events["rung"]["kept"] is False and events["rung"]["cutoff"] == pytest.approx(0.3 + 0.2 * 2 / 3)
    assert "outside the best 1/3" in events["pruned"]["message"]
    reach(reg, d, 10, 0.46)  # above the cut of [0.5, 0.3, 0.4]: their 2/3 quantile, 0.433
    assert prune_sweeps(reg) == [] and prune_sweeps(Registry(home)) == []  # no run judged twice, after a restart too
    rungs = [e for rid in (a, b, c, d) for e in RunFolder(reg.get(rid).run_dir).read_events() if e["type"] == "rung"]
    assert sorted((e["value"], e["kept"]) for e in rungs) == [(0.3, True), (0.4, False), (0.46, True), (0.5, True)]
    for rid in plain:  # a sweep without pruning, whatever it logs, is never judged
        reach(reg, rid, 10, 0.0)
    assert prune_sweeps(reg) == [] and not read_added(RunFolder(reg.get(plain[0]).run_dir)).rules


def test_a_run_that_does_not_log_the_metric_is_not_judged(sweep):
    home, reg, (a, b, *_), _ = sweep
    reach(reg, a, 10, 0.9)
    for step in (10, 20, 30):
        RunFolder(reg.get(b).run_dir).log_metrics({"step": step, "loss": 3.0})  # no labels: no kNN monitor
    reg.sync(b)
    assert prune_sweeps(reg) == []
    events = RunFolder(reg.get(b).run_dir).read_events()
    assert not [e for e in events if e["type"] == "rung"]
    said = [e for e in events if e.get("kind") == "unjudged"]  # not silently: why, and what to name instead
    assert len(said) == 1 and "logged no monitor/knn_acc by step 20" in said[0]["message"]
    assert "needs images with labels" in said[0]["message"] and "monitor.prune_metric" in said[0]["message"]
    assert prune_sweeps(reg) == [] and len([e for e in RunFolder(reg.get(b).run_dir).read_events()
                                            if e.get("kind") == "unjudged"]) == 1  # said once
    c = sweep[2][2]
    RunFolder(reg.get(c).run_dir).log_metrics({"step": 10, "loss": 3.0})  # not yet past the rung's next value
    reg.sync(c)
    assert prune_sweeps(reg) == [] and not [e for e in RunFolder(reg.get(c).run_dir).read_events()
                                            if e.get("kind") == "unjudged"]


def test_the_sweep_tool_writes_the_policy_into_each_run_and_says_it_before_the_yes(tmp_path, monkeypatch):
    from agent.answers import tool_result_text

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    box = ToolBox(home)
    proposal = box.launch_sweep(method="simclr", data="digits", steps=900, grid={"optim.lr": [0.01, 0.1, 0.3]},
                                prune=True, prune_eta=3)
    assert proposal["prune"] == {"metric": "monitor/knn_acc", "eta": 3, "rungs": [100, 300]}
    assert "early stopping (successive halving): each run is judged on `monitor/knn_acc` at steps 100, 300" in \
        tool_result_text("launch_sweep", proposal)
    made = box.execute_confirmed("launch_sweep", proposal["pending_confirmation"]["args"])
    monitor = json.loads(Registry(home).get(made["run_ids"][0]).config_json)["monitor"]
    assert (monitor["prune_metric"], monitor["prune_eta"]) == ("monitor/knn_acc", 3)
    with pytest.raises(Exception) as one:
        box.launch_sweep(method="simclr", data="digits", grid={"optim.lr": [0.1]}, prune=True)
    assert getattr(one.value, "field", None) == "prune"
    with pytest.raises(ValueError):
        box.launch_sweep(method="simclr", data="digits", grid={"optim.lr": [0.1, 0.2]}, prune=True,
                         prune_metric="not a metric!")


def test_a_sweep_whose_runs_will_never_log_the_knn_monitor_is_refused_before_the_yes(tmp_path, monkeypatch):
    """An unlabelled folder, the monitor turned off: the default metric would never be logged, so no run would ever
    be judged; said with the field and the fix, where a labelled folder and a named metric go through."""
    from PIL import Image

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    box = ToolBox(Home.resolve(tmp_path / "home"))
    flat, labelled = tmp_path / "flat", tmp_path / "labelled"
    for i in range(40):
        for folder in (flat, labelled / ("a" if i % 2 else "b")):
            folder.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (12, 12), (6 * i, 0, 0)).save(folder / f"{i}.png")
    grid = {"optim.lr": [0.1, 0.2]}
    for kw, said in [({"data": str(flat)}, "have no labels"),
                     ({"data": "digits", "overrides": {"eval.knn_monitor_images": 0}}, "kNN monitor is off")]:
        with pytest.raises(Exception) as refused:
            box.launch_sweep(method="simclr", grid=grid, prune=True, batch_size=8, **kw)
        assert getattr(refused.value, "field", None) == "prune_metric" and said in str(refused.value)
        assert "prune_metric='loss'" in refused.value.fix
    assert box.launch_sweep(method="simclr", data=str(labelled), grid=grid, prune=True, batch_size=8)["prune"]["metric"] == \
        "monitor/knn_acc"
    assert box.launch_sweep(method="simclr", data=str(flat), grid=grid, prune=True, prune_metric="loss", batch_size=8)[
        "prune"][
        "metric"] == "loss"


def _reading(text: str):
    from understanding_eval import WORLD

    from agent.intent_model import get_model
    from agent.understand import understand

    return understand(text, {}, WORLD, get_model())


@pytest.mark.parametrize("text, args", [
    ("sweep simclr lr 0.1 and 0.3 on shapes with hyperband", {"prune": True}),
    ("sweep byol lr 0.01 and 0.03 on digits, kill the weak runs early", {"prune": True}),
    ("sweep simclr lr 0.1 and 0.3 on digits with successive halving by the loss, eta 4",
     {"prune": True, "prune_metric": "loss", "prune_eta": 4}),
    ("sweep simclr lr 0.1 and 0.3 on digits, with early stopping by knn accuracy",
     {"prune": True, "prune_metric": "monitor/knn_acc"}),
])
def test_the_chat_reads_a_sweep_s_early_stopping(text, args):
    r = _reading(text)
    assert (r.kind, r.tool) == ("tool", "launch_sweep") and {k: r.args.get(k) for k in args} == args


def test_early_stopping_on_one_run_is_its_plateau_and_pruning_it_is_asked_about():
    r = _reading("pretrain simclr on digits with early stopping")
    assert r.tool == "launch_pretraining" and r.args["overrides"]["monitor.stop_when"] == ["loss stops improving"]
    r = _reading("pretrain simclr on digits with hyperband")
    assert r.kind == "clarify" and "compares the runs of a sweep" in r.question
    r = _reading("sweep simclr lr 0.1 and 0.3 on digits, prune weak runs by probe accuracy")
    assert r.kind == "clarify" and "measured when a run ends" in r.question
    assert _reading("delete the worst runs").kind == "refuse"  # not a sweep: the delete rule still holds


def test_the_run_s_message_says_who_added_the_rule_that_stopped_it(tmp_path):
    from ssl_runtime import stop_rules
    from ssl_runtime.stop_rules import StopRule, StopRules

    folder = RunFolder(tmp_path)
    folder.path.mkdir(parents=True, exist_ok=True)
    stop_rules.add(folder, StopRule("step", ">=", 20.0), by="successive halving")
    rules = StopRules(folder, ["loss<0.1"], steps_per_epoch=10)
    met = rules.first_met({"step": 30, "loss": 1.0}, {"step": 30, "epoch": 3.0, "minutes": 0.1})
    assert met is not None and str(met[0]) == "step>=20"
    assert rules.describe(*met).endswith(", added by successive halving")
    assert "added by" not in rules.describe(StopRule("loss", "<", 0.1), 0.05)  # the config's own rule
