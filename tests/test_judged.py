"""A setting judged ("is the lr of run 4 too high?"): its value, the method's default, and whether the run's own
diagnosis and recommendation point at it. The runs are written by hand (tests/test_diagnosis_synthetic.py's
make_run): a flat loss at a rate a billion times too small, which the diagnosis names by construction."""

from __future__ import annotations

import pytest
from test_diagnosis_synthetic import make_run, trace

from agent.answers import _judged_line
from tools.diagnosis.diagnose import diagnose
from tools.diagnosis.judged import judged_settings
from tools.diagnosis.recommend import recommend


def test_the_setting_the_diagnosis_names_is_said_with_the_change_it_gets(tmp_path):
    ev = make_run(tmp_path, overrides={"optim.lr": 1e-9}, rows=trace(loss=(4.85, 4.84), std=(0.02, 0.02), rank=(5, 5)))
    ev.peak_lr = 1e-9
    d = diagnose(ev)
    info = {"run_dir": str(ev.folder.path), "config": ev.config, "summary": ev.summary, "status": "succeeded"}
    lr, temp, batch = judged_settings(info, ["optim.lr", "method_args.temperature", "train.batch_size"], ev, d.to_dict(),
                                      recommend(ev, d).to_dict())
    assert d.verdict == "not_learning"
    assert lr["setting"]["value"] == 1e-9 and lr["default"] == pytest.approx(ev.default_lr)
    assert lr["named"] and "below the default" in lr["named"][0] and lr["changes"] and lr["changed_to"] > 1e-6
    assert (temp["default"], temp["named"], temp["changes"]) == (0.2, [], False)
    assert batch["default"] is None and not batch["changes"]
    line = _judged_line("4", lr)
    assert "1e-09** (set in its config, 1/" in line and "of the method's default" in line
    assert "The diagnosis (not learning) names it: peak lr 1e-09 is" in line and "change sets it to" in line


@pytest.mark.parametrize("value, default, said", [(50.0, 0.001, "50,000x the method's default 0.001"),
                                                  (0.5, 0.2, "2.5x the method's default 0.2"),
                                                  (0.2, 0.2, "the method's default)"), (0.05, 0.2, "1/4 of")])
def test_a_value_is_set_against_the_method_s_default(value, default, said):
    j = {"setting": {"key": "method_args.temperature", "how": "set", "value": value}, "default": default,
         "verdict": "healthy", "changes": False, "changed_to": None, "category": "model", "named": []}
    line = _judged_line("1", j)
    assert said in line and line.endswith("The diagnosis (healthy) does not point at it.")


def test_a_setting_the_method_lacks_is_said_so():
    j = {"setting": {"key": "method_args.temperature", "how": "absent", "value": None}, "default": None,
         "verdict": "healthy", "changes": False, "changed_to": None, "category": None, "named": []}
    assert _judged_line("3", j) == "- run 3 has no `method_args.temperature`."


def test_the_tool_judges_the_asked_setting_against_the_same_diagnosis(tmp_path):
    from conftest import tiny_config

    from ssl_runtime.run_folder import RunFolder
    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.runs import enqueue

    home = Home.resolve(tmp_path / "home")
    run = enqueue(home, tiny_config(**{"optim.lr": 0.5, "train.steps": 100}))
    folder = RunFolder(run.run_dir)
    folder.set_status("running", "running", total_steps=100, steps_per_epoch=10)
    for r in trace():
        folder.log_metrics(r)
    out = ToolBox(home).diagnose_run(run.id, about=["optim.lr"])
    (lr,) = out["about"]
    assert lr["setting"] == {"key": "optim.lr", "how": "set", "value": 0.5} and lr["verdict"] == out["verdict"]
    assert "about" not in ToolBox(home).diagnose_run(run.id)
