"""Diagnosis rules on synthetic metric traces: the cases that are slow or awkward to induce for real."""

import json
import math

import pytest
from conftest import tiny_config

from ssl_runtime.config import save_config
from ssl_runtime.configure import build_config
from ssl_runtime.run_folder import RunFolder
from tools.diagnosis import diagnose, load_evidence, recommend


def make_run(tmp_path, method="simclr", overrides=None, rows=(), probe=None, status="succeeded", d=64, n=512,
             data=None, name="run"):
    folder = RunFolder(tmp_path / name).create()
    save_config(build_config(tiny_config(method, **(overrides or {}))), folder.config)
    data = data or {"num_images": 1797, "duplicates": 0, "skipped_files": 0, "class_counts": [180] * 10}
    folder.set_status("running", "running", precision="32", embedding_dim=d, health_samples=n, data=data,
                      total_steps=len(rows) * 10)
    for r in rows:
        folder.log_metrics(r)
    if status != "running":
        folder.write_summary({"status": status, "embedding_dim": d, "health_samples": n, "data": data, "epochs": 30,
                              "peak_lr": 1e-3})
        folder.set_status(status)
    if probe:
        folder.probe.write_text(json.dumps(probe))
    return load_evidence(folder.path)


def trace(n=10, loss=(5.0, 4.0), std=(0.1, 0.1), rank=(30, 30), uni=(-2.0, -3.0), extra=None):
    rows = []
    for i in range(n):
        t = i / (n - 1)
        row = {"step": (i + 1) * 10, "loss": loss[0] + (loss[1] - loss[0]) * t, "grad_norm": 1.0,
               "health/std": std[0] + (std[1] - std[0]) * t, "health/rank": rank[0] + (rank[1] - rank[0]) * t,
               "health/uniformity": uni[0] + (uni[1] - uni[0]) * t, "health/alignment": 0.5}
        for k, (a, b) in (extra or {}).items():
            row[k] = a + (b - a) * t
        rows.append(row)
    return rows


PROBE_GOOD = {"probe/acc": 0.97, "knn/acc": 0.95, "knn/recall@5": 0.99, "baseline": {"probe/acc": 0.9, "knn/acc": 0.85}}


def test_healthy(tmp_path):
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25)), probe=PROBE_GOOD)
    assert diagnose(ev).verdict == "healthy"


def test_dimensional_collapse_rank_falls_while_loss_improves(tmp_path):
    """Rank under half its peak (10 of a peak 37: 1.8x under the drop bar; 16% of capacity, 2x over the level
    bar) with the spread falling with it (to 0.47x its best, 1.5x under the 0.71 bar): variance in fewer axes."""
    ev = make_run(tmp_path, rows=trace(std=(0.11, 0.04), rank=(40, 10)))
    d = diagnose(ev)
    assert d.verdict == "dimensional_collapse", d.to_dict()
    assert any(e.metric == "health/rank" and "fell from" in e.explanation for e in d.evidence)


def test_rank_falling_from_its_peak_with_the_spread_holding_is_not_a_collapse(tmp_path):
    """Healthy runs trained long let RankMe fall from an early peak while their spread holds (the failure suite's
    "train longer" follow-ups): the same fall as above, with the spread at 0.99x its best, is no collapse."""
    ev = make_run(tmp_path, rows=trace(std=(0.10, 0.11), rank=(40, 10)), probe=PROBE_GOOD)
    d = diagnose(ev)
    assert d.verdict != "dimensional_collapse", d.to_dict()


def test_dino_is_judged_by_its_teacher_not_by_its_bottleneck_geometry(tmp_path):
    """Healthy DINO's bottleneck reads collapsed by the projector bars (spread 0.1x isotropic, uniformity near 0,
    RankMe 5% of capacity); a teacher near-uniform at 0.9 ln K, as short healthy runs end, is no collapse either
    (5x the uniform bar's 2% gap). A teacher at uniform (0.999 ln K) with the student on it (KL 0.2% of ln K, 50x
    under its bar) is DINO's uniform collapse."""
    k = 256
    ln_k = math.log(k)
    geometry = {"std": (0.02, 0.0125), "rank": (3.0, 3.2), "uni": (-0.05, -0.03)}
    ok = make_run(tmp_path, "dino", rows=trace(loss=(ln_k, ln_k * 0.97), **geometry, extra={
        "health/teacher_entropy": (ln_k * 0.5, ln_k * 0.9), "health/kl": (0.1 * ln_k, 0.03 * ln_k)}), name="ok")
    assert ok.method == "dino" and ok.embedding_dim == 64
    assert diagnose(ok).verdict not in ("complete_collapse", "dimensional_collapse"), diagnose(ok).to_dict()
    bad = make_run(tmp_path, "dino", rows=trace(loss=(ln_k, ln_k), **geometry, extra={
        "health/teacher_entropy": (ln_k * 0.99, ln_k * 0.999), "health/kl": (0.1 * ln_k, 0.002 * ln_k)}), name="bad")
    d = diagnose(bad)
    assert d.verdict == "complete_collapse" and [e.metric for e in d.evidence] == ["health/teacher_entropy"]


def test_dino_uniform_collapse_at_ln_k(tmp_path):
    k = 256
    ln_k = math.log(k)
    ev = make_run(tmp_path, "dino", {"method_args.teacher_temp": 0.3},
                  rows=trace(loss=(ln_k, ln_k), std=(0.1, 0.1), rank=(30, 28),
                             extra={"health/teacher_entropy": (ln_k * 0.99, ln_k * 0.995), "health/kl": (0.01, 0.0)}))
    d = diagnose(ev)
    assert d.verdict == "complete_collapse"
    r = recommend(ev, d)
    assert r.category == "model" and r.change["method_args.teacher_temp"] == 0.04


def test_dino_uniform_collapse_without_the_heads_batch_norm_on_a_cnn(tmp_path):
    """A DINO head without BatchNorm on a small CNN (the default before it was auto) is named as the cause of a
    uniform collapse and turned on; a head with it, or a ViT, is not blamed."""
    ln_k = math.log(256)
    uniform = trace(loss=(ln_k, ln_k), std=(0.01, 0.001), rank=(6, 1.5),
                    extra={"health/teacher_entropy": (ln_k * 0.99, ln_k * 0.999), "health/kl": (0.01, 0.0)})
    off = make_run(tmp_path, "dino", {"method_args.head_batch_norm": False}, rows=uniform, name="off")
    d = diagnose(off)
    assert d.verdict == "complete_collapse"
    assert "dino_head_no_bn" in [c.id for c in d.causes]
    assert recommend(off, d).change == {"method_args.head_batch_norm": True}
    on = make_run(tmp_path, "dino", {"method_args.head_batch_norm": True}, rows=uniform, name="on")
    vit = make_run(tmp_path, "dino", {"method_args.head_batch_norm": False, "backbone.name": "vit_tiny"},
                   rows=uniform, name="vit")
    for ev in (on, vit):
        assert "dino_head_no_bn" not in [c.id for c in diagnose(ev).causes]


def test_dino_head_read_as_the_run_fixed_it_at_its_start(tmp_path):
    """A config that leaves the head to auto is judged by what the run started with (summary's `resolved`): off on
    a CNN is the cause, on is not."""
    ln_k = math.log(256)
    uniform = trace(loss=(ln_k, ln_k), std=(0.01, 0.001), rank=(6, 1.5),
                    extra={"health/teacher_entropy": (ln_k * 0.99, ln_k * 0.999), "health/kl": (0.01, 0.0)})
    causes = {}
    for started in (False, True):
        make_run(tmp_path, "dino", {"backbone.name": "auto"}, rows=uniform, name=f"auto-{started}")
        folder = RunFolder(tmp_path / f"auto-{started}")
        folder.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512,
                          resolved={"backbone.name": "small_cnn", "method_args.head_batch_norm": started})
        causes[started] = [c.id for c in diagnose(load_evidence(folder.path)).causes]
    assert "dino_head_no_bn" in causes[False] and "dino_head_no_bn" not in causes[True]


def test_a_centred_dino_teacher_climbing_from_a_sharp_start_is_no_collapse(tmp_path):
    """With BatchNorm in the head a healthy teacher leaves the warm-up at 0.36-0.46 ln K and climbs: that is no
    one-prototype collapse while the centring is on (a quarter of ln K is the bar); the same teacher uncentred is,
    and a centred teacher on a few prototypes (0.1 ln K) still is."""
    ln_k = math.log(256)
    def run(name, entropy, overrides=None):
        rows = trace(n=12, loss=(5.0, 4.0), std=(0.02, 0.13), rank=(2, 18),
                     extra={"health/teacher_entropy": entropy, "health/kl": (0.6 * ln_k, 0.5 * ln_k)})
        return diagnose(make_run(tmp_path, "dino", overrides, rows=rows, status="running", name=name))
    climbing = (0.38 * ln_k, 0.45 * ln_k)
    assert run("centred", climbing).verdict != "complete_collapse"
    assert run("uncentred", climbing, {"method_args.center_momentum": 1.0}).verdict == "complete_collapse"
    assert run("few", (0.12 * ln_k, 0.08 * ln_k)).verdict == "complete_collapse"


def test_dino_one_prototype_collapse_without_centering(tmp_path):
    ev = make_run(tmp_path, "dino", {"method_args.center_momentum": 1.0},
                  rows=trace(loss=(3.0, 0.01), extra={"health/teacher_entropy": (2.0, 0.01), "health/kl": (1.0, 0.0)}))
    d = diagnose(ev)
    assert d.verdict == "complete_collapse"
    assert recommend(ev, d).change == {"method_args.center_momentum": 0.9}


def test_vicreg_variance_term_at_its_maximum(tmp_path):
    ev = make_run(tmp_path, "vicreg", {"method_args.mu": 0.0},
                  rows=trace(extra={"loss/variance": (0.5, 0.95)}))
    d = diagnose(ev)
    assert d.verdict == "complete_collapse"
    assert recommend(ev, d).change["method_args.mu"] == 25.0


def test_retrieval_gap_on_a_good_encoder(tmp_path):
    probe = {"probe/acc": 0.95, "knn/acc": 0.70, "knn/recall@5": 0.8, "baseline": {"probe/acc": 0.6, "knn/acc": 0.5}}
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25)), probe=probe)
    d = diagnose(ev)
    assert d.verdict == "healthy"
    r = recommend(ev, d)
    assert r.category == "retrieval" and all(k.startswith("eval.") for k in r.change)


def test_a_retrieval_change_its_probe_already_used_is_not_recommended_again(tmp_path):
    """A re-probe applies an eval change without a new run, so the lineage does not hold it: the probe's own record
    of its settings does (the failure suite's second attempt re-probed the same setting)."""
    probe = {"probe/acc": 0.95, "knn/acc": 0.70, "knn/recall@5": 0.8, "baseline": {"probe/acc": 0.6, "knn/acc": 0.5},
             "eval": {"feature_norm": "standardize", "knn_k": 20, "pooling": "auto"}}
    ev = make_run(tmp_path, rows=trace(std=(0.05, 0.12), rank=(10, 25)), probe=probe)
    r = recommend(ev, diagnose(ev))
    assert r.category == "retrieval" and r.change and r.change != {"eval.feature_norm": "standardize"}
    assert "not repeating eval.feature_norm=\"standardize\" tried in run" in r.rationale


def test_data_problem_duplicates_and_weak_probe(tmp_path):
    data = {"num_images": 1000, "duplicates": 600, "skipped_files": 0}
    probe = {"probe/acc": 0.5, "knn/acc": 0.45, "baseline": {"probe/acc": 0.52, "knn/acc": 0.4}}
    ev = make_run(tmp_path, rows=trace(), probe=probe, data=data)
    d = diagnose(ev)
    assert d.verdict == "data_problem"
    r = recommend(ev, d)
    assert r.category == "data" and r.change == {"data.dedup": True}


def test_insufficient_evidence_early_in_a_run(tmp_path):
    ev = make_run(tmp_path, rows=trace(n=2), status="running")
    d = diagnose(ev)
    assert d.verdict == "insufficient_evidence" and d.in_progress


def test_a_run_that_stopped_with_an_error_is_told_to_fix_it_not_to_let_it_run(tmp_path):
    make_run(tmp_path, rows=(), status="running")
    RunFolder(tmp_path / "run").set_status("failed", "ValueError: the loader found no images in ./data/x")
    ev = load_evidence(tmp_path / "run")
    d = diagnose(ev)
    assert d.verdict == "insufficient_evidence"
    rec = recommend(ev, d)
    assert "no images in ./data/x" in rec.rationale and "sslpilot resume" in rec.rationale
    assert "let it run" not in rec.rationale and not rec.launchable


def test_a_run_that_ended_too_early_to_judge_is_not_told_to_let_it_run(tmp_path):
    ev = make_run(tmp_path, rows=trace(n=2), status="cancelled")
    d = diagnose(ev)
    assert d.verdict == "insufficient_evidence" and not d.in_progress
    rec = recommend(ev, d)
    assert "ended (cancelled)" in rec.rationale and "let it run" not in rec.rationale
    assert "the run ended (cancelled) with only 2 loss values" in d.evidence[0].explanation
    running = make_run(tmp_path, rows=trace(n=2), status="running", name="live")
    assert "let it run" in recommend(running, diagnose(running)).rationale  # still going: more will come
    assert diagnose(running).evidence[0].explanation.endswith("so far; wait for more steps")


def test_mae_weak_probe_is_expected(tmp_path):
    probe = {"probe/acc": 0.5, "knn/acc": 0.45, "baseline": {"probe/acc": 0.55, "knn/acc": 0.4}}
    ev = make_run(tmp_path, "mae", rows=trace(loss=(1.0, 0.5)), probe=probe)
    d = diagnose(ev)
    assert d.verdict == "weak_representation"
    assert any(c.id == "mae_probe_expected" for c in d.causes)


def test_recommend_does_not_repeat_a_failed_change(tmp_path):
    ev = make_run(tmp_path, "simsiam", {"method_args.predictor": False},
                  rows=trace(loss=(0.0, -0.97), std=(0.05, 0.01), rank=(20, 1.5), uni=(-1, -0.05)))
    d = diagnose(ev)
    assert d.verdict == "complete_collapse"
    first = recommend(ev, d)
    assert first.change == {"method_args.predictor": True}
    history = [{"run_id": "7", "change": {"method_args.predictor": True}, "verdict": "complete_collapse"}]
    second = recommend(ev, d, history)
    assert second.change != first.change and second.skipped[0]["run_id"] == "7"
    assert "run 7" in second.rationale


@pytest.mark.parametrize("lr, verdict", [(1e-9, "not_learning")])
def test_flat_loss_with_tiny_lr(tmp_path, lr, verdict):
    ev = make_run(tmp_path, overrides={"optim.lr": lr}, rows=trace(loss=(4.85, 4.84), std=(0.02, 0.02), rank=(5, 5)))
    ev.peak_lr = lr
    d = diagnose(ev)
    assert d.verdict == verdict
    r = recommend(ev, d)
    assert r.category == "model" and r.change["optim.lr"] > lr * 1000


@pytest.mark.parametrize("optim", ["auto", "sgd"])
def test_a_rate_fix_goes_back_to_the_optimizer_its_rate_belongs_to(tmp_path, optim):
    """The method's default rate is AdamW's: a plain-SGD run told to use it would not learn (the failure suite's
    MoCo at SGD lr 100 -> SGD lr 5e-4 read not learning), so the change also restores the optimizer."""
    ev = make_run(tmp_path, overrides={"optim.lr": 1e-9, "optim.name": optim},
                  rows=trace(loss=(4.85, 4.84), std=(0.02, 0.02), rank=(5, 5)))
    ev.peak_lr = 1e-9
    r = recommend(ev, diagnose(ev))
    assert r.change["optim.lr"] > 1e-6
    assert r.change.get("optim.name") == (None if optim == "auto" else "auto")


def test_monitor_alerts_once_and_can_stop(tmp_path):
    from tools.diagnosis import monitor_tick
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue

    home = Home.resolve(tmp_path / "home")
    run = enqueue(home, tiny_config("simsiam", **{"method_args.predictor": False}))
    folder = RunFolder(run.run_dir)
    folder.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512,
                      data={"num_images": 1797, "duplicates": 0, "skipped_files": 0})
    for r in trace(loss=(0.0, -0.97), std=(0.05, 0.01), rank=(20, 1.5), uni=(-1, -0.05)):
        folder.log_metrics(r)
    alerts = monitor_tick(home)
    assert [a["verdict"] for a in alerts] == ["complete_collapse"]
    assert [e for e in folder.read_events() if e["type"] == "alert"][0]["verdict"] == "complete_collapse"
    assert monitor_tick(home) == []  # one alert per verdict, not one per pass
    Registry(home).update(run.id, pid=None)
    folder.event("note", "a new verdict would alert again")
    folder.read_events()
    alerts = monitor_tick(home, stop_on=("complete_collapse",))
    assert alerts == []  # already alerted; stopping applies to new alerts
    other = enqueue(home, tiny_config("byol", **{"method_args.predictor": False}))
    f2 = RunFolder(other.run_dir)
    f2.set_status("running", "running", precision="32", embedding_dim=64, health_samples=512, data={})
    for r in trace(loss=(2.0, 0.01), std=(0.05, 0.005), rank=(20, 1.2), uni=(-1, -0.02)):
        f2.log_metrics(r)
    alerts = monitor_tick(home, stop_on=("complete_collapse",))
    assert [a["run_id"] for a in alerts] == [other.id]
    assert Registry(home).get(other.id).cancel_requested_at is not None


LM_OVERRIDES = {"data.name": "shapes", "backbone.name": "auto"}


def _lm_run(tmp_path, ppl, loss=(5.0, 3.0), name="lm"):
    rows = trace(loss=loss, std=(0.01, 0.01), rank=(2, 2), uni=(-0.05, -0.05),
                 extra={"val/perplexity": ppl})
    return make_run(tmp_path, "clm", LM_OVERRIDES, rows=rows, d=256, name=name)


def test_language_model_is_judged_by_perplexity_not_embedding_spread(tmp_path):
    # LM hidden states sit in a narrow cone: tiny spread and rank would read as collapse for a vision method
    ev = _lm_run(tmp_path, ppl=(180.0, 40.0))
    d = diagnose(ev)
    assert d.verdict == "healthy", d.to_dict()
    assert d.evidence[0].metric == "val/perplexity" and "fell" in d.evidence[0].explanation
    r = recommend(ev, d)  # longer, judged by its perplexity: a language model has no linear probe
    assert r.expected_effect == "lower held-out perplexity" and r.verify.startswith("val/perplexity")


def test_language_model_not_learning(tmp_path):
    ev = _lm_run(tmp_path, ppl=(180.0, 175.0), loss=(5.2, 5.1))
    d = diagnose(ev)
    assert d.verdict == "not_learning", d.to_dict()
    r = recommend(ev, d)
    assert r.category == "model" and "optim.lr" in r.change


def test_language_model_overfitting_is_a_data_problem(tmp_path):
    rows = [{"step": s, "loss": 5.0 - s / 100, "val/perplexity": p}
            for s, p in zip(range(10, 110, 10), (150, 90, 60, 45, 40, 44, 50, 56, 60, 64), strict=True)]
    ev = make_run(tmp_path, "mlm", LM_OVERRIDES, rows=rows, d=256, name="overfit")
    d = diagnose(ev)
    assert d.verdict == "data_problem" and any(c.id == "small_corpus" for c in d.causes), d.to_dict()
    r = recommend(ev, d)
    assert r.category == "data" and r.change == {"train.steps": 50}


@pytest.mark.parametrize("lr, loss, flat", [
    (None, (22.0, 21.6), False),  # a slow loss with a large offset (VICReg ~22) at the method's rate: learning
    (1e-9, (22.0, 21.6), True),  # the same 1.8% with a rate 1e-6x too small: explained, so not learning
    (None, (22.0, 21.98), True),  # flatter than 0.5% with nothing to explain it: still not learning
])
def test_how_flat_a_loss_must_be_depends_on_whether_something_explains_it(tmp_path, lr, loss, flat):
    from tools.diagnosis import alerting

    overrides = {"optim.lr": lr} if lr else {}
    ev = make_run(tmp_path, "vicreg", overrides=overrides, rows=trace(loss=loss), status="running")
    if lr:
        ev.peak_lr = lr
    d = diagnose(ev)
    assert (d.verdict == "not_learning") is flat, d.to_dict()
    assert (alerting(ev) is not None and alerting(ev).verdict == "not_learning") is flat


def test_a_healthy_reading_names_a_removed_guard_and_the_advice_restores_it(tmp_path):
    """SimSiam without its predictor that has not collapsed (yet, or at this seed): the verdict stands, with less
    confidence, the missing predictor first among the causes, and the recommendation puts it back."""
    rows = trace(std=(0.05, 0.12), rank=(10, 25))
    plain = diagnose(make_run(tmp_path, "simsiam", rows=rows, probe=PROBE_GOOD, name="plain"))
    ev = make_run(tmp_path, "simsiam", {"method_args.predictor": False}, rows=rows, probe=PROBE_GOOD, name="bare")
    d = diagnose(ev)
    assert plain.verdict == d.verdict == "healthy"
    assert not any(c.id == "no_predictor" for c in plain.causes)
    assert d.causes[0].id == "no_predictor" and d.confidence < plain.confidence
    assert any(e.metric == "config" and "no_predictor" in str(e.value) for e in d.evidence)
    assert recommend(ev, d).change == {"method_args.predictor": True}


def test_a_removed_guard_outranks_a_retrieval_gap(tmp_path):
    """Barlow Twins without its off-diagonal term, read healthy, whose kNN is also far under its probe (30 points,
    3x the 10-point gap): the missing term is listed first (causes are listed by score) and restored first; the
    kNN comparison is still named."""
    probe = {**PROBE_GOOD, "knn/acc": 0.67}
    ev = make_run(tmp_path, "barlow_twins", {"method_args.lambda_offdiag": 0.0}, rows=trace(std=(0.05, 0.12),
                  rank=(10, 25)), probe=probe)
    d = diagnose(ev)
    causes = [c["id"] for c in d.to_dict()["causes"]]
    assert d.verdict == "healthy" and causes[0] == "barlow_no_offdiag" and "knn_comparison" in causes
    assert recommend(ev, d).change == {"method_args.lambda_offdiag": 0.0051}


def test_a_healthy_reading_under_a_huge_sgd_rate_names_it_and_the_advice_restores_the_default(tmp_path):
    """SimCLR under plain SGD at lr 50 (50x the 1.0 bar of sgd_high_lr) that learned anyway: the verdict stands,
    with less confidence, the rate is named first and the recommendation goes back to the default rate. The same
    trace at the default rate names nothing of the kind."""
    rows = trace(std=(0.05, 0.12), rank=(10, 25))
    plain = diagnose(make_run(tmp_path, "simclr", rows=rows, probe=PROBE_GOOD, name="plain"))
    ev = make_run(tmp_path, "simclr", {"optim.name": "sgd", "optim.lr": 50.0}, rows=rows, probe=PROBE_GOOD,
                  name="sgd")
    ev.peak_lr = 50.0
    d = diagnose(ev)
    assert plain.verdict == d.verdict == "healthy" and d.confidence < plain.confidence
    assert not any(c.id in ("sgd_high_lr", "lr_high") for c in plain.causes)
    assert d.to_dict()["causes"][0]["id"] == "sgd_high_lr"
    change = recommend(ev, d).change
    assert change == {"optim.name": "auto", "optim.lr": pytest.approx(ev.default_lr)}, change


def test_the_method_and_cause_papers_come_before_the_verdicts_general_ones():
    """Answers show three sources: a DINO collapse cites DINO's paper first (it came fourth, unshown, after
    SimSiam's, Wang & Isola's and RankMe's)."""
    from tools.diagnosis.references import DINO, MTEB, RANKME, SIMSIAM, citations_for

    assert citations_for("complete_collapse", "dino", [DINO])[:2] == [DINO, SIMSIAM]
    assert citations_for("complete_collapse", "simsiam")[0] == SIMSIAM  # once, though both lists name it
    assert len(citations_for("complete_collapse", "simsiam")) == len({c["source"] for c in citations_for(
        "complete_collapse", "simsiam")})
    assert citations_for("healthy", "mlm", [MTEB])[:3][0] == MTEB and RANKME in citations_for("healthy", "mlm")
