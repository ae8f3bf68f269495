"""A failing run beside a healthy one of the same method, data and backbone that differs in a few recipe settings:
the diagnosis names them and the recommendation offers the healthy run's values before its blind fallback. On
constructed runs: configs and traces written to be what each test says."""

from test_diagnosis_synthetic import make_run, trace

from tools.diagnosis import diagnose, recommend

COLLAPSED = {"std": (0.08, 0.004), "rank": (20, 1.2), "uni": (-1.0, -0.02)}  # 0.03x isotropic at d=64: complete
HEALTHY = {"std": (0.05, 0.12), "rank": (10, 25)}


def _sibling(tmp_path, overrides, name):
    ev = make_run(tmp_path, overrides=overrides, rows=trace(**HEALTHY), name=name)
    assert diagnose(ev).verdict == "healthy"
    return {"run_id": name, "method": "simclr", "verdict": "healthy", "probe_acc": None, "run_dir": str(tmp_path / name)}


def test_the_closest_healthy_run_s_values_are_recommended(tmp_path):
    failed = make_run(tmp_path, overrides={"optim.lr": 3e-3, "method_args.temperature": 0.1},
                      rows=trace(**COLLAPSED), name="failed")
    one_off = _sibling(tmp_path, {"optim.lr": 1e-3, "method_args.temperature": 0.1}, "one_off")
    two_off = _sibling(tmp_path, {"optim.lr": 1e-3, "method_args.temperature": 0.5}, "two_off")
    d = diagnose(failed, [two_off, one_off])
    assert d.verdict == "complete_collapse"
    assert d.healthy_diff == {"run_id": "one_off", "change": {"optim.lr": 1e-3}}
    assert any("differs from this run only in optim.lr (0.003 here, 0.001 there)" in e.explanation
               for e in d.evidence)
    r = recommend(failed, d)
    assert (r.category, r.change, r.cause) == ("model", {"optim.lr": 1e-3}, "fallback")
    assert "run one_off trained healthy" in r.rationale


def test_a_sibling_that_differs_in_many_settings_or_a_healthy_run_points_at_nothing(tmp_path):
    failed = make_run(tmp_path, overrides={"optim.lr": 3e-3, "method_args.temperature": 0.1},
                      rows=trace(**COLLAPSED), name="failed")
    far = _sibling(tmp_path, {"optim.lr": 1e-3, "method_args.temperature": 0.5, "augment.strength": 0.5,
                              "train.batch_size": 32}, "far")
    d = diagnose(failed, [far])
    assert d.healthy_diff is None and recommend(failed, d).change != {"optim.lr": 1e-3}
    fine = make_run(tmp_path, overrides={"optim.lr": 3e-3}, rows=trace(**HEALTHY), name="fine")
    near = _sibling(tmp_path, {"optim.lr": 1e-3}, "near")
    assert diagnose(fine, [near]).healthy_diff is None  # nothing failed, nothing to take


def test_a_missing_guard_still_outranks_a_sibling_s_values(tmp_path):
    """BYOL without its predictor beside a healthy BYOL at another rate: restore the predictor first."""
    failed = make_run(tmp_path, "byol", {"method_args.predictor": False, "optim.lr": 3e-3},
                      rows=trace(loss=(1.0, 0.01), **COLLAPSED), name="failed")
    make_run(tmp_path, "byol", {"optim.lr": 1e-3}, rows=trace(loss=(2.0, 1.0), **HEALTHY), name="ok")
    sib = {"run_id": "ok", "method": "byol", "verdict": "healthy", "probe_acc": None, "run_dir": str(tmp_path / "ok")}
    d = diagnose(failed, [sib])
    assert d.healthy_diff["change"] == {"method_args.predictor": True, "optim.lr": 1e-3}
    assert recommend(failed, d).change == {"method_args.predictor": True}


def test_a_sibling_s_values_come_before_a_cause_that_is_the_recipe_itself(tmp_path):
    """A dimensional collapse at the default augmentation names "strong augmentation" as a likely cause: the
    published recipe, which every healthy sibling shares. A healthy sibling that differs only in the rate is the
    better lead (a SimCLR sweep's run at lr 0.01 was told augment.strength=0.6); without one the cause still leads."""
    dimensional = {"std": (0.11, 0.04), "rank": (40, 10)}
    failed = make_run(tmp_path, overrides={"optim.lr": 1e-2}, rows=trace(**dimensional), name="failed")
    sibling = _sibling(tmp_path, {"optim.lr": 3e-3}, "sibling")
    d = diagnose(failed, [sibling])
    assert d.verdict == "dimensional_collapse" and any(c.id == "strong_augmentation" for c in d.causes)
    assert recommend(failed, d).change == {"optim.lr": 3e-3}
    alone = diagnose(failed)
    assert recommend(failed, alone).change == {"augment.strength": 0.6}


def test_a_healthy_run_shorter_than_the_failure_is_no_yardstick(tmp_path):
    """A healthy sibling that trained a fifth of the failed run's steps never reached where it failed: its values
    are not offered (a 30-step DINO without centring read healthy, and "turn the centring off" was offered to a
    150-step run). One as long, or nearly (0.9x), still is."""
    failed = make_run(tmp_path, overrides={"optim.lr": 3e-3}, rows=trace(n=50, **COLLAPSED), name="failed")
    short = _sibling_of_length(tmp_path, 10, "short")  # steps 10..100 against 10..500
    assert diagnose(failed, [short]).healthy_diff is None
    long_enough = _sibling_of_length(tmp_path, 45, "long_enough")  # 450 of 500 steps
    assert diagnose(failed, [short, long_enough]).healthy_diff == {"run_id": "long_enough",
                                                                   "change": {"optim.lr": 1e-3}}


def _sibling_of_length(tmp_path, n, name):
    make_run(tmp_path, overrides={"optim.lr": 1e-3}, rows=trace(n=n, **HEALTHY), name=name)
    return {"run_id": name, "method": "simclr", "verdict": "healthy", "probe_acc": None, "run_dir": str(tmp_path / name)}


def test_a_recommendation_keeps_to_the_kind_and_the_settings_the_user_asked(tmp_path):
    """"a data change", "not the predictor": the best candidate that keeps to them, or none, naming the diagnosis's
    own first choice (a model fix is never passed off as the data change asked for)."""
    failed = make_run(tmp_path, "byol", {"method_args.predictor": False, "optim.lr": 3e-3},
                      rows=trace(loss=(1.0, 0.01), **COLLAPSED), name="failed")
    d = diagnose(failed)
    first = recommend(failed, d)
    assert first.change == {"method_args.predictor": True} and first.category == "model"
    assert recommend(failed, d, category="model") == first  # already of the kind asked
    other = recommend(failed, d, avoid=("method_args.predictor",))
    assert other.change and "method_args.predictor" not in other.change and other.cause == "asked"
    assert "method_args.predictor=true" in other.rationale  # the first choice is named, not hidden
    none = recommend(failed, d, category="retrieval")
    assert (none.change, none.cause, none.launchable) == ({}, "none_asked", False)
    assert "a retrieval change" in none.rationale and "method_args.predictor=true" in none.rationale


def test_a_collapse_with_no_lead_tries_the_rate_then_a_larger_batch_then_a_slower_teacher(tmp_path):
    """No guard missing, no sibling, no setting out of range: the rate leads; once the lineage tried it and still
    collapsed (or the user rules it out), the next usual causes follow, each only where the run leaves room for it
    (a collapsed BYOL had nothing after the rate: "every change we would suggest has already been tried")."""
    failed = make_run(tmp_path, "byol", {"train.batch_size": 64, "method_args.ema_momentum": 0.99},
                      rows=trace(loss=(1.0, 0.01), **COLLAPSED), name="failed")
    d = diagnose(failed)
    assert d.verdict == "complete_collapse" and not d.healthy_diff
    rate = recommend(failed, d)
    assert list(rate.change) == ["optim.lr"] and rate.cause == "fallback"
    tried = [{"run_id": "7", "change": rate.change, "verdict": "complete_collapse"}]
    batch = recommend(failed, d, history=tried)
    assert batch.change == {"train.batch_size": 256} and "optim.lr=" in batch.rationale  # says what it skipped
    tried.append({"run_id": "8", "change": batch.change, "verdict": "complete_collapse"})
    assert recommend(failed, d, history=tried).change == {"method_args.ema_momentum": 0.996}
    assert recommend(failed, d, avoid=("optim.lr", "train.batch_size")).change == {"method_args.ema_momentum": 0.996}

    room_taken = make_run(tmp_path, "simclr", {"train.batch_size": 256}, rows=trace(**COLLAPSED), name="wide")
    d = diagnose(room_taken)
    first = recommend(room_taken, d)
    # SimCLR has no teacher and its batch is already 256: after the rate, nothing to propose
    assert recommend(room_taken, d, history=[{"run_id": "9", "change": first.change,
                                               "verdict": "complete_collapse"}]).cause == "exhausted"
