"""Is an encoder any good without labels? The quality verdict on runs whose metrics are written by construction:
LiDAR against its own initial value decides without labels, the probe decides with them, a failure the
diagnosis found wins over both, and the chat, the CLI and the diagnosis say so."""

from __future__ import annotations

import pytest
from conftest import tiny_config
from test_diagnosis_synthetic import PROBE_GOOD, make_run, trace

from agent.answers import diagnosis_text, quality_text
from ssl_runtime.run_folder import RunFolder
from tools.diagnosis import diagnose, diagnose_run, judge_run
from tools.diagnosis import thresholds as T
from tools.diagnosis.quality import judge
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue

UNLABELLED = {"num_images": 1797, "duplicates": 0, "skipped_files": 0}


def _lidar(first: float, last: float) -> dict:
    return {"health/lidar": (first, last), "health/alpha_req": (2.0, 1.5)}


def test_without_labels_a_lidar_that_rose_well_past_its_init_reads_good(tmp_path):
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25), extra=_lidar(20.0, 20.0 * 3 * T.LIDAR_GAIN_WEAK)),
                  data=UNLABELLED)
    q = judge(ev, diagnose(ev))
    assert (q.verdict, q.decided_by) == ("good", "lidar") and q.lidar_gain == pytest.approx(3 * T.LIDAR_GAIN_WEAK)
    assert q.signals["lidar_at_init"] == 20.0 and "LiDAR went from 20.0" in q.reason


def test_without_labels_a_lidar_that_fell_under_its_init_reads_weak(tmp_path):
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25), extra=_lidar(60.0, 60.0 * T.LIDAR_GAIN_WEAK / 3)),
                  data=UNLABELLED)
    q = judge(ev, diagnose(ev))
    assert (q.verdict, q.decided_by) == ("weak", "lidar") and "did not separate images better" in q.reason


def test_labels_decide_where_they_exist(tmp_path):
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25), extra=_lidar(60.0, 10.0)), probe=PROBE_GOOD)
    q = judge(ev, diagnose(ev))
    assert (q.verdict, q.decided_by) == ("good", "probe") and q.probe_gain == pytest.approx(0.07)


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
    assert q["verdict"] == "good" and q["siblings"]["position"] == 2 and q["siblings"]["of"] == 3
    assert q["siblings"]["best"]["run_id"] == home["better"]
    text = quality_text(q)
    assert text.startswith(f"**Run {home['good']} looks good.**") and f"run {home['better']} leads with 120" in text


def test_the_diagnosis_of_unlabelled_data_says_how_good_it_is(home):
    d = diagnose_run(home["home"], home["weak"])
    assert d["verdict"] == "healthy" and d["quality"]["verdict"] == "weak"
    assert "Quality without labels: weak - LiDAR went from 60.0" in diagnosis_text(d)


def test_the_chat_answers_is_it_any_good_without_labels(home):
    from agent.session import Agent

    out = Agent(home["home"]).chat(f"is run {home['weak']} any good without labels?", "q1")
    assert out["tool_calls"][0] == {"name": "judge_run", "args": {"run_id": home["weak"]}, "status": "ok"}
    assert f"Run {home['weak']} looks weak." in out["answer"] and "number 3" in out["answer"]
