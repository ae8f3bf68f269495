"""Continuing a run against training it longer from the start (train.init_from).

For each seed: a run of N steps, then a continuation of it for N more steps from its final weights (a fresh optimiser,
warm-up and cosine schedule), against a run of 2N steps from scratch (the reference). Each end is probed as a finished
run is (linear probe and kNN on the held-out split). The continuation costs the 2N run's compute in all, and only
N steps once the first run exists, which is the case it serves: "train run 7 for 500 more steps".

    python benchmarks/continued_pretraining.py [--method simclr] [--data digits] [--steps 60] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, make_run, table  # noqa: E402


def _run(tree: dict, name: str, root: Path) -> dict:
    from ssl_runtime.run_folder import RunFolder, read_json
    from ssl_runtime.worker import run_worker

    path = make_run(tree, name, root)
    t0 = time.perf_counter()
    run_worker(path)
    wall = time.perf_counter() - t0
    probe = read_json(RunFolder(path).probe)
    return {"path": path, "wall": wall, "probe": probe["probe/acc"], "knn": probe["knn/acc"],
            "n": probe.get("num_val")}


def _with(base: dict, **train) -> dict:
    return {**base, "train": {**base["train"], **train}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="simclr")
    ap.add_argument("--data", default="digits")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seeds", default="0,1")
    args = ap.parse_args()
    from ssl_runtime.run_folder import RunFolder

    root = Path(tempfile.mkdtemp(prefix="sslpilot-continue-"))
    base = {"method": args.method, "data": {"name": args.data}, "backbone": {"name": "small_cnn"},
            "train": {"batch_size": 128, "device": "cpu", "tensorboard": False}}
    rows, gaps = [], []
    for seed in (int(s) for s in args.seeds.split(",")):
        first = _run(_with(base, steps=args.steps, seed=seed), f"s{seed}-first", root)
        start = str(RunFolder(first["path"]).last_checkpoint)
        cont = _run(_with(base, steps=args.steps, seed=seed, init_from=start), f"s{seed}-cont", root)
        scratch = _run(_with(base, steps=2 * args.steps, seed=seed), f"s{seed}-scratch", root)
        gaps.append(cont["probe"] - scratch["probe"])
        for label, r in ((f"{args.steps} steps", first), (f"+{args.steps} continued", cont),
                         (f"{2 * args.steps} from scratch (ref)", scratch)):
            rows.append([seed, label, r["probe"], r["knn"], r["wall"], r["wall"] / scratch["wall"], r["n"]])
    print(f"{args.method} on {args.data}, small_cnn, batch 128; {machine()}")
    print(table(["seed", "run", "probe", "kNN", "wall s", "wall / ref", "val images"], rows))
    print(f"continued minus from scratch, probe points: {', '.join(f'{100 * g:+.1f}' for g in gaps)} "
          f"(mean {100 * statistics.mean(gaps):+.1f})")


if __name__ == "__main__":
    main()
