"""A home folder with real runs for the UI tests: on digits one healthy-looking and one collapsed (SimSiam
without predictor and stop-gradient), both probed, the collapsed one diagnosed and given a recommendation;
and a small next-token LM on the shapes captions."""

from __future__ import annotations

from pathlib import Path

from conftest import COLLAPSE_BY_CONSTRUCTION, tiny_config
from constructed import collapse_run


def seed_home(root: Path) -> dict:
    from ssl_runtime.worker import run_worker
    from tools.diagnosis import diagnose_run, recommend_run
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue

    home = Home.resolve(root)
    healthy = enqueue(home, tiny_config("simclr", **{"train.steps": 30, "train.log_every": 3,
                                                      "train.health_every": 10}))
    run_worker(healthy.run_dir)
    collapsed = enqueue(home, tiny_config("simsiam", **COLLAPSE_BY_CONSTRUCTION))
    run_worker(collapsed.run_dir)
    collapse_run(collapsed.run_dir)  # collapsed by construction, whatever this CPU's numerics did
    Registry(home).sync(collapsed.id)
    verdict = diagnose_run(home, collapsed.id)["verdict"]
    recommend_run(home, collapsed.id)
    text = enqueue(home, tiny_config("clm", **{"data.name": "shapes", "data.num_samples": 320, "backbone.name": "auto",
                                                "train.steps": 20, "train.batch_size": 16, "train.log_every": 2,
                                                "train.health_every": 10, "train.health_samples": 32,
                                                "optim.lr": 2e-3}))
    run_worker(text.run_dir)
    return {"home": home, "healthy": healthy.id, "collapsed": collapsed.id, "verdict": verdict, "text": text.id}
