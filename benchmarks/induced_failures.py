"""Real tiny runs with induced failures on digits: does each really fail the way its fault predicts, and by what
margin? This is the emergent half of tests/test_diagnosis_induced.py (which asserts the same verdicts on curves
built to fail). A verdict here depends on the CPU's numerics, so it is measured, never asserted in a test.

    python benchmarks/induced_failures.py [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, table

sys.path.insert(0, str(ROOT / "tests"))

from conftest import COLLAPSE, tiny_config  # noqa: E402  (the configs the tests share)

COMMON = {"train.steps": 120, "train.log_every": 5, "train.health_every": 20, "train.batch_size": 128,
          "train.checkpoint_every": 40, "backbone.width": 0.5}
CASES = {
    # name: (method, overrides, the verdicts its fault should produce)
    "healthy": ("simclr", {"train.steps": 150, "train.batch_size": 256, "backbone.width": 1.0,
                           "method_args.proj_hidden_dim": 2048, "method_args.proj_dim": 256}, ("healthy",)),
    "collapse": ("simsiam", COLLAPSE, ("complete_collapse", "dimensional_collapse")),
    "divergence": ("mae", {"optim.name": "sgd", "optim.lr": 10.0, "train.steps": 40, "train.checkpoint_every": 5},
                   ("diverged",)),
    "no_learning": ("simclr", {"optim.lr": 1e-9}, ("not_learning",)),
    "identical_views": ("simclr", {"augment.strength": 0.0}, ("weak_representation",)),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args()

    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.worker import run_worker
    from tools.diagnosis import diagnose_run, recommend_run
    from tools.diagnosis.thresholds import STD_RATIO_COLLAPSED
    from tools.home import Home
    from tools.runs import enqueue

    home = Home.resolve(Path(tempfile.mkdtemp(prefix="sslpilot-induced-")))
    rows, hits, t0 = [], 0, time.time()
    for seed in (int(s) for s in args.seeds.split(",")):
        for name, (method, overrides, want) in CASES.items():
            run = enqueue(home, tiny_config(method, **{**COMMON, **overrides, "train.seed": seed}))
            run_worker(run.run_dir)
            d, r = diagnose_run(home, run.id), recommend_run(home, run.id)
            summary = json.loads(RunFolder(run.run_dir).summary.read_text())
            health = [m for m in RunFolder(run.run_dir).read_metrics() if "health/std" in m]
            ratio = health[-1]["health/std"] * summary.get("embedding_dim", 1) ** 0.5 if health else float("nan")
            hits += d["verdict"] in want
            rows.append([name, seed, "/".join(want), d["verdict"], d["confidence"], ratio,
                         ratio / STD_RATIO_COLLAPSED, r["category"], ",".join(sorted(r["change"]))])
    print(table(["case", "seed", "expected", "verdict", "conf", "std x sqrt(d)", "margin vs 0.5", "class",
                 "change"], rows))
    print(f"\n{hits}/{len(rows)} as expected; {time.time() - t0:.0f} s; {machine()}")


if __name__ == "__main__":
    main()
