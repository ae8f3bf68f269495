"""A probe's gain over its random init read with its error. All on constructed inputs: per-row records, probe.json
files and metric traces written to be what each test says."""

import pytest
from test_diagnosis_synthetic import make_run, trace

from ssl_runtime.probe import gain_se, with_gain_se
from tools.diagnosis import diagnose
from tools.diagnosis.diagnose import gain_reading
from tools.diagnosis.quality import judge

HEALTHY = {"std": (0.05, 0.12), "rank": (10, 25)}  # spread 0.96x isotropic at d=64, rank 39% of capacity


def test_paired_error_is_the_spread_of_the_per_row_difference():
    """100 rows: 90 right for both, 4 only the trained encoder's, 1 only the baseline's, 5 neither. The difference
    is +1 on 4 rows, -1 on 1: mean 0.03, sample sd sqrt((5 - 100 * 0.03**2) / 99), over sqrt(100)."""
    trained = "1" * 90 + "1111" + "0" + "00000"
    base = "1" * 90 + "0000" + "1" + "00000"
    se = gain_se({"probe/correct": trained}, {"probe/correct": base})
    assert se == pytest.approx(((5 - 100 * 0.03 ** 2) / 99) ** 0.5 / 10)
    # rows that all agree: floored at one row that differs, not zero
    assert gain_se({"probe/correct": "1" * 40}, {"probe/correct": "1" * 40}) == pytest.approx(1 / 40)
    assert gain_se({"probe/correct": "1" * 40}, {"probe/correct": "1" * 39}) is None  # not the same rows


def test_probe_json_keeps_the_error_and_drops_the_rows():
    scores = {"probe/acc": 0.5, "probe/correct": "10", "baseline": {"probe/acc": 0.5, "probe/correct": "01"}}
    with_gain_se(scores)
    assert "probe/correct" not in scores and "probe/correct" not in scores["baseline"]
    assert scores["probe/gain_se"] == pytest.approx(2 ** 0.5 / 2 ** 0.5, abs=1e-4)  # sd of (+1, -1) is sqrt(2)


def test_a_gain_within_two_errors_of_the_bar_is_undecided():
    """-2.5 points: with a paired error of 0.5 points it is 7 errors under the bar (weak); on 40 rows with the
    unpaired error (about 7.7 points) it is half of one (undecided). Over the bar likewise."""
    assert gain_reading(-0.025, 0.005) == "under"
    assert gain_reading(-0.025, 0.077) == "undecided"
    assert gain_reading(-0.025, None) == "under"  # error unknown: the point estimate, as before
    assert gain_reading(0.02, 0.0) == "over"
    assert gain_reading(0.03, 0.016) == "undecided"  # +3 with an error of 1.6: within two errors of the bar
    assert gain_reading(0.20, 0.035) == "over"


def _probe(acc, base, **extra):
    return {"probe/acc": acc, "knn/acc": acc - 0.02, "knn/recall@5": 0.99, "baseline": {"probe/acc": base,
                                                                                      "knn/acc": base - 0.02},
            **extra}


def test_a_small_probe_does_not_call_a_healthy_run_weak(tmp_path):
    small = make_run(tmp_path, rows=trace(**HEALTHY), probe=_probe(0.85, 0.875, num_val=40), name="small")
    d = diagnose(small)
    assert d.verdict == "healthy", d.to_dict()
    said = next(e.explanation for e in d.evidence if e.metric == "probe/acc")
    assert "40 held-out images" in said and "decides nothing" in said
    q = judge(small, d)
    assert q.verdict == "usable" and q.decided_by == "probe" and "40 held-out images" in q.reason
    from agent.answers import quality_text

    said = quality_text(q.to_dict())
    assert "too close to its random init" in said and "without labels" not in said

    sure = make_run(tmp_path, rows=trace(**HEALTHY), probe=_probe(0.85, 0.875, num_val=359,
                                                                   **{"probe/gain_se": 0.005}), name="sure")
    d = diagnose(sure)
    assert d.verdict == "weak_representation", d.to_dict()
    assert judge(sure, d).verdict == "weak"


def test_a_small_probe_does_not_blame_the_knn_comparison(tmp_path):
    """kNN 17.5 points under the probe on 40 rows (an unpaired error of 9.3, so two of them are 18.6): not read as a
    comparison problem; the same gap on 400 rows (error 2.9) is."""
    probe = {"probe/acc": 0.85, "knn/acc": 0.675, "baseline": {"probe/acc": 0.80, "knn/acc": 0.6}}
    few = diagnose(make_run(tmp_path, rows=trace(**HEALTHY), probe={**probe, "num_val": 40}, name="few"))
    many = diagnose(make_run(tmp_path, rows=trace(**HEALTHY), probe={**probe, "num_val": 400}, name="many"))
    assert not any(c.id == "knn_comparison" for c in few.causes)
    assert any(c.id == "knn_comparison" for c in many.causes)


def test_a_probe_takes_eval_settings_only(tmp_path):
    from ssl_runtime.errors import ConfigError
    from tools import runs
    from tools.home import Home

    with pytest.raises(ConfigError) as err:
        runs.probe(Home(tmp_path), "1", sets=["optim.lr=0.1"])
    assert err.value.field == "--set" and "eval.time_budget_s" in err.value.fix


def test_the_probe_answer_gives_the_gain_with_its_error():
    from agent.answers import probe_text

    said = probe_text({"probe/acc": 0.9, "knn/acc": 0.8, "baseline": {"probe/acc": 0.85, "knn/acc": 0.7},
                       "probe/gain_se": 0.01, "num_val": 359})
    assert "gain +5.0 ± 2.0 points on 359 held-out images" in said
    assert "±" not in probe_text({"probe/acc": 0.9, "knn/acc": 0.8, "baseline": {"probe/acc": 0.85}})


def test_a_gain_over_the_bar_within_its_error_is_not_called_good(tmp_path):
    """+3 points with a paired error of 1.6 (digits' 359 images): the lower end of the interval is under the bar, so
    the quality answer is usable, not good; +20 with an error of 3.5 (the textures) is good."""
    close = make_run(tmp_path, rows=trace(**HEALTHY), name="close",
                     probe=_probe(0.98, 0.95, num_val=359, **{"probe/gain_se": 0.016}))
    d = diagnose(close)
    assert d.verdict == "healthy" and judge(close, d).verdict == "usable"
    clear = make_run(tmp_path, rows=trace(**HEALTHY), name="clear",
                     probe=_probe(0.70, 0.50, num_val=300, **{"probe/gain_se": 0.035}))
    d2 = diagnose(clear)
    assert judge(clear, d2).verdict == "good" and d2.confidence == pytest.approx(d.confidence + 0.15)


def test_the_probe_card_shows_the_gain_with_its_error():
    from streamlit.testing.v1 import AppTest

    def app():
        from ui.cards import probe_card

        probe_card({"probe/acc": 0.9, "knn/acc": 0.8, "baseline": {"probe/acc": 0.85, "knn/acc": 0.7},
                    "probe/gain_se": 0.01, "num_val": 359}, "p")

    at = AppTest.from_function(app, default_timeout=60).run()
    assert not at.exception
    assert at.metric[0].delta == "+0.050 ± 0.020 vs random init"
    assert "on 359 held-out images" in at.caption[0].value
