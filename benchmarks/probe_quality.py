"""Per method: linear probe and kNN of the trained encoder against the same architecture at random init.

    python benchmarks/probe_quality.py [--data digits|shapes] [--epochs N] [--methods simclr,byol]
"""

from __future__ import annotations

import argparse
import time

from _common import machine, make_run, table

# Modest head sizes so every method runs in about a minute on two CPU cores.
HEADS = {
    "simclr": {"proj_hidden_dim": 512, "proj_dim": 128},
    "moco": {"proj_hidden_dim": 512, "proj_dim": 128, "pred_hidden_dim": 512},
    "byol": {"proj_hidden_dim": 512, "proj_dim": 128, "pred_hidden_dim": 512},
    "simsiam": {"proj_hidden_dim": 512, "proj_dim": 512, "pred_hidden_dim": 128},
    "dino": {"proj_hidden_dim": 512, "bottleneck_dim": 128, "out_dim": 1024},
    "barlow_twins": {"proj_hidden_dim": 512, "proj_dim": 512},
    "vicreg": {"proj_hidden_dim": 512, "proj_dim": 512},
    "mae": {},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="digits")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--methods", default=",".join(HEADS))
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    from ssl_runtime.worker import run_worker

    rows = []
    for method in args.methods.split(","):
        tree = {
            "method": method, "data": {"name": args.data},
            "backbone": {"name": "vit_tiny" if method == "mae" else "auto", "width": 0.5 if method == "mae" else 1.0},
            "augment": {"n_local_crops": 4} if method == "dino" else {},
            "train": {"epochs": args.epochs, "batch_size": 256, "log_every": 20, "health_every": 50,
                      "checkpoint_every": 100000, "device": args.device},
            "method_args": HEADS[method],
        }
        t0 = time.perf_counter()
        s = run_worker(make_run(tree, method))
        p = s["probe"]
        rows.append([method, s["steps"], round(time.perf_counter() - t0, 1), p["probe/acc"], p["baseline"]["probe/acc"],
                     p["probe/acc"] - p["baseline"]["probe/acc"], p["knn/acc"], p["baseline"]["knn/acc"],
                     s["final"].get("health/std", float("nan")), s["final"].get("health/rank", float("nan")),
                     s["embedding_dim"]])
        print(table(["method", "steps", "seconds", "probe", "probe@init", "gain", "knn", "knn@init", "std",
                     "rankme", "d"], rows[-1:]), flush=True)
    print(f"\n## Linear probe vs random init on {args.data}, {args.epochs} epochs ({machine()})\n")
    print(table(["method", "steps", "seconds", "probe", "probe@init", "gain", "knn", "knn@init", "std", "rankme",
                 "d"], rows))


if __name__ == "__main__":
    main()
