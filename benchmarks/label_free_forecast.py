"""Is more pretraining worth it? The forecasts of benchmarks/label_free.py: LiDAR and the probe of the sweep's long
runs forecast from their first 25% and 50%, and the held-out perplexity of mlm/clm runs trained from scratch or
continued from their own export (`label_free.py --forecast`, `--text-forecast [--continued]`)."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_run, table  # noqa: E402


def forecast_table(results: list[dict]) -> str:
    from tools.diagnosis.forecast import forecast

    rows = []
    for r in results:
        traj = [(s, v) for s, v, _ in r["trajectory"] if s > 1]  # the first row is the initialisation
        if r["setting"] != "long" or len(traj) < 12:
            continue
        end_step, end = traj[-1]
        for share in (0.25, 0.5):
            part = [p for p in traj if p[0] <= share * end_step]
            f = forecast([s for s, _ in part], [v for _, v in part], "health/lidar", True, min_gain=0.05 * end)
            multiple = end_step / part[-1][0]
            mid = f.at.get(multiple, (float("nan"),))[0] if f.at else float("nan")
            rows.append([r["domain"], r["method"], f"{share:.0%}", len(part), end, mid,
                         abs(mid - end) / abs(end) * 100 if math.isfinite(mid) else float("nan"), f.verdict])
    return table(["domain", "method", "fit on", "points", "LiDAR at end", "forecast", "error %",
                  "verdict at that point"], rows)


def product_forecast(logged: list[dict], plan, part: list[tuple[int, float]], multiple: float):
    """The probe forecast as `sslpilot forecast --probe` reads a run's first probes `part`: forecast_series over the
    run's logged rows (`logged`, without probe rows) up to then, on its planned schedule `plan`."""
    from tools.diagnosis.forecast import forecast_series

    rows = [r for r in logged if r.get("step", 0) <= part[-1][0]] + [{"step": s, "probe/acc": v} for s, v in part]
    return forecast_series(rows, multiples=(2.0, multiple), schedule=plan)


def probe_forecast_table(curves: list[dict], runs: dict[tuple[str, str], Path] | None = None,
                         references: list[dict] | None = None) -> str:
    """The probe at the last kept checkpoint forecast from the first 25% and 50% of them (issue 24's goal: mean
    absolute error <= 1 point), beside the baseline that the probe stays where it is: on all the points read
    against the step alone (A, sessions 8-18) and between the step and the planned schedule's area (shipped since
    session 19), and as `sslpilot forecast --probe` reads it (forecast_series over the run's logged rows: after
    the warm-up, on its planned schedule); each with its band's median width at the end. `runs`: (domain,
    method) -> the long run's folder, for the schedule and the logged rows (a curve's own run_dir wins). `references`:
    probe curves of finished long runs (other draws, other seeds); each curve is also read off the others of its
    method (forecast.read_references, session 19)."""
    from ssl_runtime.run_folder import RunFolder
    from tools.diagnosis.forecast import FORECAST_METRICS, PROBE_METRIC, forecast, read_references, warmup_end

    bar = {m: share for m, _, share in FORECAST_METRICS}[PROBE_METRIC]  # the product's gain worth a longer run
    rows, errors, held, verdicts = [], {}, {}, {}
    for c in curves:
        points = c["probes"]
        end_step, end = points[-1]
        where = c.get("run_dir") or (runs or {}).get((c["domain"], c["method"]))
        folder = RunFolder(where) if where else None
        plan = folder.planned_schedule() if folder else None
        logged = [{k: v for k, v in r.items() if k != "probe/acc"} for r in folder.read_metrics()] if folder else []
        for share in (0.25, 0.5):
            part = [p for p in points if p[0] <= share * end_step]
            multiple = end_step / part[-1][0]
            row = [c["domain"], c["method"], f"{share:.0%}", len(part), end]
            steps, values = [s for s, _ in part], [v for _, v in part]
            readings = {"A: step": forecast(steps, values, "probe/acc", multiples=(2.0, multiple), min_gain=0.01),
                        "midpoint": forecast(steps, values, "probe/acc", multiples=(2.0, multiple), min_gain=0.01,
                                             schedule=plan)}
            if folder:
                readings["product"] = product_forecast(logged, plan, part, multiple)
                later = dict(points).get(2 * part[-1][0])  # what the probe did by twice the steps
                if later is not None:
                    gained = later - part[-1][1] > bar * abs(part[-1][1])
                    key = (readings["product"].verdict, gained)
                    verdicts[key] = verdicts.get(key, 0) + 1
            if references is not None:
                refs = {r.get("run_dir") or f"{r['domain']} {r['method']}": [tuple(p) for p in r["probes"]]
                        for r in references if r["method"] == c["method"] and r["probes"] != c["probes"]}
                f = forecast(steps, values, "probe/acc", multiples=(2.0, multiple), min_gain=0.01, schedule=plan)
                start = warmup_end(logged) if folder else 0
                read_references(f, [p for p in part if p[0] >= start], refs, (2.0, multiple), 0.01)
                readings["references"] = f
            stay = abs(part[-1][1] - end) * 100  # the baseline a forecast must beat: the probe stays where it is
            errors.setdefault(("no change", share), []).append(stay)
            row += [part[-1][1], stay]
            for name, f in readings.items():
                mid = f.at[multiple][0] if f.at else float("nan")
                if f.at:
                    low, high = f.at[multiple][1:]
                    held.setdefault((name, share), []).append((low <= end <= high, (high - low) * 100))
                err = abs(mid - end) * 100
                if math.isfinite(err):
                    errors.setdefault((name, share), []).append(err)
                row += [mid, err]
            rows.append(row)
    names = (["no change", "A: step", "midpoint"] + (["product"] if any(n == "product" for n, _ in errors) else [])
             + (["references"] if references is not None else []))
    text = table(["domain", "method", "fit on", "points", "probe at end",
                  *(h for n in names for h in (n, "error (pts)"))], rows)
    summary = "; ".join(f"{name} from {share:.0%}: MAE {np.mean(v):.2f} pts over {len(v)} runs"
                        + (f", the 80% band held the end in {sum(h for h, _ in held[(name, share)])}, median width "
                           f"{np.median([w for _, w in held[(name, share)]]):.1f} pts" if (name, share) in held else "")
                        for (name, share), v in sorted(errors.items(), key=lambda kv: (names.index(kv[0][0]),
                                                                                        kv[0][1])))
    said = "; ".join(f"{verdict}: {verdicts.get((verdict, verdict == 'train_longer'), 0)} right of "
                     f"{verdicts.get((verdict, True), 0) + verdicts.get((verdict, False), 0)}"
                     for verdict in ("train_longer", "plateaued"))
    if verdicts:
        summary += (f"\nthe product's verdicts against the probe at twice the steps: {said}; uncertain "
                    f"{verdicts.get(('uncertain', True), 0) + verdicts.get(('uncertain', False), 0)} (then gained "
                    f"{verdicts.get(('uncertain', True), 0)})")
    return text + "\n" + summary


TEXT_STEPS = 600


def text_curve(method: str, seed: int, out: Path) -> dict:
    """One language-model run on the captioned shapes, long enough for its held-out perplexity to bend: the
    (step, val/perplexity) curve it logged every 20 steps."""
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.trainer import train

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conftest import tiny_config

    tree = tiny_config(method, **{"data.name": "shapes", "data.num_samples": 960, "train.steps": TEXT_STEPS,
                                  "train.batch_size": 16, "train.health_every": 20, "train.log_every": 20,
                                  "train.health_samples": 32, "train.checkpoint_every": TEXT_STEPS,
                                  "train.seed": seed, "optim.lr": 2e-3, "train.tensorboard": False})
    tree["backbone"] = {}
    run_dir = make_run(tree, f"text-{method}-s{seed}", out / "runs")
    t0 = time.perf_counter()
    train(run_dir)
    rows = [{k: r[k] for k in ("step", "lr", "val/perplexity") if k in r} for r in RunFolder(run_dir).read_metrics()]
    return {"method": method, "seed": seed, "rows": rows, "seconds": round(time.perf_counter() - t0, 1)}


def make_scenes(path: Path, n: int = 960, seed: int = 5) -> Path:
    """A corpus for continued pretraining: scene descriptions in the captions' words but another grammar
    ("two red circles and a small blue square, the square on the left"), one per line of a .jsonl."""
    from ssl_runtime.data.builtin import COLOURS, SHAPES

    rng = np.random.default_rng(seed)
    colours, counts = list(COLOURS), ("a", "two", "three")
    lines = []
    for _ in range(n):
        parts = []
        for _ in range(int(rng.integers(1, 4))):
            count = counts[int(rng.integers(3))]
            size = ("small ", "large ", "")[int(rng.integers(3))]
            shape = SHAPES[int(rng.integers(len(SHAPES)))]
            plural = "" if count == "a" else "es" if shape.endswith("s") else "s"
            parts.append(f"{count} {size}{colours[int(rng.integers(len(colours)))]} {shape}{plural}")
        where = ("on the left", "on the right", "at the top", "at the bottom")[int(rng.integers(4))]
        lines.append(json.dumps({"text": f"{' and '.join(parts)}, the {shape} {where}"}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def text_continued(method: str, seed: int, out: Path) -> dict:
    """A from-scratch run (text_curve's) continued from its exported model on the scene descriptions, at a quarter
    of the rate: the (step, val/perplexity) curve of the continued run."""
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.trainer import train

    base = out / "runs" / f"text-{method}-s{seed}"
    if not (base / "encoder" / "config.json").exists():
        text_curve(method, seed, out)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conftest import tiny_config

    scenes = out / "scenes.jsonl"
    if not scenes.exists():
        make_scenes(scenes)
    tree = tiny_config(method, **{"train.steps": TEXT_STEPS, "train.batch_size": 16,
                                  "train.health_every": 20, "train.log_every": 20, "train.health_samples": 32,
                                  "train.checkpoint_every": TEXT_STEPS, "train.seed": seed, "optim.lr": 5e-4,
                                  "train.tensorboard": False})
    tree["data"] = {"path": str(scenes)}
    tree["backbone"] = {"pretrained": str(base / "encoder")}
    run_dir = make_run(tree, f"text-{method}-s{seed}-continued", out / "runs")
    t0 = time.perf_counter()
    train(run_dir)
    rows = [{k: r[k] for k in ("step", "lr", "val/perplexity") if k in r} for r in RunFolder(run_dir).read_metrics()]
    return {"method": method, "seed": seed, "rows": rows, "seconds": round(time.perf_counter() - t0, 1)}


def text_forecast_table(curves: list[dict], continued: bool = False) -> str:
    """Held-out perplexity at the end of each run forecast from its first 25% and 50% (issue 24's goal: within
    10%), through the product's own path (`forecast_series`): from the run alone (after the warm-up, fitted as the
    log; for `continued` runs after ADAPTING x the warm-up, and no forecast before enough points there), and read off
    the other runs of the same method in `curves` (leave one out: finished runs of the same recipe)."""
    from tools.diagnosis.forecast import forecast_series

    rows, errors = [], {(basis, k): [] for basis in ("own", "refs") for k in (0.25, 0.5)}
    held = {(basis, k): [] for basis in ("own", "refs") for k in (0.25, 0.5)}
    for c in curves:
        points = [(r["step"], r["val/perplexity"]) for r in c["rows"] if "val/perplexity" in r and r["step"] > 0]
        end_step, end = points[-1]
        refs = {f"{o['method']}-s{o['seed']}": o["rows"] for o in curves if o["method"] == c["method"] and o is not c}
        for share in (0.25, 0.5):
            part = [r for r in c["rows"] if r["step"] <= share * end_step]
            last = max(r["step"] for r in part if "val/perplexity" in r)
            multiple = end_step / last
            cells = []
            for basis, references in (("own", None), ("refs", refs)):
                f = forecast_series(part, multiples=tuple(sorted({2.0, multiple})), continued=continued,
                                    references=references)
                mid, lo, hi = f.at.get(multiple, (float("nan"),) * 3)
                err = abs(mid - end) / end * 100 if math.isfinite(mid) else float("nan")
                if math.isfinite(err):
                    errors[basis, share].append(err)
                    held[basis, share].append(lo <= end <= hi)
                cells += [mid, f"{lo:.3g}-{hi:.3g}", err, f.verdict]
            seen = [p for p in points if p[0] <= last]
            rows.append([c["method"], c["seed"], f"{share:.0%}", len(seen), seen[-1][1], end, *cells])
    text = table(["method", "seed", "fit on", "points", "ppl at fit end", "ppl at end", "own fit", "80% band",
                  "error %", "verdict", "read off the others", "80% band", "error %", "verdict"], rows)
    summary = "\n".join(
        f"{'own fit' if basis == 'own' else 'read off the others'}, from {k:.0%}: mean error {np.mean(v):.1f}%, "
        f"max {np.max(v):.1f}% over {len(v)} runs, band held the end {sum(held[basis, k])}/{len(v)}"
        for (basis, k), v in errors.items() if v)
    return text + "\n" + summary
