"""Real runs with induced failures on digits get the right verdict and a recommendation of the right class."""

import pytest
from conftest import COLLAPSE, COLLAPSED, tiny_config

from ssl_runtime.trainer import train
from ssl_runtime.worker import run_worker
from tools.diagnosis import diagnose_run, recommend_run
from tools.home import Home
from tools.runs import enqueue

COMMON = {"train.steps": 120, "train.log_every": 5, "train.health_every": 20, "train.batch_size": 128,
          "train.checkpoint_every": 40, "backbone.width": 0.5}

CASES = {
    # name: (method, overrides, verdicts accepted, category, expected change keys)
    # the published head sizes: small heads on the easy digits do not beat random init in 150 steps
    "healthy": ("simclr", {"train.steps": 150, "train.batch_size": 256, "backbone.width": 1.0,
                           "method_args.proj_hidden_dim": 2048, "method_args.proj_dim": 256}, ("healthy",), None, None),
    "collapse": ("simsiam", COLLAPSE, COLLAPSED, "model", {"method_args.stop_gradient", "method_args.predictor"}),
    "divergence": ("mae", {"optim.name": "sgd", "optim.lr": 10.0, "train.steps": 40, "train.checkpoint_every": 5},
                   ("diverged",), "model", {"optim.lr"}),
    "no_learning": ("simclr", {"optim.lr": 1e-9}, ("not_learning",), "model", {"optim.lr"}),
    "identical_views": ("simclr", {"augment.strength": 0.0}, ("weak_representation",), "data", {"augment.strength"}),
}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("diag"))


@pytest.mark.parametrize("name", list(CASES))
def test_induced_run(name, home):
    method, overrides, verdicts, category, keys = CASES[name]
    run = enqueue(home, tiny_config(method, **{**COMMON, **overrides}))
    run_worker(run.run_dir)
    d = diagnose_run(home, run.id)
    r = recommend_run(home, run.id)
    print(name, d["verdict"], d["confidence"], [e["explanation"] for e in d["evidence"]], r["category"], r["change"])
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
    """Early warning: the metrics so far, before the run ends, already show the collapse."""
    cfg = tiny_config("simsiam", **COLLAPSE)
    run = enqueue(home, cfg)
    train(run.run_dir)
    from ssl_runtime.run_folder import RunFolder
    from tools.diagnosis import diagnose, load_evidence

    folder = RunFolder(run.run_dir)
    folder.truncate_metrics(80)  # as if we looked at step 80 of 120
    folder.summary.unlink()
    folder.set_status("running", "pretend it is still running")
    ev = load_evidence(run.run_dir)
    d = diagnose(ev)
    assert d.in_progress and d.verdict in COLLAPSED, d.to_dict()
