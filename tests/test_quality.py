"""Is an encoder any good without labels? The quality verdict on runs whose metrics are written by construction:
the probe decides with labels, a failure the diagnosis found wins over everything, and without labels a run
with no failure is `usable`, placed among its peers, never called good or weak; the chat and the diagnosis
say so."""

from __future__ import annotations

import pytest
from conftest import tiny_config
from test_diagnosis_synthetic import PROBE_GOOD, make_run, trace

from agent.answers import diagnosis_text, quality_text
from ssl_runtime.run_folder import RunFolder
from tools.diagnosis import diagnose, diagnose_run, judge_run
from tools.diagnosis.quality import judge
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue

UNLABELLED = {"num_images": 1797, "duplicates": 0, "skipped_files": 0}


def _lidar(first: float, last: float) -> dict:
    return {"health/lidar": (first, last), "health/alpha_req": (2.0, 1.5)}


@pytest.mark.parametrize("lidar", [(20.0, 60.0), (60.0, 20.0)])
def test_without_labels_no_failure_reads_usable_whatever_lidar_did(tmp_path, lidar):
    """LiDAR's change since the init is shown, never read as good or weak: on the validation sweeps it did not
    predict the probe's gain (healthy runs went 0.7x and 2x)."""
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25), extra=_lidar(*lidar)), data=UNLABELLED)
    q = judge(ev, diagnose(ev))
    assert (q.verdict, q.decided_by) == ("usable", "lidar") and q.lidar_gain == round(lidar[1] / lidar[0], 3)
    assert q.signals["lidar_at_init"] == lidar[0] and f"LiDAR went from {lidar[0]:.1f}" in q.reason
    assert "not how good it is" in q.reason


def test_labels_decide_where_they_exist(tmp_path):
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25), extra=_lidar(60.0, 10.0)), probe=PROBE_GOOD)
    q = judge(ev, diagnose(ev))
    assert (q.verdict, q.decided_by) == ("good", "probe") and q.probe_gain == pytest.approx(0.07)


@pytest.mark.parametrize("baseline, probe, verdict", [(1.0, 1.0, "usable"), (0.995, 0.99, "usable"),
                                                     (0.98, 0.985, "weak")])
def test_labels_the_random_init_already_masters_decide_nothing(tmp_path, baseline, probe, verdict):
    """A masked LM on shapes' captions (which name their class) probed 100% at random init and at its end, and was
    called weak: no encoder can clear a 1-point bar above 100%. Where the random init leaves less room than the bar
    the probe decides nothing (`usable`, saying why, with the perplexity where there is one); with room it still
    decides (98% leaves 2 points)."""
    from test_diagnosis_synthetic import _lm_run

    ev = _lm_run(tmp_path, ppl=(180.0, 40.0))
    ev.probe = {"probe/acc": probe, "knn/acc": probe, "num_val": 100000, "baseline": {"probe/acc": baseline,
                                                                                 "knn/acc": baseline}}
    d = diagnose(ev)
    q = judge(ev, d)
    assert (q.verdict, q.decided_by) == (verdict, "probe"), q.reason
    if verdict == "usable":
        assert "too easy to tell encoders apart" in q.reason and "180 at step 10 to 40 at step 100" in q.reason
        assert d.verdict != "weak_representation" and not q.signals  # an LM's rank says nothing: not shown


def test_a_language_model_without_labels_is_judged_by_its_held_out_perplexity(tmp_path):
    """"is run 1 any good?" of a masked LM on unlabelled text said it needed "two LiDAR measurements", which a text
    run never logs: its own measure is held-out perplexity. Fallen (no failure): usable, saying so; not fallen: the
    diagnosis's not_learning, failing; before two evaluations: unknown, naming perplexity, not LiDAR."""
    from test_diagnosis_synthetic import _lm_run

    learned = _lm_run(tmp_path, ppl=(180.0, 40.0))
    q = judge(learned, diagnose(learned))
    assert (q.verdict, q.decided_by) == ("usable", "perplexity"), q.reason
    assert "180 at step 10 to 40 at step 100" in q.reason and "LiDAR" not in q.reason
    assert "without labels I cannot say how good it is" in quality_text(q.to_dict())
    flat = _lm_run(tmp_path, ppl=(180.0, 175.0), loss=(5.2, 5.1), name="flat")
    assert judge(flat, diagnose(flat)).verdict == "failing"
    early = _lm_run(tmp_path, ppl=(180.0, 40.0), name="early")
    ppl = early.series["val/perplexity"]
    ppl.steps, ppl.values = ppl.steps[:1], ppl.values[:1]  # one evaluation so far
    q = judge(early, diagnose(early))
    assert q.verdict == "unknown" and "held-out perplexity" in q.reason and "LiDAR" not in q.reason


def test_a_collapse_is_failing_whatever_lidar_says(tmp_path):
    ev = make_run(tmp_path, rows=trace(std=(0.1, 0.005), rank=(30, 1.2), extra=_lidar(20.0, 200.0)), data=UNLABELLED)
    d = diagnose(ev)
    q = judge(ev, d)
    assert d.verdict == "complete_collapse" and (q.verdict, q.decided_by) == ("failing", "diagnosis")


def test_one_measurement_is_not_a_verdict(tmp_path):
    rows = trace(std=(0.05, 0.12), rank=(10, 25))
    rows[-1]["health/lidar"] = 20.0  # an imported or audited run: LiDAR measured once
    ev = make_run(tmp_path, rows=rows, data=UNLABELLED)
    q = judge(ev, diagnose(ev))
    assert q.verdict == "unknown" and q.signals["lidar"] == 20.0 and "fewer than two LiDAR" in q.reason


def _finished(home: Home, lidar: tuple[float, float]) -> str:
    run = enqueue(home, tiny_config("simclr"))
    folder = RunFolder(run.run_dir)
    folder.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512, data=UNLABELLED,
                      total_steps=100)
    for row in trace(std=(0.05, 0.12), rank=(10, 25), extra=_lidar(*lidar)):
        folder.log_metrics(row)
    folder.write_summary({"status": "succeeded", "embedding_dim": 64, "health_samples": 512, "data": UNLABELLED,
                          "epochs": 30, "peak_lr": 1e-3})
    folder.set_status("succeeded")
    Registry(home).sync(run.id)
    return run.id


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = Home.resolve(tmp_path_factory.mktemp("quality"))
    good = _finished(h, (20.0, 90.0))
    better = _finished(h, (20.0, 120.0))
    weak = _finished(h, (60.0, 10.0))
    return {"home": h, "good": good, "better": better, "weak": weak}


def test_a_run_is_placed_among_its_peers(home):
    q = judge_run(home["home"], home["good"])
    assert q["verdict"] == "usable" and q["siblings"]["position"] == 2 and q["siblings"]["of"] == 3
    assert q["siblings"]["best"]["run_id"] == home["better"]
    text = quality_text(q)
    assert text.startswith(f"**Run {home['good']} shows no failure; without labels I cannot say how good it is.**")
    assert f"run {home['better']} leads with 120" in text


def test_the_diagnosis_of_unlabelled_data_says_how_good_it_is(home):
    d = diagnose_run(home["home"], home["weak"])
    assert d["verdict"] == "healthy" and d["quality"]["verdict"] == "usable"
    assert "Quality without labels: usable - no failure found; LiDAR went from 60.0" in diagnosis_text(d)


def test_the_chat_answers_is_it_any_good_without_labels(home):
    from agent.session import Agent

    out = Agent(home["home"]).chat(f"is run {home['weak']} any good without labels?", "q1")
    assert out["tool_calls"][0] == {"name": "judge_run", "args": {"run_id": home["weak"]}, "status": "ok"}
    assert f"Run {home['weak']} shows no failure" in out["answer"] and "number 3" in out["answer"]
