"""Induced failures behave as documented: collapse shows in the health metrics, divergence stops the run."""

import math

import torch

from ssl_runtime.errors import CheckpointError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trainer import train

SIMSIAM = {"train.steps": 150, "train.health_every": 25, "train.log_every": 25, "train.batch_size": 128,
           "train.checkpoint_every": 1000, "backbone.width": 0.5, "method_args.proj_hidden_dim": 128,
           "method_args.proj_dim": 64, "method_args.pred_hidden_dim": 32}


def _last_health(run_dir):
    return [r for r in RunFolder(run_dir).read_metrics() if "health/std" in r][-1]


def test_simsiam_without_predictor_and_stop_gradient_collapses(run_dir_factory):
    healthy = run_dir_factory("simsiam", name="healthy", **SIMSIAM)
    collapsed = run_dir_factory("simsiam", name="collapsed", **SIMSIAM, **{
        "method_args.predictor": False, "method_args.stop_gradient": False})
    train(healthy)
    train(collapsed)
    d = 64
    h, c = _last_health(healthy), _last_health(collapsed)
    assert h["health/std"] > 0.7 / math.sqrt(d), h  # near 1/sqrt(d) = 0.125
    assert c["health/std"] < 0.5 / math.sqrt(d), c
    assert c["health/rank"] < 0.3 * h["health/rank"], (c, h)
    assert c["loss"] < -0.8  # the loss looks excellent while the representation collapses


def test_absurd_learning_rate_diverges_and_keeps_last_good_checkpoint(run_dir_factory):
    run_dir = run_dir_factory("mae", **{"optim.name": "sgd", "optim.lr": 10.0, "train.steps": 40,
                                        "train.checkpoint_every": 5})
    summary = train(run_dir)
    folder = RunFolder(run_dir)
    assert summary["status"] == "diverged"
    err = next(e for e in folder.read_events() if e["type"] == "error")
    assert err["kind"] == "non_finite_loss" and err["step"] > summary["last_checkpoint_step"] > 0
    state = torch.load(folder.last_checkpoint, weights_only=False)
    assert state["step"] == summary["last_checkpoint_step"]
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert folder.status() == "diverged"
    assert not folder.encoder.exists()


def test_resume_with_checkpoint_of_another_method_is_refused(run_dir_factory):
    a = run_dir_factory("simclr", name="a")
    train(a)
    b = run_dir_factory("byol", name="b")
    RunFolder(b).checkpoints.mkdir(exist_ok=True)
    RunFolder(b).last_checkpoint.write_bytes(RunFolder(a).last_checkpoint.read_bytes())
    before = RunFolder(b).last_checkpoint.read_bytes()
    try:
        train(b, resume=True)
        raise AssertionError("resume should have been refused")
    except CheckpointError as exc:
        assert "simclr" in str(exc) and "byol" in str(exc)
    assert RunFolder(b).last_checkpoint.read_bytes() == before  # nothing damaged
