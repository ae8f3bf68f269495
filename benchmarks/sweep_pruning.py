"""What a sweep's successive halving saves, and what it costs: the same sweep run twice on a fresh home, without and
with `monitor.prune_metric`, through the real queue (one CPU slot: the runs go one after another, the hardest case
for asynchronous halving, which judges a run against those that reached a rung before it).

Prints, per sweep: the steps trained and the training time summed over its runs, and the best linear probe found,
with the ratios of the pruned sweep to the full one. Which runs a cut stops depends on what training learns, so
this is a benchmark, not a test.

    python benchmarks/sweep_pruning.py [--data digits] [--steps 120] [--grid optim.lr=3e-5,3e-3,3e-2,3]
        [--grid method_args.temperature=0.05,0.1,0.2,0.5] [--eta 3] [--min-steps 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ssl_runtime.run_folder import RunFolder, read_json  # noqa: E402
from tools import runs, scheduler  # noqa: E402
from tools.home import Home  # noqa: E402
from tools.registry import Registry  # noqa: E402


def one_sweep(root: Path, base: dict, grid: dict, prune: dict | None) -> dict:
    home = Home.resolve(root)
    tree = json.loads(json.dumps(base))
    if prune:
        tree.setdefault("monitor", {}).update(prune)
    made = runs.sweep(home, tree, grid, experiment="bench")
    for r in made:
        scheduler.wait(home, r.id)
    reg = Registry(home)
    rows = []
    for r in made:
        run = reg.sync(r.id)
        summary = read_json(RunFolder(run.run_dir).summary) or {}
        probe = reg.probe(run.id)
        rows.append({"id": run.id, "steps": run.steps or 0, "wall": summary.get("wall_time_s") or 0.0,
                     "probe": probe.probe_acc if probe else None,
                     "pruned": any(e.get("type") == "pruned" for e in RunFolder(run.run_dir).read_events())})
    best = max(rows, key=lambda x: x["probe"] or 0)
    return {"steps": sum(x["steps"] for x in rows), "wall": sum(x["wall"] for x in rows), "best": best["probe"],
            "best_id": best["id"], "pruned": [x["id"] for x in rows if x["pruned"]], "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="digits")
    ap.add_argument("--method", default="simclr")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--grid", action="append", default=[])
    ap.add_argument("--eta", type=int, default=3)
    ap.add_argument("--min-steps", type=int, default=20)
    ap.add_argument("--health-every", type=int, default=10)
    a = ap.parse_args()
    grids = a.grid or ["optim.lr=3e-5,3e-3,3e-2,3"]
    base = {"method": a.method, "data": {"name": a.data},
            "train": {"steps": a.steps, "health_every": a.health_every, "device": "cpu"}}
    prune = {"prune_metric": "monitor/knn_acc", "prune_eta": a.eta, "prune_min_steps": a.min_steps}
    print(f"{'grid':40s} {'sweep':8s} {'steps':>6s} {'train s':>8s} {'best probe':>10s} {'pruned runs':>12s}  ratio "
          "steps / time / best")
    for g in grids:
        grid = runs.parse_sweep([g])
        with tempfile.TemporaryDirectory() as tmp:
            full = one_sweep(Path(tmp) / "full", base, grid, None)
            cut = one_sweep(Path(tmp) / "pruned", base, grid, prune)
        for name, r in (("full", full), ("pruned", cut)):
            ratio = (f"  {r['steps'] / full['steps']:.2f} / {r['wall'] / full['wall']:.2f} / "
                     f"{r['best'] / full['best']:.3f}") if name == "pruned" else ""
            print(f"{g:40s} {name:8s} {r['steps']:6d} {r['wall']:8.1f} {r['best']:10.4f} "
                  f"{len(r['pruned']):>5d} of {len(r['rows'])}{ratio}")


if __name__ == "__main__":
    main()
