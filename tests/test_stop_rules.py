"""Stop rules (ssl_runtime/stop_rules.py): a run ends early, as succeeded, with its checkpoint and encoder, when a
rule from its config or its folder is met. Each rule here is met, or not, by construction: a step, a bar no loss
can miss or reach, minutes no run has trained."""

from __future__ import annotations

import pytest
from conftest import tiny_config

from ssl_runtime.errors import ConfigError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.stop_rules import StopRule, StopRules, add, read_added
from ssl_runtime.trainer import train
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("stop-rules"))


@pytest.mark.parametrize("text, rule", [("loss<0.5", ("loss", "<", 0.5)), (" health/rank <= 4 ", ("health/rank", "<=", 4)),
                                        ("step>=500", ("step", ">=", 500)), ("minutes>1e1", ("minutes", ">", 10)),
                                        ("val/perplexity<-.5", ("val/perplexity", "<", -0.5))])
def test_a_rule_is_read_from_its_text(text, rule):
    r = StopRule.parse(text)
    assert (r.metric, r.op, r.value) == rule and StopRule.parse(str(r)) == r


@pytest.mark.parametrize("text", ["loss is low", "loss<", "<0.5", "loss=0.5", "loss<nan", "loss<0.5 or rank<3"])
def test_a_rule_that_does_not_parse_names_the_field_and_the_form(text):
    with pytest.raises(ConfigError) as err:
        StopRule.parse(text)
    assert err.value.field == "monitor.stop_when" and "'loss<0.5'" in str(err.value)


def test_met_compares_and_never_meets_on_a_missing_or_non_finite_value():
    r = StopRule.parse("loss<0.5")
    assert r.met(0.4) and not r.met(0.5) and not r.met(float("nan")) and not r.met(None)
    assert StopRule.parse("loss<=0.5").met(0.5) and StopRule.parse("health/rank>3").met(3.5)


@pytest.mark.parametrize("text, spe, step", [("step>=7", 10, 7), ("step>7", 10, 8), ("step>=6.5", 10, 7),
                                             ("epoch>=2", 10, 20), ("epoch>1.25", 8, 11), ("step<7", 10, None),
                                             ("loss>=7", 10, None)])
def test_the_step_a_step_or_epoch_rule_stops_at(text, spe, step):
    assert StopRule.parse(text).stop_step(spe) == step


def test_rules_added_to_a_folder_are_kept_and_read_again_when_the_file_changes(tmp_path):
    folder = RunFolder(tmp_path / "7").create()
    rules = StopRules(folder, ["loss<0.1"], steps_per_epoch=10)
    assert [str(r) for r in rules.rules] == ["loss<0.1"] and rules.stop_step is None
    add(folder, StopRule.parse("step>=30"), by="ada")
    add(folder, StopRule.parse("step>=30"), by="ada")  # the same rule twice is one rule
    add(folder, on_failure=True, by="ada")
    rules.refresh()
    assert [str(r) for r in rules.rules] == ["loss<0.1", "step>=30"] and rules.stop_step == 30
    assert read_added(folder).on_failure
    assert [e["type"] for e in folder.read_events()] == ["stop_rule_added"] * 3
    assert rules.first_met({"loss": 0.5}, {"step": 29}) is None
    assert rules.first_met({"loss": 0.05}, {"step": 12}) == (StopRule.parse("loss<0.1"), 0.05)
    assert rules.first_met({"loss": 0.5}, {"step": 30})[0] == StopRule.parse("step>=30")


def test_a_hand_edited_rule_that_does_not_parse_is_skipped(tmp_path):
    folder = RunFolder(tmp_path / "8").create()
    folder.stop_rules.write_text('{"rules": [{"rule": "loss is low"}, {"rule": "step>=3"}, {"x": 1}]}')
    assert [str(r) for r in read_added(folder).rules] == ["step>=3"]


def test_a_step_rule_from_the_config_stops_the_run_there_as_succeeded(home):
    """Step 7 is not a logging, health or checkpoint step of this run: the rule makes it one."""
    run = enqueue(home, tiny_config(**{"train.steps": 40, "train.log_every": 5, "monitor.stop_when": ["step>=7"]}))
    summary = train(run.run_dir)
    folder = RunFolder(run.run_dir)
    assert (summary["status"], summary["steps"], summary["total_steps"]) == ("succeeded", 7, 40)
    assert summary["message"] == "stopped at step 7 of 40: step 7 >= 7 (stop rule step>=7)"
    assert summary["stopped_by"] == {"rule": "step>=7", "value": 7.0, "step": 7}
    assert summary["last_checkpoint_step"] == 7 and folder.encoder.exists()
    (event,) = [e for e in folder.read_events() if e["type"] == "stop_rule"]
    assert event["step"] == 7 and Registry(home).sync(run.id).status == "succeeded"


def test_a_metric_rule_added_to_the_folder_stops_the_run_at_its_first_logging_step(home):
    """No finite loss is under 1e9's bar; the rule is in the folder before the run starts, as for a queued run."""
    run = enqueue(home, tiny_config(**{"train.steps": 40, "train.log_every": 5}))
    add(RunFolder(run.run_dir), StopRule.parse("loss<1e9"), by="ada")
    summary = train(run.run_dir)
    assert (summary["status"], summary["steps"]) == ("succeeded", 5)
    assert summary["stopped_by"]["rule"] == "loss<1e+09" and summary["message"].startswith("stopped at step 5 of 40: loss ")


def test_rules_no_step_can_meet_leave_the_run_to_its_end(home):
    run = enqueue(home, tiny_config(**{"train.steps": 12, "train.log_every": 4,
                                       "monitor.stop_when": ["loss<-1e9", "minutes>=600", "step>=13"]}))
    summary = train(run.run_dir)
    assert (summary["steps"], summary["message"]) == (12, "finished") and "stopped_by" not in summary


def test_a_bad_rule_in_a_config_is_refused_when_the_run_is_queued(home):
    with pytest.raises(ConfigError, match="monitor.stop_when"):
        enqueue(home, tiny_config(**{"monitor.stop_when": ["loss below 0.5"]}))
