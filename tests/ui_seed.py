"""A home folder with real runs on digits for the UI tests: one healthy-looking, one collapsed (SimSiam without
predictor and stop-gradient), both probed, the collapsed one diagnosed and given a recommendation."""

from __future__ import annotations

from pathlib import Path

from conftest import tiny_config

COLLAPSE = {"train.steps": 120, "train.log_every": 5, "train.health_every": 20, "train.batch_size": 128,
            "train.checkpoint_every": 60, "backbone.width": 0.5, "method_args.proj_hidden_dim": 128,
            "method_args.proj_dim": 64, "method_args.pred_hidden_dim": 32, "method_args.predictor": False,
            "method_args.stop_gradient": False}


def seed_home(root: Path) -> dict:
    from ssl_runtime.worker import run_worker
    from tools.diagnosis import diagnose_run, recommend_run
    from tools.home import Home
    from tools.runs import enqueue

    home = Home.resolve(root)
    healthy = enqueue(home, tiny_config("simclr", **{"train.steps": 30, "train.log_every": 3,
                                                      "train.health_every": 10}), ensure_scheduler=False)
    run_worker(healthy.run_dir)
    collapsed = enqueue(home, tiny_config("simsiam", **COLLAPSE), ensure_scheduler=False)
    run_worker(collapsed.run_dir)
    verdict = diagnose_run(home, collapsed.id)["verdict"]
    recommend_run(home, collapsed.id)
    return {"home": home, "healthy": healthy.id, "collapsed": collapsed.id, "verdict": verdict}
