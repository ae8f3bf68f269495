"""Stop rules (ssl_runtime/stop_rules.py): a run ends early, as succeeded, with its checkpoint and encoder, when a
rule from its config or its folder is met. Each rule here is met, or not, by construction: a step, a bar no loss
can miss or reach, minutes no run has trained."""

from __future__ import annotations

import pytest
from conftest import tiny_config

from ssl_runtime.errors import ConfigError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.stop_rules import Plateau, StopRule, StopRules, add, default_wait, parse, read_added
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


# ---- a plateau: no new best by 1% for a wait ----------------------------------------------------------------

@pytest.mark.parametrize("text, rule, written", [
    ("loss stops falling for 500 steps", Plateau("loss", "falling", 500), "loss stops falling for 500 steps"),
    ("health/rank stops Rising for 1 step", Plateau("health/rank", "rising", 1), "health/rank stops rising for 1 step"),
    ("loss stops improving", Plateau("loss", "falling"), "loss stops falling"),  # a loss improves by falling
    ("loss/recon stops improving for 20 steps", Plateau("loss/recon", "falling", 20),
     "loss/recon stops falling for 20 steps"),
    ("val/perplexity stops improving", Plateau("val/perplexity", "falling"), "val/perplexity stops falling"),
    ("knn/acc stops improving for 2.5 epochs", Plateau("knn/acc", "rising", epochs=2.5),
     "knn/acc stops rising for 2.5 epochs"),
    ("loss stops falling for 1000000 steps", Plateau("loss", "falling", 1_000_000),  # was written back as 1e+06
     "loss stops falling for 1000000 steps"),
    ("loss stops falling for 3.0 epochs", Plateau("loss", "falling", epochs=3.0), "loss stops falling for 3 epochs"),
])
def test_a_plateau_rule_is_read_from_its_text_and_written_back_the_same(text, rule, written):
    assert parse(text) == rule and str(rule) == written and parse(written) == rule


@pytest.mark.parametrize("text", ["step stops falling for 5 steps", "loss stops falling for 0 steps",
                                  "loss stops falling for 2.5 steps", "loss plateaus"])
def test_a_plateau_rule_that_cannot_be_held_names_the_field_and_the_form(text):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert err.value.field == "monitor.stop_when" and "'loss stops falling for 500 steps'" in str(err.value)


def _feed(rules: StopRules, points: list[tuple[int, float]], metric: str = "loss"):
    """The logging steps' values, in order; the step and the best value of the first one met, else None."""
    for step, value in points:
        hit = rules.first_met({"step": step, metric: value}, {"step": step})
        if hit is not None:
            return step, hit[1]
    return None


def test_a_plateau_stops_once_no_value_beats_the_best_by_one_percent_for_its_wait(tmp_path):
    """Lowering the best by under 1% (2.00 -> 1.99) is no improvement; a new low by more (-> 1.9) starts the wait
    again. Best 1.9 at step 40, wait 30: met at step 70, not at 60."""
    folder = RunFolder(tmp_path / "p").create()
    curve = [(10, 3.0), (20, 2.0), (30, 1.99), (40, 1.9), (50, 1.895), (60, 1.92), (70, 1.91), (80, 1.5)]
    assert _feed(StopRules(folder, ["loss stops falling for 30 steps"], 10), curve) == (70, 1.9)
    assert _feed(StopRules(folder, ["loss stops falling for 40 steps"], 10), curve) is None  # 1.5 at step 80 is new
    rising = [(10, 1.0), (20, 5.0), (30, 5.04), (40, 4.0), (50, 5.0)]  # 5.04 is under 1% above 5.0
    assert _feed(StopRules(folder, ["health/rank stops rising for 30 steps"], 10), rising, "health/rank") == (50, 5.0)
    assert _feed(StopRules(folder, ["loss stops falling for 30 steps"], 10), [(10, 1.0), (20, float("nan")),
                                                                                (30, 1.0), (40, 1.0)]) == (40, 1.0)


def test_a_plateau_s_wait_counts_from_the_first_value_it_sees_in_steps_epochs_or_by_default(tmp_path):
    folder = RunFolder(tmp_path / "w").create()
    flat = [(s, 1.0) for s in range(10, 400, 10)]
    assert _feed(StopRules(folder, ["loss stops falling for 2 epochs"], 25), flat) == (60, 1.0)  # 10 + 2 x 25
    # no wait given: a tenth of the run (300 of 3000 steps) or five logging intervals (5 x 10), whichever is longer
    assert default_wait("loss", 3000, 10, 50) == 300 and default_wait("health/rank", 1000, 10, 50) == 250
    assert default_wait("loss", 100, 10, 50) == 50 and default_wait("loss", None, 2, 4) == 10
    rules = StopRules(folder, ["loss stops falling"], 25, total_steps=3000, log_every=10, health_every=50)
    assert _feed(rules, flat) == (310, 1.0)
    late = StopRules(folder, [], 25)
    add(folder, parse("loss stops falling for 100 steps"), by="ada")  # added while it trains: counted from then
    late.refresh()
    assert _feed(late, [(s, 1.0) for s in range(500, 700, 10)]) == (600, 1.0)


def test_a_bar_rule_is_still_met_first_beside_a_plateau_that_keeps_counting(tmp_path):
    folder = RunFolder(tmp_path / "b").create()
    rules = StopRules(folder, ["loss<0.5", "loss stops falling for 20 steps"], 10)
    assert rules.first_met({"step": 10, "loss": 1.0}, {"step": 10}) is None
    assert rules.first_met({"step": 20, "loss": 0.4}, {"step": 20}) == (parse("loss<0.5"), 0.4)
    plateau = parse("loss stops falling for 20 steps")  # it saw 0.4 as well: its best, at step 20
    assert rules.describe(plateau, 0.4) == "loss made no new low beyond 0.4 (step 20) in 20 steps"


def test_a_plateau_in_the_config_stops_the_run_as_succeeded_and_says_where_its_best_was(home):
    """A constant rate never falls: its first logged value (step 2) is its best, so a 10-step wait ends the run at
    step 12, by construction, whatever the loss does."""
    run = enqueue(home, tiny_config(**{"train.steps": 40, "train.log_every": 2, "optim.schedule": "constant",
                                       "optim.warmup_steps": 0, "monitor.stop_when": ["lr stops falling for 10 steps"]}))
    summary = train(run.run_dir)
    assert (summary["status"], summary["steps"]) == ("succeeded", 12)
    assert summary["stopped_by"]["rule"] == "lr stops falling for 10 steps"
    assert "lr made no new low beyond" in summary["message"] and "(step 2) in 10 steps" in summary["message"]
    assert RunFolder(run.run_dir).encoder.exists()


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
