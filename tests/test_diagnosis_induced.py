"""The diagnosis pipeline end to end (registry run -> diagnose_run -> recommend_run) on the five induced failures,
with metric curves built to be healthy, collapsed, diverged, flat or trivially aligned. Whether real tiny runs on
digits really fail this way is measured in benchmarks/induced_failures.py, not asserted here: it depends on the
CPU's numerics."""

import json
import math

import pytest
from conftest import COLLAPSE, COLLAPSED, tiny_config

from tools.diagnosis import diagnose, diagnose_run, load_evidence, recommend_run
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue

PROBE_GOOD = {"probe/acc": 0.97, "knn/acc": 0.95, "knn/recall@5": 0.99, "baseline": {"probe/acc": 0.9, "knn/acc": 0.85}}
PROBE_AT_BASELINE = {"probe/acc": 0.90, "knn/acc": 0.85, "baseline": {"probe/acc": 0.91, "knn/acc": 0.86}}
D = 64  # projector width of the constructed runs; isotropic spread 1/sqrt(64) = 0.125


def curve(n: int, **spans) -> list[dict]:
    """n rows, each metric moving linearly from its first to its last value."""
    rows = []
    for i in range(n):
        t = i / (n - 1)
        row = {"step": (i + 1) * 10, "grad_norm": 1.0, "health/alignment": 0.5}
        row.update({k: a + (b - a) * t for k, (a, b) in spans.items()})
        rows.append(row)
    return rows


HEALTHY = curve(12, loss=(5.0, 3.5), **{"health/std": (0.06, 0.11), "health/rank": (8, 30),
                                       "health/uniformity": (-1.5, -3.5)})
COLLAPSING = curve(12, loss=(0.0, -0.98), **{"health/std": (0.1, 0.001), "health/rank": (20, 1.1),
                                            "health/uniformity": (-2.0, -0.02)})
FLAT = curve(12, loss=(4.85, 4.849), **{"health/std": (0.05, 0.05), "health/rank": (12, 12),
                                       "health/uniformity": (-2.0, -2.0)})
EXPLODING = curve(4, loss=(6.0, 80.0), **{"health/std": (0.1, 0.1), "health/rank": (20, 20)}) + [
    {"step": 50, "loss": math.nan, "grad_norm": math.inf}]
TRIVIAL = [{**r, "loss": 0.5 ** (i + 1), "health/alignment": 0.0} for i, r in enumerate(HEALTHY)]

CASES = {
    # name: (method, overrides, rows, status, probe, verdicts accepted, category, expected change keys)
    "healthy": ("simclr", {}, HEALTHY, "succeeded", PROBE_GOOD, ("healthy",), None, None),
    "collapse": ("simsiam", COLLAPSE, COLLAPSING, "succeeded", None, COLLAPSED, "model",
                 {"method_args.stop_gradient", "method_args.predictor"}),
    "divergence": ("mae", {"optim.name": "sgd", "optim.lr": 10.0}, EXPLODING, "diverged", None, ("diverged",),
                   "model", {"optim.lr"}),
    "no_learning": ("simclr", {"optim.lr": 1e-9}, FLAT, "succeeded", None, ("not_learning",), "model", {"optim.lr"}),
    "identical_views": ("simclr", {"augment.strength": 0.0}, TRIVIAL, "succeeded", PROBE_AT_BASELINE,
                        ("weak_representation",), "data", {"augment.strength"}),
}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("diag"))


def constructed_run(home, method, overrides, rows, status, probe=None):
    """A registry run whose folder holds the given curve, as a finished worker would have left it."""
    from ssl_runtime.run_folder import RunFolder

    run = enqueue(home, tiny_config(method, **overrides))
    folder = RunFolder(run.run_dir)
    data = {"num_images": 1797, "duplicates": 0, "skipped_files": 0, "class_counts": [180] * 10}
    folder.set_status("running", "running", precision="32", embedding_dim=D, health_samples=512, data=data,
                      total_steps=rows[-1]["step"])
    for r in rows:
        folder.log_metrics(r)
    if status != "running":
        folder.write_summary({"status": status, "embedding_dim": D, "health_samples": 512, "data": data,
                              "epochs": 30, "peak_lr": 1e-3, "steps": rows[-1]["step"]})
        folder.set_status(status)
    if probe:
        folder.probe.write_text(json.dumps(probe))
    Registry(home).sync(run.id)
    return run


@pytest.mark.parametrize("name", list(CASES))
def test_induced_failure_gets_its_verdict_and_a_fix_of_the_right_class(name, home):
    method, overrides, rows, status, probe, verdicts, category, keys = CASES[name]
    run = constructed_run(home, method, overrides, rows, status, probe)
    d = diagnose_run(home, run.id)
    r = recommend_run(home, run.id)
    assert d["verdict"] in verdicts, d
    if category is not None:
        assert r["category"] == category, r
    if keys is not None:
        assert keys <= set(r["change"]), r
    assert d["evidence"] and all(set(e) == {"metric", "value", "step", "threshold", "explanation"}
                                 for e in d["evidence"])
    assert d["citations"] and all({"title", "source"} <= set(c) for c in d["citations"])
    assert r["rationale"] and r["verify"]


def test_collapse_is_flagged_while_running(home):
    """Early warning: two thirds of a collapsing curve, the run still going, already reads as collapse."""
    run = constructed_run(home, "simsiam", COLLAPSE, COLLAPSING[:8], "running")
    d = diagnose(load_evidence(run.run_dir))
    assert d.in_progress and d.verdict in COLLAPSED, d.to_dict()
