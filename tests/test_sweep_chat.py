"""Sweeps asked for in words ("lr 1e-3, 3e-3 and 1e-2", "temperature 0.1 or 0.2", "3 seeds") are one confirmation
for every combination, never a single run with the other values dropped."""

import json

import pytest
from conftest import tiny_config
from understanding_eval import WORLD

from agent.fidelity import dropped
from agent.grid_words import find_grid
from agent.intent_model import get_model
from agent.run_refs import find_runs
from agent.session import Agent
from agent.understand import understand
from ssl_runtime.catalogue import BUILTIN_DATASETS
from tools.home import Home
from tools.registry import Registry


@pytest.mark.parametrize("text, grid", [
    ("lr 1e-3, 3e-3 and 1e-2", {"optim.lr": [0.001, 0.003, 0.01]}),
    ("temperature 0.1 or 0.2.", {"method_args.temperature": [0.1, 0.2]}),
    ("ema momentum 0.99 or 0.996, 20 epochs each", {"method_args.ema_momentum": [0.99, 0.996]}),
    ("batch sizes 64, 128 and 256", {"train.batch_size": [64, 128, 256]}),
    ("lr 0.001/0.003", {"optim.lr": [0.001, 0.003]}),
    ("with three seeds", {"train.seed": [0, 1, 2]}),
    ("optim.lr=1e-3,3e-3 and temperature=0.1,0.2", {"optim.lr": [0.001, 0.003],
                                                    "method_args.temperature": [0.1, 0.2]}),
    ("the temperature of simclr over 0.1, 0.2 and 0.5", {"method_args.temperature": [0.1, 0.2, 0.5]}),
    ("lr across 1e-3 and 3e-3", {"optim.lr": [0.001, 0.003]}),
    ("the lr of simclr on digits over 1e-3, 3e-3 and 1e-2", {"optim.lr": [0.001, 0.003, 0.01]}),  # asked about
    ("learning rates between 0.001 and 0.01", {}),  # a range, not two values: asked about
    ("lr 0.003 for 20 epochs", {}),  # one value is no sweep
    ("compare runs 1, 2 and 3", {}),
    ("sweep dino on digits over 2 and 4 local crops", {"augment.n_local_crops": [2, 4]}),  # 56g: was asked about
    ("dino with 6 local crops and batch 64 and 128", {"train.batch_size": [64, 128]}),  # the 6 is one value
    ("simclr with batch 64, then the same with batch 128", {"train.batch_size": [64, 128]}),  # 56t: was asked
    # the run's length, value first (session 58's notes: asked about)
    ("pretrain simclr on digits for 20 and 40 steps", {"train.steps": [20, 40]}),
    ("sweep byol for 1, 2 or 4 epochs", {"train.epochs": [1, 2, 4]}),
    ("simclr for 20 steps and another for 40 steps", {"train.steps": [20, 40]}),
    ("temperature 0.1 and 0.2, 30 and 60 steps", {"method_args.temperature": [0.1, 0.2], "train.steps": [30, 60]}),
    ("hidden size 128 or 256, and 20 or 40 steps", {"train.steps": [20, 40]}),  # ", and" starts another list
    ("batch 64 and 20 steps", {}),  # the 64 is the batch's
    ("dino on digits on gpu 1, 30 epochs", {}), ("dino on gpu 1 and 30 epochs", {}),  # the 1 is the GPU's
    ("simclr 20, 40, and 80 steps", {"train.steps": [20, 40, 80]}),
    ("try dino on shapes with 20 steps and then 40 steps", {"train.steps": [20, 40]}),  # held-out set 59d
    ("run vicreg on shapes for 40 steps, then also for 80 steps", {"train.steps": [40, 80]}),  # held-out set 59h
    ("pretrain simclr for 20 steps on digits, and another for 30 steps", {"train.steps": [20, 30]}),  # 59j
    ("train simclr on digits for 20 steps at 1e-3 and 1e-2 learning rates", {"optim.lr": [0.001, 0.01]}),  # 59l
    ("batch 64 and 0.01 lr", {}),  # one value each
    ("batch 64 and 20 or 40 steps", {}),  # a batch of 20, or a length of 20? asked (it swept batches of 64 and 20)
    ("lr 0.1 and 0.3 and 20 steps", {"optim.lr": [0.1, 0.3]}),
    ("5 and 10 epochs of warmup", {}),  # a warm-up's length, not the run's
])
def test_what_a_sweep_varies(text, grid):
    assert find_grid(text) == grid


@pytest.mark.parametrize("text, grid", [
    ("sweep simclr temperature from 0.1 to 0.5 in steps of 0.1", {"method_args.temperature": [0.1, 0.2, 0.3, 0.4, 0.5]}),
    ("try 5 learning rates between 1e-4 and 1e-2 for vicreg",  # a decade or more: a log scale
     {"optim.lr": [0.0001, 0.000316, 0.001, 0.00316, 0.01]}),
    ("3 temperatures between 0.1 and 0.3 for simclr", {"method_args.temperature": [0.1, 0.2, 0.3]}),  # linear
    ("sweep the batch size of byol on digits over 4 values from 64 to 512", {"train.batch_size": [64, 128, 256, 512]}),
    ("sweep simclr temperature from 0.1 to 0.5", {}),  # no step, no count: asked, not guessed
    ("try 40 learning rates between 1e-5 and 1e-1 for simclr", {}),  # more than MAX_SPREAD
    ("pretrain simclr for 10 epochs between 9 and 11 pm", {}),  # a time, not a setting's range
])
def test_a_range_of_values_is_spread_by_its_step_or_its_count(text, grid):
    assert find_grid(text) == grid


def test_a_sweeps_values_name_no_runs():
    assert find_runs("simsiam on digits, seeds 0, 1, 2 and 3", WORLD).ids == []


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


def test_a_sweep_is_one_call_that_drops_nothing(model, tmp_path):
    text = "sweep the learning rate 1e-3 and 3e-3 for simclr on digits, 20 epochs each, with seed 4"
    r = understand(text, {}, WORLD, model, cwd=tmp_path)
    assert (r.kind, r.tool) == ("tool", "launch_sweep")
    assert r.args == {"method": "simclr", "data": "digits", "epochs": 20, "overrides": {"train.seed": 4},
                      "grid": {"optim.lr": [0.001, 0.003]}}
    assert dropped(text, r.tool, r.args, WORLD) == []


@pytest.mark.parametrize("text, grid", [
    ("sweep simclr's learning rate: 1e-3, 3e-3, 1e-2", {"optim.lr": [0.001, 0.003, 0.01]}),  # a literature search?
    ("sweep the lr of simclr on digits over 1e-3, 3e-3 and 1e-2 for 100 steps", {"optim.lr": [0.001, 0.003, 0.01]}),
    ("grid search byol batch size 64, 128, 256 on shapes", {"train.batch_size": [64, 128, 256]}),
    ("mae on shapes, sweep mask ratio from 0.5 to 0.8 in steps of 0.1",  # the step lands with its range
     {"method_args.mask_ratio": [0.5, 0.6, 0.7, 0.8]})])
def test_a_sweep_asked_for_by_its_verb_is_a_sweep(text, grid, model, tmp_path):
    r = understand(text, {}, WORLD, model, cwd=tmp_path)
    assert (r.kind, r.tool, r.args["grid"]) == ("tool", "launch_sweep", grid)


def test_the_chat_confirms_changes_and_queues_a_sweep(tmp_path):
    home = Home.resolve(tmp_path / "home")
    started: list[str] = []
    agent = Agent(home, on_launch=started.append)
    out = agent.chat("try simclr on digits with temperature 0.1 and 0.5 for 5 steps", "s")
    assert out["pending_confirmation"]["tool"] == "launch_sweep" and "**2 runs**" in out["answer"]
    out = agent.chat("and lr 1e-3, 3e-3 as well", "s")  # a change to the pending sweep: it grows
    args = out["pending_confirmation"]["args"]
    assert args["grid"] == {"method_args.temperature": [0.1, 0.5], "optim.lr": [0.001, 0.003]}
    assert args["steps"] == 5 and "**4 runs**" in out["answer"]
    # the swept settings show their values, not the default they replace
    assert "- learning rate: `swept: 0.001, 0.003` (you)" in out["answer"], out["answer"]
    assert "method_args.temperature: `swept: 0.1, 0.5` (you)" in out["answer"]
    assert "temperature=0.2" not in out["answer"]
    assert Registry(home).list() == []  # nothing before the yes
    out = agent.chat("yes", "s")
    runs = Registry(home).list()
    assert len(runs) == 4 and sorted(started) == sorted(r.id for r in runs)
    configs = [json.loads(r.config_json) for r in runs]
    assert {(c["optim"]["lr"], c["method_args"]["temperature"]) for c in configs} == {
        (lr, t) for lr in (0.001, 0.003) for t in (0.1, 0.5)}
    assert "Queued sweep" in out["answer"] and "rank the sweep-" in out["answer"]  # the way back to its ranking


def test_a_sweep_on_a_cluster_backend_is_refused_not_run_here(tmp_path):
    from tools.agent_tools import ToolBox

    box = ToolBox(Home.resolve(tmp_path / "home"))
    out = box.langchain_tools()[[t.name for t in box.langchain_tools()].index("launch_sweep")].invoke(
        {"method": "simclr", "data": "digits", "grid": {"optim.lr": [0.001, 0.003]}, "backend": "hpc"})
    assert "error" in out and "this machine's queue" in out["error"]


def test_a_sweep_of_this_home_repeated_or_extended_in_words(model, tmp_path):
    """"repeat the lrs sweep with byol", "add lr 0.01 to the lrs sweep": launch_sweep(like_sweep=...), with the
    changes said; the tool writes it out (base run, grid, sweep name) before the yes. An extension adds only new
    values, into the same sweep; values it already tried are refused. Runs of a sweep are never "placed" questions."""
    from agent.run_refs import RunInfo, World
    from tools.runs import sweep

    world = World([RunInfo(i, "simclr", "digits", "succeeded", "healthy", experiment="lrs") for i in ("1", "2")])
    read = {text: understand(text, {}, world, model, cwd=tmp_path) for text in (
        "repeat the lrs sweep with byol", "run the same sweep on shapes for 500 steps", "add lr 0.01 to the lrs sweep",
        "extend the sweep with temperature 0.1 and 0.5", "extend the sweep", "what did the sweep find?")}
    assert read["repeat the lrs sweep with byol"].args == {"method": "byol", "like_sweep": "lrs"}
    assert read["run the same sweep on shapes for 500 steps"].args == {"data": "shapes", "steps": 500, "like_sweep": "lrs"}
    assert read["add lr 0.01 to the lrs sweep"].args == {"grid": {"optim.lr": [0.01]}, "like_sweep": "lrs",
                                                         "extend": True}
    assert read["extend the sweep with temperature 0.1 and 0.5"].args["grid"] == {
        "method_args.temperature": [0.1, 0.5]}
    assert read["extend the sweep"].kind == "clarify" and "Which values should I add" in read["extend the sweep"].question
    assert read["what did the sweep find?"].tool == "rank_runs"  # a question about it launches nothing
    for text, r in read.items():
        assert r.kind != "tool" or dropped(text, r.tool, r.args, world) == [], text

    home = Home.resolve(tmp_path / "home")
    made = sweep(home, tiny_config("simclr"), {"optim.lr": [1e-3, 3e-3]}, experiment="lrs")
    started: list[str] = []
    agent = Agent(home, on_launch=started.append)
    out = agent.chat("add lr 0.01 to the lrs sweep", "x")
    args = out["pending_confirmation"]["args"]
    assert (args["grid"], args["experiment"], args["parent_run"]) == ({"optim.lr": [0.01]}, "lrs", made[0].id)
    assert out["answer"].startswith("Add **1 run** to sweep `lrs`"), out["answer"]
    out = agent.chat("make it 40 steps", "x")  # changed while it waits: still an addition to the sweep
    assert out["pending_confirmation"]["args"]["steps"] == 40 and out["answer"].startswith("Add **1 run** to sweep")
    agent.chat("yes", "x")
    swept = Registry(home).list(experiment="lrs")
    assert len(swept) == 3 and started == [max(r.id for r in swept)]
    assert sorted(json.loads(r.config_json)["optim"]["lr"] for r in swept) == [0.001, 0.003, 0.01]
    out = agent.chat("add lr 0.003 to the lrs sweep", "y")
    assert "nothing new to add to sweep 'lrs': it already tried optim.lr 0.001, 0.003, 0.01" in out["answer"]
    out = agent.chat("repeat the lrs sweep with byol", "z")
    args = out["pending_confirmation"]["args"]
    # what the sweep varied, each value once: the rate, and the length its extension was changed to
    assert args["method"] == "byol" and args["grid"]["optim.lr"] == [0.001, 0.003, 0.01] and not args["experiment"]
    assert sorted(args["grid"]) == ["optim.lr", "train.steps"] and args["grid"]["train.steps"][-1] == 40
    assert "- learning rate: `swept: 0.001, 0.003, 0.01` (sweep lrs)" in out["answer"], out["answer"]
    agent.chat("no", "z")
    out = agent.chat("repeat the lrs sweep with byol for 30 steps", "w")  # a length said holds for every run
    args = out["pending_confirmation"]["args"]
    assert args["steps"] == 30 and args["grid"] == {"optim.lr": [0.001, 0.003, 0.01]}, args
    agent.chat("no", "w")
    assert len(Registry(home).list()) == 3  # nothing launched without the yes


def test_a_sweep_cancelled_in_one_confirmation_from_the_chat_and_the_cli(tmp_path):
    """"cancel the lrs sweep": its runs still queued or running, listed in one question, cancelled on one yes (it
    asked which run first, one at a time); `sslpilot cancel --experiment NAME` does the same from the shell."""
    from conftest import sslpilot_cli

    from tools.runs import sweep

    home = Home.resolve(tmp_path / "home")
    made = sweep(home, tiny_config("simclr"), {"optim.lr": [1e-3, 3e-3]}, experiment="lrs")
    agent = Agent(home, on_launch=lambda rid: None)
    out = agent.chat("cancel the lrs sweep", "c")
    assert out["pending_confirmation"]["args"] == {"run_ids": [r.id for r in made]}
    assert out["answer"].startswith(f"Cancel run {made[0].id} (simclr, queued, step 0), run {made[1].id}"), out["answer"]
    out = agent.chat("yes", "c")
    assert {r.status for r in Registry(home).list(experiment="lrs")} == {"cancelled"}
    assert out["answer"] == f"Run {made[0].id}: cancelled; Run {made[1].id}: cancelled.", out["answer"]
    again = sweep(home, tiny_config("simclr"), {"optim.lr": [1e-3, 3e-3]}, experiment="more")
    r = sslpilot_cli(home, "cancel", "--experiment", "more")
    assert r.stdout.count("cancelled") == 2, r.stdout + r.stderr
    assert {x.status for x in Registry(home).list(experiment="more")} == {"cancelled"} and len(again) == 2
    r = sslpilot_cli(home, "cancel", "--experiment", "more", ok=False)  # nothing left going: said, nothing done
    assert "nothing to cancel" in r.stderr


@pytest.mark.parametrize(("text", "grid", "want"), [
    ("add 3.0 too", {"optim.lr": [0.1, 0.3]}, {"optim.lr": [0.1, 0.3, 3.0]}),
    ("also try lr 0.03", {"optim.lr": [0.1], "train.batch_size": [64, 128]},
     {"optim.lr": [0.1, 0.03], "train.batch_size": [64, 128]}),
    ("drop the 0.01", {"optim.lr": [0.001, 0.01]}, {"optim.lr": [0.001]}),
    ("remove batch 128", {"optim.lr": [0.1, 0.3], "train.batch_size": [64, 128]},
     {"optim.lr": [0.1, 0.3], "train.batch_size": [64]}),
    ("add 256", {"optim.lr": [0.1, 0.3], "train.batch_size": [64, 128]}, None),  # which list: read as any change
    ("drop the 0.5", {"optim.lr": [0.1, 0.3]}, None),  # not in the sweep
])
def test_a_waiting_sweep_s_values_added_or_taken_out(text, grid, want):
    from agent.grid_words import edited_grid

    assert edited_grid(text, grid) == want


def test_the_chat_adds_and_drops_values_of_a_waiting_sweep(tmp_path, monkeypatch):
    """"Add 3.0 too" to a waiting sweep queued nothing, and "drop the 0.01" was ignored: the yes queued both runs."""
    from conversation_eval import seeded_home

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    a = Agent(seeded_home(tmp_path / "home"), on_launch=lambda rid: None)
    a.chat("sweep simclr on digits over lr 0.1 and 0.3 for 20 steps", "s")
    out = a.chat("add 3.0 too", "s")
    assert out["pending_confirmation"]["args"]["grid"] == {"optim.lr": [0.1, 0.3, 3.0]}
    out = a.chat("drop the 0.1 and 0.3", "s")  # one value left: one run at it, not a sweep of one
    pending = out["pending_confirmation"]
    assert pending["tool"] == "launch_pretraining" and (pending["args"]["lr"], pending["args"]["steps"]) == (3.0, 20)


def test_methods_named_together_are_one_sweep_each_with_its_own_defaults(tmp_path, monkeypatch):
    """"Run byol and simclr on digits for 20 steps each" asked which one to set up first (held-out set 55c): both
    are launched on one yes, a run each, each config with its own method's settings, not the first one's."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    a = Agent(home, on_launch=lambda rid: None)
    out = a.chat("run byol and simclr on digits for 20 steps each", "m")
    pending = out["pending_confirmation"]
    assert pending["tool"] == "launch_sweep" and pending["args"]["methods"] == ["byol", "simclr"]
    assert "**2 runs** of **byol** and **simclr** on `digits`, one for each method" in out["answer"], out["answer"]
    assert "- method: `swept: byol, simclr` (you)" in out["answer"] and "ema_momentum" not in out["answer"]
    a.chat("yes", "m")
    configs = {r.method: json.loads(r.config_json) for r in Registry(home).list()}
    assert set(configs) == {"byol", "simclr"} and len({r.experiment_id for r in Registry(home).list()}) == 1
    assert "ema_momentum" in configs["byol"]["method_args"] and "temperature" in configs["simclr"]["method_args"]
    assert "temperature" not in configs["byol"]["method_args"]
    assert {c["train"]["steps"] for c in configs.values()} == {20}


COMPARED = ["simclr", "byol"]  # what the waiting sweep below compares


@pytest.mark.parametrize("turns, methods, method", [
    (["also vicreg"], [*COMPARED, "vicreg"], None),
    (["dino too", "make it 30 steps"], [*COMPARED, "dino"], None),  # a change keeps every method
    (["drop byol"], None, "simclr"),  # one left: one run of it
    (["no, make it moco"], None, "moco"),  # one method named in their place
])
def test_a_waiting_comparison_of_methods_is_edited_not_replaced(turns, methods, method, tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    a = Agent(Home.resolve(tmp_path / "home"), on_launch=lambda rid: None)
    a.chat("train simclr and byol on digits for 20 steps", "m")
    for text in turns:
        out = a.chat(text, "m")
    args = out["pending_confirmation"]["args"]
    assert (args.get("methods") or None, args.get("method")) == (methods, method)
    assert args["steps"] == (30 if "make it 30 steps" in turns else 20) and args["data"] == "digits"


@pytest.mark.parametrize("text", ["run simclr and byol on digits for 20 steps and tell me which is better",
                                  "train byol and simclr on digits, 20 steps, and let me know which one wins"])
def test_methods_launched_to_see_which_wins_are_both_launched(text, model):
    """"... and tell me which is better" asked which to set up first (held-out set 56b): both are the comparison."""
    reading = understand(text, {}, WORLD, model, path_exists=lambda p: False)
    assert (reading.tool, sorted(reading.args.get("methods") or [])) == ("launch_sweep", ["byol", "simclr"])


@pytest.mark.parametrize("text", ["pretrain simclr or byol on digits for 20 steps",
                                  "pretrain simclr on digits or shapes for 20 steps",
                                  "pretrain simclr on digits and ./photos for 20 steps",  # a folder: no sweep's key
                                  "which of simclr and byol should I pretrain on digits for 20 steps?"])
def test_a_choice_of_methods_or_datasets_or_a_folder_among_them_is_asked_about(text, model):
    reading = understand(text, {}, WORLD, model, path_exists=lambda p: True)
    assert reading.kind == "clarify" and "Which should I set up first?" in reading.question


def test_built_in_datasets_named_together_are_one_sweep_each_run_at_its_own_size(tmp_path, monkeypatch):
    """"Try simclr on digits and shapes" asked which to set up first (session 58's notes): a sweep over data.name,
    whose confirmation shows each run's image size rather than the first dataset's."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    a = Agent(home, on_launch=lambda rid: None)
    out = a.chat("try simclr on digits and shapes for 20 steps", "d")
    pending = out["pending_confirmation"]
    assert pending["tool"] == "launch_sweep" and pending["args"]["grid"] == {"data.name": list(BUILTIN_DATASETS)}
    assert "- data: `swept: digits, shapes` (you)" in out["answer"], out["answer"]
    assert "- image size: `per run: 16, 32` (auto)" in out["answer"]
    a.chat("yes", "d")
    configs = [json.loads(r.config_json) for r in Registry(home).list()]
    assert sorted((c["data"]["name"], c["train"]["steps"]) for c in configs) == [("digits", 20), ("shapes", 20)]


@pytest.mark.parametrize("turns, data, grid", [
    (["pretrain simclr on digits for 20 steps", "also try it on shapes"], "digits", {"data.name": list(BUILTIN_DATASETS)}),
    (["pretrain simclr on digits for 20 steps", "on shapes too"], "digits", {"data.name": list(BUILTIN_DATASETS)}),
    (["pretrain mae on digits and shapes for 20 steps", "only digits"], "digits", None),
    (["pretrain mae on digits and shapes for 20 steps", "just shapes"], "shapes", None),
])
def test_a_dataset_added_to_a_waiting_launch_or_its_datasets_cut_to_one(turns, data, grid, tmp_path, monkeypatch):
    """Held-out set 59d/59f: "also try it on shapes" moved the launch to shapes, and "just shapes" kept both datasets
    swept (two runs queued)."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    a = Agent(Home.resolve(tmp_path / "home"), on_launch=lambda rid: None)
    for text in turns:
        out = a.chat(text, "d")
    pending = out["pending_confirmation"]
    assert (pending["args"]["data"], pending["args"].get("grid") or None, pending["args"]["steps"]) == (data, grid, 20)
    assert pending["tool"] == ("launch_sweep" if grid else "launch_pretraining")


@pytest.mark.parametrize("turns, tool, grid", [
    (["pretrain byol on digits for 10, 20 and 30 steps", "remove the 30"], "launch_sweep", {"train.steps": [10, 20]}),
    (["pretrain simclr on digits for 20 and 40 steps", "make it 30 and 60 instead"], "launch_sweep",
     {"train.steps": [30, 60]}),
    (["pretrain simclr on digits for 20 steps with lr 0.1 and 0.3", "0.01 and 0.03 instead"], "launch_sweep",
     {"optim.lr": [0.01, 0.03]}),
    (["pretrain simclr on digits and shapes for 20 steps", "drop shapes"], "launch_pretraining", None),
    (["pretrain simclr on digits for 20 steps", "and another one for 40 steps"], "launch_sweep",
     {"train.steps": [20, 40]}),
    (["pretrain moco on digits for 10 and 20 epochs", "no, 5 and 10"], "launch_sweep", {"train.epochs": [5, 10]}),
    (["pretrain simclr on digits for 10 steps with temperature 0.1, 0.2 and 0.5", "actually only 0.1 and 0.5"],
     "launch_sweep", {"method_args.temperature": [0.1, 0.5]}),  # SWEEP_ONLY's, not a list said anew (sets 46c, 49b)
    (["pretrain vicreg on digits for 2 epochs", "and for 4 epochs as well"], "launch_sweep", {"train.epochs": [2, 4]}),
    (["pretrain simclr on digits for 20 steps", "same but on shapes too"], "launch_sweep",
     {"data.name": list(BUILTIN_DATASETS)}),
])
def test_a_waiting_sweep_s_lists_edited_in_words(turns, tool, grid, tmp_path, monkeypatch):
    """Held-out set 59i: "remove the 30" was read as deleting run 30, "make it 30 and 60 instead" asked which setting
    30 was, "drop shapes" moved the launch to shapes (the opposite) and "another one for 40 steps" replaced the 20."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    a = Agent(Home.resolve(tmp_path / "home"), on_launch=lambda rid: None)
    for text in turns:
        out = a.chat(text, "e")
    pending = out["pending_confirmation"]
    assert (pending["tool"], pending["args"].get("grid") or None) == (tool, grid)
    assert pending["args"]["data"] == "digits"


def test_several_methods_on_several_datasets_are_asked_about_not_crossed(model, tmp_path, monkeypatch):
    """"dino on shapes, and moco on digits too" pairs them; four runs of every pairing would be a guess. Held-out
    set 59c: "pretrain simclr and byol on digits and shapes" was split into "pretrain simclr" (proposed, on the
    default data) and a sweep of byol on both datasets."""
    reading = understand("launch dino on shapes, and moco on digits too", {}, WORLD, model)
    assert reading.kind == "clarify" and "Which should I set up first?" in reading.question
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    out = Agent(Home.resolve(tmp_path / "home"), on_launch=lambda rid: None).chat(
        "pretrain simclr and byol on digits and shapes", "m")
    assert out["pending_confirmation"] is None and not out.get("tool_calls")
    assert "Which should I set up first?" in out["answer"]


def test_the_run_s_length_swept_replaces_the_other_unit_and_each_run_is_costed_at_its_length(tmp_path, monkeypatch):
    """"For 20 and 40 steps" asked what the 40 was (session 58's notes), and a grid over train.steps over a base of
    10 epochs was refused as both: one run per length, the default epochs gone, the device-hours the sum of each
    run's, and the confirmation's length the shortest to the longest."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    a = Agent(home, on_launch=lambda rid: None)
    one = a.chat("pretrain simclr on digits for 20 steps", "l")["pending_confirmation"]["device_hours"]
    a.chat("no", "l")
    out = a.chat("pretrain simclr on digits for 20 and 40 steps", "l")
    pending = out["pending_confirmation"]
    assert pending["args"]["grid"] == {"train.steps": [20, 40]} and pending["args"]["steps"] is None
    assert pending["device_hours"] == pytest.approx(3 * one) and one > 0
    assert "about 20 to 40 steps each" in out["answer"] and "- steps: `swept: 20, 40` (you)" in out["answer"]
    assert "epochs" not in out["answer"], out["answer"]
    a.chat("yes", "l")
    trains = sorted((json.loads(r.config_json)["train"] for r in Registry(home).list()), key=lambda t: t["steps"])
    assert [(t["steps"], t["epochs"]) for t in trains] == [(20, None), (40, None)]


@pytest.mark.parametrize("args, field", [
    ({"methods": ["byol"]}, "name two or more"),
    ({"methods": ["byol", "swav"]}, "'swav' is not a method"),
    ({"methods": ["byol", "simclr"], "method": "dino"}, "dino is not among byol, simclr"),
    ({"methods": ["byol", "simclr"], "parent_run": "1"}, "a follow-up of a run keeps its method"),
])
def test_methods_compared_are_checked_before_anything_is_proposed(args, field):
    from pydantic import ValidationError

    from tools.tool_table import SweepArgs

    with pytest.raises(ValidationError, match=field):
        SweepArgs(steps=20, **args)


def test_the_cli_compares_methods_in_a_sweep_each_with_its_own_defaults(tmp_path):
    from conftest import sslpilot_cli

    home = Home.resolve(tmp_path / "home")
    out = sslpilot_cli(home, "pretrain", "simclr", "--data", "digits", "--steps", "2", "--batch-size", "32", "--set", "train.device=cpu",
                       "--sweep", "method=simclr,byol", "--json")
    assert out.returncode == 0, out.stderr
    configs = {r.method: json.loads(r.config_json)["method_args"] for r in Registry(home).list()}
    assert set(configs) == {"simclr", "byol"} and "ema_momentum" in configs["byol"] and "temperature" in configs["simclr"]


def test_a_sweep_that_compared_methods_is_not_repeated_from_one_methods_config(tmp_path, monkeypatch):
    """A repeat is built from a sweep's first run: for methods compared that would give every run the first method's
    settings, so it is refused with how to ask for it anew."""
    from ssl_runtime.errors import SSLPilotError
    from tools.agent_tools import ToolBox

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    tb = ToolBox(Home.resolve(tmp_path / "home"))
    out = tb.launch_sweep(methods=["simclr", "byol"], data="digits", steps=20, experiment="two")
    tb.execute_confirmed("launch_sweep", out["pending_confirmation"]["args"])
    with pytest.raises(SSLPilotError, match="compared methods .simclr, byol.*named"):
        tb.launch_sweep(like_sweep="two", data="shapes")
