"""Whether a healthy run is told to train longer is its forecast's to decide (issue 24): the recommendation and
"should I train run 1 longer?" never disagree. Runs and forecasts are constructed: a loss falling to its end (the
diagnosis's "still improving"), and a forecast verdict given, not fitted."""

from __future__ import annotations

import json

import pytest
from test_diagnosis_synthetic import PROBE_GOOD, _lm_run, make_run, trace

from tools.diagnosis import diagnose, recommend

READING = "health/lidar 92.1 at step 100, forecast 89.8 at 200 steps (80% band 86.4 to 92.7)"


def _healthy(tmp_path, method="simclr", **overrides):
    ev = make_run(tmp_path, method, overrides, rows=trace(loss=(5.0, 4.0), std=(0.05, 0.12), rank=(10, 25)),
                  probe=PROBE_GOOD)
    d = diagnose(ev)
    assert d.verdict == "healthy" and any(c.id == "still_improving" for c in d.causes), d.to_dict()
    return ev, d


def test_without_a_forecast_a_falling_loss_asks_for_twice_the_steps(tmp_path):
    ev, d = _healthy(tmp_path)
    r = recommend(ev, d)
    assert r.change == {"train.steps": 24} and r.cause == "still_improving"  # tiny_config's 12 steps, as steps


def test_a_forecast_that_agrees_is_cited(tmp_path):
    ev, d = _healthy(tmp_path)
    r = recommend(ev, d, forecast={"verdict": "train_longer", "reading": READING})
    assert r.change == {"train.steps": 24} and f"Its forecast agrees: {READING}" in r.rationale


def test_a_plateaued_forecast_turns_train_longer_into_a_wider_backbone(tmp_path):
    ev, d = _healthy(tmp_path)  # tiny_config: width 0.25
    r = recommend(ev, d, forecast={"verdict": "plateaued", "reading": READING})
    assert r.change == {"backbone.width": 0.5} and r.launchable
    assert f"Not longer training: its forecast says it has plateaued ({READING})" in r.rationale


def test_a_plateaued_text_run_is_told_what_is_left_not_given_a_no_op(tmp_path):
    ev = _lm_run(tmp_path, ppl=(180.0, 40.0))
    d = diagnose(ev)
    assert d.verdict == "healthy" and recommend(ev, d).change == {"train.steps": 24}  # the fallback: longer
    r = recommend(ev, d, forecast={"verdict": "plateaued", "reading": READING})
    assert (r.change, r.cause, r.launchable) == ({}, "plateaued", False)
    assert r.rationale.startswith("Its forecast says it has plateaued") and "already been tried" not in r.rationale


@pytest.mark.parametrize("verdict, says", [("uncertain", "Its forecast cannot tell yet"),
                                           ("unknown", "It has no forecast yet")])
def test_an_undecided_forecast_leaves_the_loss_to_decide_and_says_so(tmp_path, verdict, says):
    ev, d = _healthy(tmp_path)
    r = recommend(ev, d, forecast={"verdict": verdict, "reading": READING})
    assert r.change == {"train.steps": 24} and f"{says}: {READING}" in r.rationale


def test_the_published_augmentation_is_not_proposed_to_a_run_that_has_it(tmp_path):
    """The healthy fallback proposed `augment.strength: 1.0` to runs already at 1.0: a follow-up identical to its
    parent."""
    ev, d = _healthy(tmp_path)
    history = [{"run_id": "9", "change": {"train.steps": 24}, "verdict": "weak_representation"}]
    assert "augment.strength" not in recommend(ev, d, history).change
    ev, d = _healthy(tmp_path / "mild", **{"augment.strength": 0.5})
    assert recommend(ev, d, history).change == {"augment.strength": 1.0}


def test_a_change_under_way_is_said_to_be_so_and_named_once(tmp_path):
    """A follow-up still training is not a failed change, and two causes calling for one change name it once."""
    ev, d = _healthy(tmp_path)
    r = recommend(ev, d, [{"run_id": "2", "change": {"train.steps": 24}, "verdict": "running"}])
    assert r.rationale.count("train.steps=24") == 1 and "train.steps=24 under way in run 2" in r.rationale


@pytest.mark.parametrize("shape, longer", [(1.5, False), (0.5, True)])
def test_the_recommendation_and_the_forecast_of_a_run_agree(tmp_path, shape, longer):
    """A healthy run whose loss still falls, with LiDAR built saturated (gains 0.003 at 2x against a bar of 3) or
    still rising (8.3, five times the bar), as test_forecast builds them: the recommendation trains it longer only
    where its forecast says so."""
    from conftest import tiny_config
    from test_forecast import STEPS, _curve

    from ssl_runtime.run_folder import RunFolder
    from tools.diagnosis import forecast_run, recommend_run
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue

    home = Home.resolve(tmp_path / "home")
    run = enqueue(home, tiny_config("simclr", **{"train.steps": 1000}))
    folder = RunFolder(run.run_dir)
    folder.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512, total_steps=1000,
                      data={"num_images": 1797, "duplicates": 0, "skipped_files": 0, "class_counts": [180] * 10})
    lidar = _curve(STEPS, shape, 900.0, 60.0, noise=0.05)
    for i, (step, value) in enumerate(zip(STEPS, lidar, strict=True)):
        t = i / (len(STEPS) - 1)
        folder.log_metrics({"step": int(step), "loss": 5.0 - t, "grad_norm": 1.0, "health/std": 0.05 + 0.07 * t,
                            "health/rank": 10 + 15 * t, "health/uniformity": -2.0 - t, "health/alignment": 0.5,
                            "health/lidar": float(value)})
    folder.probe.write_text(json.dumps(PROBE_GOOD))
    folder.write_summary({"status": "succeeded", "embedding_dim": 64, "health_samples": 512, "epochs": 30})
    folder.set_status("succeeded")
    Registry(home).sync(run.id)
    verdict = forecast_run(home, run.id)["verdict"]
    assert verdict == ("train_longer" if longer else "plateaued")
    rec = recommend_run(home, run.id, store=False)
    assert ("train.steps" in rec["change"]) == longer, rec
    assert ("Its forecast agrees" if longer else "its forecast says it has plateaued") in rec["rationale"]


def test_a_plateau_is_said_only_where_longer_training_was_held_back(tmp_path):
    """A weak run on duplicated data is told to deduplicate: its forecast's plateau is no reason given for that."""
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25)),
                  data={"num_images": 1797, "duplicates": 900, "skipped_files": 0, "class_counts": [180] * 10},
                  probe={"probe/acc": 0.80, "knn/acc": 0.78, "num_val": 100000,
                         "baseline": {"probe/acc": 0.80, "knn/acc": 0.78}})
    d = diagnose(ev)
    r = recommend(ev, d, forecast={"verdict": "plateaued", "reading": READING})
    assert d.verdict == "data_problem" and r.change == {"data.dedup": True}, (d.verdict, r.change)
    assert "plateaued" not in r.rationale
