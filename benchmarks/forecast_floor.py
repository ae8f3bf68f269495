"""How close can any forecast from part of a run come? (issue 24, part 4)

A forecast made at step s sees the run up to s; the run's end depends also on the random draws it has not made yet.
This continues a run from its kept checkpoint at s several times to the same end, through the trainer's own resume,
each branch with another training seed for everything after s (the epoch order, the crops and the augmentations,
which are drawn from (seed, step) so that a resume repeats them) and the run's own train/validation split, and probes
each end as `sslpilot forecast --probe` does. The ends' mean absolute deviation about their median is the least mean
absolute error any forecast from s can have on them, whatever it reads. A control branch keeps the run's seed and
should replay the run exactly.

    python benchmarks/forecast_floor.py --out DIR --runs RUN_DIR,... [--branches 4] [--shares 0.25,0.5]

The runs are a label_free.py sweep's long runs (kept checkpoints, probed with --forecast). Branches live under
<out>/branches; each result is appended to <out>/branches.jsonl as it finishes (a rerun skips what is there).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table  # noqa: E402

REPLAY = 0  # the control branch: the run's own seed
SEED_STRIDE = 1000  # branch k trains on with seed (the run's) + k * SEED_STRIDE


def branch(run_dir: Path, step: int, seed: int, out: Path) -> dict:
    """Continue `run_dir` from its kept checkpoint at `step` to its end in a new run folder, on the seed offset by
    `seed` (REPLAY: the run's own) and the run's own split; returns the end's probe and the branch's wall time."""
    import ssl_runtime.tasks.vision as vision
    from ssl_runtime.config import save_config
    from ssl_runtime.configure import load_run_config
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.trainer import train

    src = RunFolder(run_dir)
    dst = RunFolder(out / f"{run_dir.name}-from{step}-b{seed}")
    cfg = load_run_config(src.config)
    own_seed = cfg.train.seed
    cfg.train.seed = own_seed + seed * SEED_STRIDE
    start_branch(src, dst, step, cfg)
    split_ids = vision.split_ids  # the split is the run's: only what is drawn after `step` changes
    vision.split_ids = lambda store, data, _seed: split_ids(store, data, own_seed)
    t0 = time.perf_counter()
    try:
        summary = train(dst.path, resume=True)
    finally:
        vision.split_ids = split_ids
    seconds = time.perf_counter() - t0
    cfg.train.seed = own_seed  # probed on the run's own split
    save_config(cfg, dst.config)
    end_step, probe = probed_end(dst)
    return {"run_dir": str(run_dir), "from": step, "seed": seed, "status": summary.get("status"),
            "end_step": end_step, "probe": probe, "seconds": round(seconds, 1), "branch": str(dst.path)}


def start_branch(src, dst, step: int, cfg) -> None:
    """A new run folder `dst` (an earlier, unfinished start of it removed) holding `cfg` and `src`'s metrics,
    preprocessing and kept checkpoint at `step` as its last: what the trainer's resume continues from."""
    from ssl_runtime.config import save_config

    if dst.path.exists():
        shutil.rmtree(dst.path)
    dst.create()
    save_config(cfg, dst.config)
    shutil.copy(src.metrics, dst.metrics)  # the resume drops the rows after `step`
    shutil.copy(src.checkpoint_preprocess, dst.checkpoint_preprocess)
    shutil.copy(src.checkpoints / f"step_{step}.pt", dst.last_checkpoint)


def probed_end(dst) -> tuple[int, float]:
    """A finished branch's last kept checkpoint, probed as `sslpilot forecast --probe` does (the others removed)."""
    from ssl_runtime.audit import probe_kept_checkpoints

    kept = dst.kept_checkpoints()
    for _, path in kept[:-1]:  # only the end is probed
        path.unlink()
    return kept[-1][0], probe_kept_checkpoints(dst.path, device="cpu")[-1]["probe/acc"]


def trunk_curve(run_dir: Path) -> list[tuple[int, float]]:
    """(step, probe) of the run's kept checkpoints, as label_free.py --forecast probed them."""
    from ssl_runtime.run_folder import RunFolder, read_jsonl

    return sorted((r["step"], r["probe/acc"]) for r in read_jsonl(RunFolder(run_dir).checkpoint_probes))


def stored(path: Path) -> list[dict]:
    """The results appended to `path` so far (a rerun skips what is there)."""
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def kept_step(run_dir: Path, share: float) -> int:
    """The run's kept (and probed) checkpoint nearest `share` of its steps."""
    kept = [s for s, _ in trunk_curve(run_dir)]
    return min(kept, key=lambda s: abs(s - share * kept[-1]))


def shipped_error(run_dir: Path, curve: list[tuple[int, float]], step: int) -> float:
    """The product's forecast of the end from the run's first `step` steps (`forecast --probe`'s path), its error in
    probe points."""
    from label_free_forecast import product_forecast

    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(run_dir)
    end_step, end = curve[-1]
    logged = [{k: v for k, v in r.items() if k != "probe/acc"} for r in folder.read_metrics()]
    f = product_forecast(logged, folder.planned_schedule(), [p for p in curve if p[0] <= step], end_step / step)
    return abs(f.at[end_step / step][0] - end) * 100 if f.at else float("nan")


def floor_table(results: list[dict], runs: list[Path]) -> str:
    rows, floors = [], {}
    for run_dir in runs:
        curve = trunk_curve(run_dir)
        end_step, end = curve[-1]
        for step in sorted({r["from"] for r in results if r["run_dir"] == str(run_dir)}):
            mine = [r for r in results if r["run_dir"] == str(run_dir) and r["from"] == step]
            ends = [end] + [r["probe"] for r in mine if r["seed"] != REPLAY]
            replay = [r["probe"] for r in mine if r["seed"] == REPLAY]
            mad = float(np.mean(np.abs(np.subtract(ends, np.median(ends))))) * 100
            floors.setdefault(step / end_step, []).append(mad)
            rows.append([run_dir.name, f"{step / end_step:.0%}", f"{end:.4f}",
                         " ".join(f"{e:.4f}" for e in ends[1:]), f"{(max(ends) - min(ends)) * 100:.2f}",
                         f"{mad:.2f}", f"{shipped_error(run_dir, curve, step):.2f}",
                         f"{abs(replay[0] - end) * 100:.2f}" if replay else "-"])
    for share, mads in sorted(floors.items()):
        rows.append([f"mean of {len(mads)}", f"{share:.0%}", "", "", "", f"**{np.mean(mads):.2f}**", "", ""])
    return table(["run", "from", "end", "branches' ends", "spread (pts)", "floor: MAD about the median (pts)",
                  "shipped forecast's error (pts)", "replay - end (pts)"], rows)


def branch_args(shares: str) -> argparse.ArgumentParser:
    """The arguments every script that continues stored runs from their kept checkpoints takes."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", required=True, help="RUN_DIR,...: runs with kept, probed checkpoints")
    ap.add_argument("--shares", default=shares)
    ap.add_argument("--report", action="store_true", help="only print the table of what is stored")
    return ap


def parsed(ap: argparse.ArgumentParser) -> tuple[argparse.Namespace, Path, list[Path]]:
    """The arguments, the output folder (made) and the runs named."""
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return args, out, [Path(p) for p in args.runs.split(",")]


def main() -> None:
    ap = branch_args("0.25,0.5")
    ap.add_argument("--branches", type=int, default=4)
    args, out, runs = parsed(ap)
    results_file = out / "branches.jsonl"
    results = stored(results_file)
    done = {(r["run_dir"], r["from"], r["seed"]) for r in results}
    shares = sorted(float(x) for x in args.shares.split(","))
    for run_dir in runs if not args.report else []:
        for share in shares:
            step = kept_step(run_dir, share)
            control = [REPLAY] if share == shares[0] else []  # the replay, once a run
            for seed in [*range(1, args.branches + 1), *control]:
                if (str(run_dir), step, seed) in done:
                    continue
                r = branch(run_dir, step, seed, out / "branches")
                results.append(r)
                with results_file.open("a") as f:
                    f.write(json.dumps(r) + "\n")
                print(f"{run_dir.name} from {step} seed {seed}: probe {r['probe']:.4f}, {r['seconds']} s", flush=True)
    print(f"\n{machine()}; {len(results)} branches, {sum(r['seconds'] for r in results) / 60:.1f} min of training\n")
    print(floor_table([r for r in results if Path(r["run_dir"]) in runs], runs))


if __name__ == "__main__":
    main()
