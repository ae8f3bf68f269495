"""Does a short cool-down of a quarter's weights say where the run will end? (issue 24, part 4)

A run's probe a quarter of the way in is read at the peak learning rate, where the weights wander; forecast_floor.py
found that the end is mostly decided by the quarter's weights (branches from a quarter end within 0.3 points of each
other) while the quarter's five probe points cannot say where. A cool-down (the learning rate taken linearly from its
value at the quarter to zero over K steps, as WSD schedules do: Hagele et al. 2024, "Scaling Laws and Compute-Optimal
Training Beyond Fixed Training Durations") reads the quarter's weights as a finished run would have them. This
continues each run from its kept checkpoint at a share of its steps for K more steps on that cool-down, through the
trainer's own resume with the run's own seed and split, and probes the end as `sslpilot forecast --probe` does.

    python benchmarks/forecast_cooldown.py --out DIR --runs RUN_DIR,... [--shares 0.125,0.25] [--cooldown 24]
    python benchmarks/forecast_cooldown.py --out DIR --runs RUN_DIR,... --report

The report reads each run's end off the other runs of its method (leave one out): the probe at the share plus the
others' median gain from there, against the cool-down's probe plus the others' median gain from it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table  # noqa: E402
from forecast_floor import (  # noqa: E402
    branch_args,
    kept_step,
    parsed,
    probed_end,
    shipped_error,
    start_branch,
    stored,
    trunk_curve,
)


def cooldown(run_dir: Path, step: int, steps: int, out: Path) -> dict:
    """Continue `run_dir` from its kept checkpoint at `step` for `steps` more steps with the rate taken linearly from
    the schedule's value at `step` to zero; returns the end's probe and the branch's wall time."""
    import ssl_runtime.optim as optim
    from ssl_runtime.configure import load_run_config
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.schedule import warmup_of
    from ssl_runtime.trainer import train

    src = RunFolder(run_dir)
    dst = RunFolder(out / f"{run_dir.parent.parent.name}-{run_dir.name}-from{step}-cool{steps}")  # sweeps' names repeat
    cfg = load_run_config(src.config)
    total, kind = cfg.train.steps, cfg.optim.schedule
    warmup = warmup_of(cfg.optim.warmup_steps, total)
    cfg.train.steps = step + steps
    cfg.train.checkpoint_every = steps
    start_branch(src, dst, step, cfg)
    planned = optim.lr_factor
    at_start = planned(step, total, warmup, kind)

    def cooled(s: int, _total: int, _warmup: int, _kind: str = "cosine") -> float:
        if s < step:
            return planned(s, total, warmup, kind)
        return at_start * max(0.0, 1 - (s - step + 1) / steps)

    optim.lr_factor = cooled
    t0 = time.perf_counter()
    try:
        summary = train(dst.path, resume=True)
    finally:
        optim.lr_factor = planned
    seconds = time.perf_counter() - t0
    end_step, probe = probed_end(dst)
    return {"run_dir": str(run_dir), "from": step, "cooldown": steps, "status": summary.get("status"),
            "end_step": end_step, "probe": probe, "seconds": round(seconds, 1)}


def method_of(run_dir: Path) -> str:
    return run_dir.name.split("-")[-2]


def read_off_others(values: dict[Path, tuple[float, float]]) -> dict[Path, float]:
    """Each run's end as its value at the share plus the median gain (end - value) of the other runs of its method."""
    out = {}
    for run, (value, _end) in values.items():
        gains = [e - v for r, (v, e) in values.items() if r != run and method_of(r) == method_of(run)]
        if gains:
            out[run] = value + float(np.median(gains))
    return out


def report(results: list[dict], runs: list[Path]) -> str:
    rows, errors = [], {}
    for (step_share, steps) in sorted({(r["from"] / trunk_curve(Path(r["run_dir"]))[-1][0], r["cooldown"])
                                       for r in results}):
        raw, cool = {}, {}
        for run in runs:
            curve = dict(trunk_curve(run))
            end_step, step = max(curve), kept_step(run, step_share)
            mine = [r for r in results if r["run_dir"] == str(run) and r["from"] == step and r["cooldown"] == steps]
            if not mine:
                continue
            raw[run] = (curve[step], curve[end_step])
            cool[run] = (mine[0]["probe"], curve[end_step])
        by_raw, by_cool = read_off_others(raw), read_off_others(cool)
        for run in sorted(by_cool):
            end = raw[run][1]
            step = kept_step(run, step_share)
            e_raw, e_cool = abs(by_raw[run] - end) * 100, abs(by_cool[run] - end) * 100
            e_own = shipped_error(run, trunk_curve(run), step)
            key = (step_share, steps)
            errors.setdefault(key, []).append((e_own, e_raw, e_cool))
            rows.append([run.name, f"{step_share:.1%}", steps, f"{raw[run][0]:.4f}", f"{cool[run][0]:.4f}",
                         f"{end:.4f}", f"{e_own:.2f}", f"{e_raw:.2f}", f"{e_cool:.2f}"])
    for (share, steps), errs in sorted(errors.items()):
        m = np.mean(errs, axis=0)
        rows.append([f"mean of {len(errs)}", f"{share:.1%}", steps, "", "", "", f"**{m[0]:.2f}**", f"**{m[1]:.2f}**",
                     f"**{m[2]:.2f}**"])
    return table(["run", "from", "cool-down steps", "probe there", "cooled probe", "end", "own fit's error (pts)",
                  "probe + others' gain: error (pts)", "cooled + others' gain: error (pts)"], rows)


def main() -> None:
    ap = branch_args("0.25")
    ap.add_argument("--cooldown", default="24", help="STEPS,...: cool-down lengths")
    args, out, runs = parsed(ap)
    results_file = out / "cooldowns.jsonl"
    results = stored(results_file)
    done = {(r["run_dir"], r["from"], r["cooldown"]) for r in results}
    for run_dir in runs if not args.report else []:
        for share in sorted(float(x) for x in args.shares.split(",")):
            step = kept_step(run_dir, share)
            for steps in (int(x) for x in args.cooldown.split(",")):
                if (str(run_dir), step, steps) in done:
                    continue
                r = cooldown(run_dir, step, steps, out / "cooldowns")
                results.append(r)
                with results_file.open("a") as f:
                    f.write(json.dumps(r) + "\n")
                print(f"{run_dir.name} from {step}, {steps} steps: probe {r['probe']:.4f}, {r['seconds']} s",
                      flush=True)
    print(f"\n{machine()}; {len(results)} cool-downs, {sum(r['seconds'] for r in results) / 60:.1f} min of training\n")
    print(report([r for r in results if Path(r["run_dir"]) in runs], runs))


if __name__ == "__main__":
    main()
