"""Do label-free signals pick the encoder a linear probe would pick? (issue 24's validation)

Sweeps of 3 methods x 8 settings (learning rate, temperature or EMA or regulariser, augmentation strength,
length) on three domains: digits and shapes (the development domains) and a photo-like texture folder read
through the dataset cache (the held-out domain: nothing in the ranking was chosen by looking at it). Every run
logs its health signals (LiDAR, RankMe, alpha-ReQ) during training and is probed with labels at its end.

Reports, per domain and method and pooled across methods: Kendall tau between each signal and probe
accuracy, and the regret of picking the run by the signal instead of by the probe (probe points lost); with
--view-retrieval, --retrieval-variants and --truth-halves, view retrieval's forms and the probe against itself.
The forecasts are in label_free_forecast.py; measurements of runs already stored (the failure suite's, the kept
checkpoints, the good/weak verdict) in label_free_stored.py; this file's main runs them all.

    python benchmarks/label_free.py [--out /tmp/sslpilot-label-free] [--domains digits,shapes,textures]
    python benchmarks/label_free.py --text-forecast 0,1,2 [--continued]   # held-out perplexity forecasts
    python benchmarks/label_free.py --checkpoints DIR,... | --quality DIR,... | --pool DIR,... [--pool-views 8]

Each run's result is appended to <out>/results.jsonl as it finishes; a rerun skips what is there
(resumable in parts: --domains, --methods).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, make_run, table  # noqa: E402

from ssl_runtime.catalogue import BUILTIN_DATASETS  # noqa: E402

DEV_DOMAINS, HELD_OUT = tuple(BUILTIN_DATASETS), "textures"  # the held-out domain: a generated folder
HELD_OUT_2 = "patterns"  # a second held-out domain (session 14), written after view retrieval was shipped
FRESH_TEXTURES = "textures_6000"  # a fresh draw of the textures, four times the images: a truth that agrees with itself
FRESH_TEXTURES_2 = "textures_6000_s17"  # a third draw (session 15), trained after the retrieval variant was chosen
FRESH_TEXTURES_3 = "textures_30000_s19"  # a fourth (session 17): five times the validation images, a steadier truth
FRESH_TEXTURES_4 = "textures_30000_s23"  # a fifth (session 17), trained after view retrieval's image count was chosen
FRESH_TEXTURES_5 = "textures_30000_s29"  # a sixth (session 18), trained after standardised retrieval was written down
FRESH_TEXTURES_6 = "textures_30000_s31"  # a seventh (session 18), trained after standardised retrieval shipped
# three more (session 19), whose long runs test the probe forecast read between two readings of the schedule
FORECAST_TEXTURES = ("textures_30000_s37", "textures_30000_s41", "textures_30000_s43")
FRESH_TEXTURES_7 = "textures_30000_s47"  # an eighth (session 19), trained after cluster consistency was written down
FRESH_TEXTURES_8 = "textures_30000_s53"  # a ninth (session 19), trained after the pairing shipped
LONGER_TEXTURES = "textures_30000_s59"  # a tenth (session 20), for the runs four times as long (LONGER)
VERDICT_TEXTURES = "textures_30000_s61"  # an eleventh (session 20), trained after the symmetric verdict was written down
BAND_TEXTURES = "textures_30000_s67"  # a twelfth (session 20), trained before the forecast's new band was chosen, unseen
FLOOR_TEXTURES = "textures_30000_s71"  # a thirteenth (session 21): trunks for forecast_floor.py's branches
HOLD_TEXTURES = "textures_30000_s73"  # a fourteenth (session 21), trained after rule H was written down
WIDE_TEXTURES = "textures_30000_s79"  # a fifteenth (session 21), trained after the wider early band was written down
SWEEP_TEXTURES = "textures_30000_s83"  # a sixteenth (session 22): the 24-run sweep again, nothing changed since the ninth
SWEEP_TEXTURES_2 = "textures_30000_s89"  # a seventeenth (session 22), trained after the sixteenth was read
SWEEP_TEXTURES_3 = "textures_30000_s97"  # an eighteenth (session 43), trained after measured images were spread
HELD_OUT_DOMAINS = (HELD_OUT, HELD_OUT_2, FRESH_TEXTURES, FRESH_TEXTURES_2, FRESH_TEXTURES_3, FRESH_TEXTURES_4,
                    FRESH_TEXTURES_5, FRESH_TEXTURES_6, *FORECAST_TEXTURES, FRESH_TEXTURES_7, FRESH_TEXTURES_8,
                    LONGER_TEXTURES, VERDICT_TEXTURES, BAND_TEXTURES, FLOOR_TEXTURES, HOLD_TEXTURES, WIDE_TEXTURES,
                    SWEEP_TEXTURES, SWEEP_TEXTURES_2, SWEEP_TEXTURES_3)
DOMAINS = (*DEV_DOMAINS, *HELD_OUT_DOMAINS)


def shown(domain: str) -> str:
    return domain + (" (held out)" if domain in HELD_OUT_DOMAINS else "")
STEPS, BATCH = 120, 64
SIGNALS = ("health/lidar", "health/rank", "health/alpha_req")

# 8 settings per method: (name, dotted overrides). The learning rate is scaled from the method's default.
COMMON = [("base", {}), ("lr/10", {"optim.lr_scale": 0.1}), ("lr*4", {"optim.lr_scale": 4.0}),
          ("short", {"train.steps": STEPS // 6}), ("long", {"train.steps": STEPS * 2, "train.checkpoint_every": 12, "train.keep_checkpoints": 20}),
          ("aug 0.3", {"augment.strength": 0.3})]
SPECIFIC = {
    "simclr": [("temp 0.5", {"method_args.temperature": 0.5}), ("temp 0.05", {"method_args.temperature": 0.05})],
    "byol": [("ema 0.9", {"method_args.ema_momentum": 0.9}), ("ema 0.999", {"method_args.ema_momentum": 0.999})],
    "vicreg": [("mu 5", {"method_args.mu": 5.0}), ("nu 0", {"method_args.nu": 0.0})],
}
METHODS = tuple(SPECIFIC)
# only when named in --settings: four times the long setting's steps, its 20 kept checkpoints as far apart in share of
# the run; asks whether the probe forecast's miss from a quarter belongs to the 240-step runs' steep start (session 20)
LONGER = [("long x4", {"train.steps": STEPS * 8, "train.checkpoint_every": STEPS * 8 // 20,
                        "train.keep_checkpoints": 20})]


def write_once(root: Path, write) -> Path:
    """A generated dataset folder, written once even when several sweep processes start together: each writes its
    own temporary copy and renames it into place whole, so no process reads another's half-written images (three
    processes writing one folder at once made three caches of it). A folder without DONE is an older crash's."""
    if (root / "DONE").exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    tmp = root.with_name(f"{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp)
    (tmp / "DONE").write_text("done")
    try:
        tmp.rename(root)
    except OSError:  # another process's copy is in place already: the same seeded images
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def make_textures(root: Path, n: int = 1500, side: int = 64, seed: int = 7) -> Path:
    """Photo-like labelled images: the class is a stripe texture's orientation and frequency, under random
    lighting gradients, occluding blobs, colour casts, sensor noise and JPEG compression."""
    return write_once(root, lambda dest: _write_textures(dest, n, side, seed))


def _write_textures(root: Path, n: int, side: int, seed: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    for c in range(10):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = i % 10
        theta = math.pi * (c % 5) / 5 + rng.normal(0, 0.08)
        freq = (4 if c < 5 else 9) * rng.uniform(0.85, 1.15)
        phase = rng.uniform(0, 2 * math.pi)
        stripes = 0.5 + 0.5 * np.sin(2 * math.pi * freq * (xx * math.cos(theta) + yy * math.sin(theta)) + phase)
        light = rng.uniform(0.4, 1.0) + rng.uniform(-0.4, 0.4) * (xx - 0.5) + rng.uniform(-0.4, 0.4) * (yy - 0.5)
        colour = rng.uniform(0.3, 1.0, 3)
        img = stripes[..., None] * light[..., None] * colour * 255
        for _ in range(int(rng.integers(1, 4))):
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.18)
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
        img = np.clip(img + rng.normal(0, 10, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / f"class{c}" / f"{i:05d}.jpg", quality=int(rng.integers(60, 95)))


def make_patterns(root: Path, n: int = 1500, side: int = 64) -> Path:
    """A second photo-like labelled domain: the class is the kind of pattern (checkerboard, dots, rings, stripes,
    crosshatch, or smooth blotches), at a random scale, rotation and phase, in random colours, under a lighting
    gradient, an occluding rectangle, sensor noise and JPEG compression."""
    return write_once(root, lambda dest: _write_patterns(dest, n, side))


def _write_patterns(root: Path, n: int, side: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    kinds = ("checkerboard", "dots", "rings", "stripes", "crosshatch", "blotches")
    for k in kinds:
        (root / k).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        theta, freq = rng.uniform(0, math.pi), rng.uniform(2.5, 5.0)
        u = (xx - 0.5) * math.cos(theta) + (yy - 0.5) * math.sin(theta)
        v = -(xx - 0.5) * math.sin(theta) + (yy - 0.5) * math.cos(theta)
        a, b = (2 * math.pi * freq * w + rng.uniform(0, 2 * math.pi) for w in (u, v))
        if kind == "checkerboard":
            mask = np.sin(a) * np.sin(b) > 0
        elif kind == "dots":
            mask = np.sin(a) * np.sin(b) > 0.5
        elif kind == "rings":
            cx, cy = rng.uniform(0.2, 0.8, 2)
            mask = np.sin(2 * math.pi * freq * np.hypot(xx - cx, yy - cy)) > 0
        elif kind == "stripes":
            mask = np.sin(a) > 0
        elif kind == "crosshatch":
            mask = (np.abs(np.sin(a)) < 0.35) | (np.abs(np.sin(b)) < 0.35)
        else:
            coarse = rng.normal(0, 1, (4, 4))
            mask = np.array(Image.fromarray(coarse.astype(np.float32)).resize((side, side), Image.BICUBIC)) > 0
        fg, bg = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        img = np.where(mask[..., None], fg, bg)
        img = img * (rng.uniform(0.5, 1.0) + rng.uniform(-0.3, 0.3) * (xx - 0.5))[..., None]
        x0, y0 = rng.integers(0, side - 16, 2)
        w, h = rng.integers(8, 24, 2)
        img[y0:y0 + h, x0:x0 + w] = rng.uniform(0, 255, 3)
        img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / kind / f"{i:05d}.jpg", quality=int(rng.integers(60, 95)))


def generate(domain: str, root: Path) -> Path:
    """A held-out domain's images under `root`: the patterns, the textures at their defaults, or `textures_N_sS`, N
    textures drawn with seed S (13 where no seed is named: the first fresh draw, `textures_6000`)."""
    if domain == HELD_OUT_2:
        return make_patterns(root)
    if domain == HELD_OUT:
        return make_textures(root)
    n, _, seed = domain.removeprefix("textures_").partition("_s")
    return make_textures(root, n=int(n), seed=int(seed or 13))


def _tree(domain: str, method: str, overrides: dict, out: Path) -> dict:
    data = {"name": domain} if domain in DEV_DOMAINS else {
        "path": str(generate(domain, out / domain)), "image_size": 32, "cache_dir": str(out / "datasets")}
    tree = {"method": method, "data": data, "backbone": {"name": "small_cnn"},
            "train": {"steps": STEPS, "batch_size": BATCH, "health_every": 20, "health_samples": 256,
                      "device": "cpu", "seed": 0, "tensorboard": False},
            "eval": {"time_budget_s": 60}}
    for key, value in overrides.items():  # optim.lr_scale too: the method's own default rate times it
        head, *rest = key.split(".")
        node = tree.setdefault(head, {})
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
    return tree


def run_one(domain: str, method: str, setting: str, overrides: dict, out: Path, base: dict | None = None) -> dict:
    from ssl_runtime.probe import probe_run
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.trainer import train

    tree = _tree(domain, method, {**(base or {}), **overrides}, out)
    run_dir = make_run(tree, f"{domain}-{method}-{setting}".replace(" ", "_").replace("/", "div").replace("*", "x"),
                       out / "runs")
    t0 = time.perf_counter()
    summary = train(run_dir)
    probe = probe_run(run_dir, device="cpu") if summary.get("status") == "succeeded" else {}
    rows = RunFolder(run_dir).read_metrics()
    health = [r for r in rows if isinstance(r.get("health/lidar"), (int, float))]
    last = health[-1] if health else {}
    return {"domain": domain, "method": method, "setting": setting, "status": summary.get("status"),
            "probe": probe.get("probe/acc"), "knn": probe.get("knn/acc"),
            "baseline_probe": (probe.get("baseline") or {}).get("probe/acc"),
            **{s: last.get(s) for s in SIGNALS},
            "trajectory": [[r["step"], r["health/lidar"], r.get("health/rank")] for r in health],
            "seconds": round(time.perf_counter() - t0, 1), "run_dir": str(run_dir)}


def kendall(x: list[float], y: list[float]) -> float:
    from scipy.stats import kendalltau

    tau = kendalltau(x, y).statistic
    return float("nan") if tau is None or math.isnan(tau) else float(tau)


def regret(runs: list[dict], signal: str, higher: bool = True) -> float:
    pick = (max if higher else min)(runs, key=lambda r: r[signal])
    return 100 * (max(r["probe"] for r in runs) - pick["probe"])


def ranking_tables(results: list[dict], methods: tuple[str, ...] = METHODS, min_runs: int = 3) -> str:
    ok = [r for r in results if r["probe"] is not None and all(r[s] is not None for s in SIGNALS)]
    rows = []
    for domain in DOMAINS:
        mine = [r for r in ok if r["domain"] == domain]
        groups = [(m, [r for r in mine if r["method"] == m]) for m in methods] + [("all methods", mine)]
        for name, runs in groups:
            if len(runs) < min_runs:
                continue
            probe = [r["probe"] for r in runs]
            # alpha-ReQ: nearer 1 is reported better, so the signal is -|alpha - 1|
            alpha = [-abs(r["health/alpha_req"] - 1) for r in runs]
            rows.append([shown(domain), name, len(runs),
                         f"{min(probe):.3f}-{max(probe):.3f}",
                         kendall([r["health/lidar"] for r in runs], probe),
                         kendall([r["health/rank"] for r in runs], probe), kendall(alpha, probe),
                         regret(runs, "health/lidar"), regret(runs, "health/rank")])
    return table(["domain", "method", "runs", "probe range", "tau LiDAR", "tau RankMe", "tau alpha",
                  "regret LiDAR (pts)", "regret RankMe (pts)"], rows)


def checkpoint_views(run_dir: Path, views: int, images: int, strength: float | None = None):
    """(the run's method loaded from its final checkpoint, `views` augmented views of `images` held-out images).
    `strength` replaces the run's augmentation strength, so the runs of a sweep are measured on the same views."""
    import torch

    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import measured_sample, split_ids
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.tasks import build_task

    folder = RunFolder(run_dir)
    cfg = load_run_config(folder.config)
    if strength is not None:
        cfg.augment.strength = strength
    task = build_task(cfg, None, torch.device("cpu"), "32")
    state = torch.load(folder.checkpoints / "last.pt", map_location="cpu", weights_only=False)
    task.method.load_state_dict(state["model"])
    _, val_ids = split_ids(task.store, cfg.data, cfg.train.seed)
    held_out = measured_sample(val_ids if len(val_ids) >= 16 else task.train_ids, images, cfg.train.seed)
    return task.method, task.health_views(held_out, views)


RETRIEVAL_SIGNALS = ("view retrieval, backbone", "view retrieval, projector", "view retrieval, as ranked")


def view_retrieval(run_dir: Path, views: int = 4, images: int = 256) -> dict[str, float]:
    """Label-free: how readily a view of an image finds another view of the same image among `images` held-out
    images (ssl_runtime.health.view_retrieval: top-1 until session 15, the mean reciprocal rank since), on the backbone's and the projector's features of
    views at the method's full augmentation whatever strength the run trained at (the first measurement's design);
    and as `sslpilot rank` measures it (ssl_runtime.audit.run_view_health: the exported encoder, SimCLR's views)."""
    import torch

    from ssl_runtime.audit import run_view_health
    from ssl_runtime.health import eval_mode
    from ssl_runtime.health import view_retrieval as retrieval

    method, xs = checkpoint_views(run_dir, views, images, strength=1.0)
    with torch.no_grad(), eval_mode(method):
        backbone, projector = [method.embed(x) for x in xs], [method.project(x) for x in xs]
    return {"view retrieval, backbone": float(retrieval(backbone)),
            "view retrieval, projector": float(retrieval(projector)),
            "view retrieval, as ranked": run_view_health(run_dir, images, views)["health/view_retrieval"]}


def signal_table(results: list[dict], signals: dict[str, str], min_runs: int = 6) -> str:
    """Kendall tau and regret against the probe of each signal (column label -> result key), per domain and method."""
    rows = []
    for domain in DOMAINS:
        mine = [r for r in results if r["domain"] == domain and r["probe"] is not None
                and all(r.get(k) is not None for k in signals.values())]
        for name, runs in [(m, [r for r in mine if r["method"] == m]) for m in METHODS] + [("all methods", mine)]:
            if len(runs) < min_runs:
                continue
            probe = [r["probe"] for r in runs]
            rows.append([shown(domain), name, len(runs), *(kendall([r[k] for r in runs], probe) for k in signals.values()),
                         *(regret(runs, k) for k in signals.values())])
    return table(["domain", "method", "runs", *(f"tau {label}" for label in signals),
                  *(f"regret {label} (pts)" for label in signals)], rows)


def retrieval_table(results: list[dict]) -> str:
    """View retrieval's three forms against the probe, beside RankMe's."""
    return signal_table(results, {"retrieval backbone": RETRIEVAL_SIGNALS[0], "retrieval projector": RETRIEVAL_SIGNALS[1],
                                  "retrieval as ranked": RETRIEVAL_SIGNALS[2], "RankMe": "health/rank"})


def at_images(n: int, raw: bool = False) -> str:
    return f"view retrieval {'on raw cosines' if raw else 'as ranked'}, {n} images"


def view_images(run_dir: Path, counts: tuple[int, ...], views: int = 4, raw: bool = False) -> dict[str, float]:
    """View retrieval as `sslpilot rank` measures it (standardised features since session 18), on each of `counts`
    held-out images (session 17: the count), and with `raw` the same views' retrieval on raw cosines (the form
    shipped in sessions 14-17)."""
    from ssl_runtime.audit import health_of_views, run_view_features
    from ssl_runtime.health import mean_reciprocal_rank

    out = {}
    for n in counts:
        feats = run_view_features(run_dir, n, views)
        out[at_images(n)] = health_of_views(feats)["health/view_retrieval"]
        if raw:
            out[at_images(n, raw=True)] = float(mean_reciprocal_rank(feats))
    return out


def view_images_table(results: list[dict], counts: tuple[int, ...], raw: bool = False) -> str:
    """View retrieval as ranked on each image count against the probe (and on raw cosines, when measured)."""
    signals = {f"{n} images": at_images(n) for n in counts}
    if raw:
        signals.update({f"{n} images, raw cosines": at_images(n, raw=True) for n in counts})
    return signal_table(results, signals)


RETRIEVED, CLUSTERED = "view retrieval, 2048 images", "cluster consistency, k=10"


def cluster_readings(run_dir: Path, images: int = 2048) -> dict[str, float]:
    """View retrieval as ranked (standardised) and cluster consistency on the same views of the run's first
    `images` held-out images, as `sslpilot rank` measures them (session 19)."""
    from ssl_runtime.audit import run_view_health

    measured = run_view_health(run_dir, images=images)
    return {RETRIEVED: measured["health/view_retrieval"], CLUSTERED: measured["health/cluster_consistency"]}


def paired_table(results: list[dict], min_runs: int = 6) -> str:
    """Within each method (and across all): Kendall tau against the probe of view retrieval, cluster consistency,
    and the two paired as `sslpilot rank` pairs them (ranking.mean_places within the group; negated, so higher is
    better here), their regrets, and how well the probe's halves agree (judged where they agree at 0.8 or more)."""
    from tools.ranking import mean_places

    rows = []
    for domain in DOMAINS:
        mine = [r for r in results if r["domain"] == domain and r["probe"] is not None and r.get(CLUSTERED) is not None]
        for name, runs in [(m, [r for r in mine if r["method"] == m]) for m in METHODS] + [("all methods", mine)]:
            if len(runs) < min_runs:
                continue
            paired = mean_places([r[RETRIEVED] for r in runs], [r[CLUSTERED] for r in runs])
            for r, place in zip(runs, paired, strict=True):
                r["paired ranks"] = -place
            probe = [r["probe"] for r in runs]
            halves = [kendall([r["halves"][k][0] for r in runs], [r["halves"][k][1] for r in runs])
                      for k in range(len(runs[0].get("halves") or []))] if all(r.get("halves") for r in runs) else []
            keys = (RETRIEVED, CLUSTERED, "paired ranks")
            rows.append([shown(domain), name, len(runs), *(kendall([r[k] for r in runs], probe) for k in keys),
                         *(regret(runs, k) for k in keys), float(np.mean(halves)) if halves else float("nan")])
    return table(["domain", "method", "runs", "tau retrieval", "tau clusters", "tau paired", "regret retrieval (pts)",
                  "regret clusters (pts)", "regret paired (pts)", "tau probe half A vs B"], rows)


RETRIEVAL_VARIANTS = ("top-1", "top-5", "reciprocal rank", "percentile")


def variant_scores(ranks, candidates: int) -> dict[str, float]:
    r = ranks.float()
    return {"top-1": float((r == 0).float().mean()), "top-5": float((r < 5).float().mean()),
            "reciprocal rank": float((1 / (r + 1)).mean()), "percentile": float((1 - r / (candidates - 1)).mean())}


def retrieval_variants(run_dir: Path, images: int = 256, views: int = 4) -> dict:
    """Each variant of view retrieval on the run's exported encoder as `sslpilot rank` measures it, and on two
    disjoint halves of those images (for the signal's agreement with itself)."""
    from ssl_runtime.audit import run_view_features
    from ssl_runtime.health import matching_ranks

    feats = run_view_features(run_dir, images, views)
    n = feats[0].shape[0]
    halves = [[f[: n // 2] for f in feats], [f[n // 2:] for f in feats]]
    return {"variants": variant_scores(matching_ranks(feats), n),
            "variant_halves": [variant_scores(matching_ranks(h), h[0].shape[0]) for h in halves]}


def variants_table(results: list[dict], min_runs: int = 6) -> str:
    """Per domain and method, each variant's Kendall tau against the probe, its tau between two halves of the
    images (no labels needed) and its regret."""
    rows = []
    for domain in DOMAINS:
        mine = [r for r in results if r["domain"] == domain and r["probe"] is not None and r.get("variants")]
        for name, runs in [(m, [r for r in mine if r["method"] == m]) for m in METHODS] + [("all methods", mine)]:
            if len(runs) < min_runs:
                continue
            probe = [r["probe"] for r in runs]
            for v in RETRIEVAL_VARIANTS:
                halves = [[r["variant_halves"][k][v] for r in runs] for k in (0, 1)]
                rows.append([shown(domain), name, len(runs), v, kendall([r["variants"][v] for r in runs], probe),
                             kendall(*halves), regret([{**r, "s": r["variants"][v]} for r in runs], "s")])
    return table(["domain", "method", "runs", "variant", "tau vs probe", "tau half vs half (no labels)",
                  "regret (pts)"], rows)


def truth_halves(run_dir: Path, splits: int = 5) -> list[tuple[float, float]]:
    """The run's linear probe scored on two disjoint random halves of its validation images, for `splits` random
    halvings: how much the truth a label-free signal is judged against depends on which images score it."""
    import torch

    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import split_indices
    from ssl_runtime.probe import feature_source, linear_probe
    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(run_dir)
    train_idx, val_idx, extract, _ = feature_source(folder, load_run_config(folder.config), torch.device("cpu"))
    feats, labels = extract(False)
    correct = linear_probe(feats[train_idx], labels[train_idx], feats[val_idx], labels[val_idx])["correct"].float()
    return [tuple(float(correct[h].mean()) for h in split_indices(len(val_idx), 0.5, seed)) for seed in range(splits)]


def truth_table(results: list[dict], min_runs: int = 6) -> str:
    """Per domain and method: Kendall tau between the probe on one half of the validation images and on the other
    (the best any signal can agree with a truth scored on half the images), the regret of picking the run by one
    half judged on the other, and the signals' tau against a half for comparison. Means over the halvings."""
    ok = [r for r in results if r.get("halves") and all(r[s] is not None for s in SIGNALS)]
    rows = []
    for domain in DOMAINS:
        mine = [r for r in ok if r["domain"] == domain]
        for name, runs in [(m, [r for r in mine if r["method"] == m]) for m in METHODS] + [("all methods", mine)]:
            if len(runs) < min_runs:
                continue
            taus, regrets, signal_taus = [], [], {s: [] for s in ("health/lidar", "health/rank")}
            for k in range(len(runs[0]["halves"])):
                a, b = [r["halves"][k][0] for r in runs], [r["halves"][k][1] for r in runs]
                taus.append(kendall(a, b))
                regrets += [100 * (max(b) - b[a.index(max(a))]), 100 * (max(a) - a[b.index(max(b))])]
                for s in signal_taus:
                    signal_taus[s] += [kendall([r[s] for r in runs], a), kendall([r[s] for r in runs], b)]
            gap = np.mean([abs(h[0] - h[1]) for r in runs for h in r["halves"]]) * 100
            rows.append([shown(domain), name, len(runs),
                         runs[0].get("val_images"), gap, float(np.mean(taus)), float(np.mean(regrets)),
                         float(np.mean(signal_taus["health/lidar"])), float(np.mean(signal_taus["health/rank"]))])
    return table(["domain", "method", "runs", "val images", "|half A - half B| (pts)", "tau half A vs half B",
                  "regret, pick by A judged on B (pts)", "tau LiDAR vs a half", "tau RankMe vs a half"], rows)


def with_measure(results: list[dict], stored_file: Path, measure) -> None:
    """Adds `measure(run)` (a dict) to every probed run in `results`, kept in `stored_file` by run folder so that a
    rerun measures only what is new."""
    stored = {}
    if stored_file.exists():
        stored = {h["run_dir"]: h for h in map(json.loads, stored_file.read_text().splitlines())}
    for r in results:
        if r["probe"] is not None and r["run_dir"] not in stored:
            stored[r["run_dir"]] = {"run_dir": r["run_dir"], **measure(r)}
            with stored_file.open("a") as f:
                f.write(json.dumps(stored[r["run_dir"]]) + "\n")
    for r in results:
        r.update(stored.get(r["run_dir"], {}))


def main() -> None:
    from label_free_forecast import TEXT_STEPS

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/sslpilot-label-free")
    ap.add_argument("--domains", default=",".join([*DEV_DOMAINS, HELD_OUT]), help=f"of {', '.join(DOMAINS)}")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--probe-references", default="", help="with --forecast: DIR,... of earlier sweeps whose long "
                    "runs' probe curves each curve is also read off (its method's, other draws)")
    ap.add_argument("--cluster", action="store_true", help="view retrieval and cluster consistency on 2048 held-out "
                    "images of each stored run, alone and paired (cluster_readings.jsonl; with --truth-halves)")
    ap.add_argument("--settings", default="", help="only these settings (e.g. long), default all eight; "
                    f"{', '.join(dict(LONGER))} only when named")
    ap.add_argument("--report", action="store_true", help="only print the tables from results.jsonl")
    ap.add_argument("--forecast", action="store_true", help="also probe the long runs' kept checkpoints and "
                    "forecast the probe (results in probe_curves.jsonl)")
    ap.add_argument("--text-forecast", default="", help="seeds (e.g. 0,1,2): train mlm and clm runs of "
                    f"{TEXT_STEPS} steps and forecast their held-out perplexity (text_curves.jsonl)")
    ap.add_argument("--continued", action="store_true", help="with --text-forecast: continue each run from its "
                    "exported model on generated scene descriptions and forecast the continued run (text_continued.jsonl)")
    ap.add_argument("--pool", default="", help="DIR,...: rank the failure suite's stored runs (controls, faults and "
                    "follow-ups of each method and domain) instead of training a sweep")
    ap.add_argument("--base", default="", help="KEY=VALUE,...: dotted overrides for every run of the sweep (e.g. "
                    "data.image_size=16,backbone.width=0.5: the failure suite's size, where a random init probes low)")
    ap.add_argument("--view-images", default="", help="N,...: view retrieval as ranked on N held-out images each, "
                    "against the probe (session 17: how many images the signal needs)")
    ap.add_argument("--view-raw", action="store_true", help="with --view-images: also view retrieval on raw cosines "
                    "(the form ranked by until session 18, which standardised the features)")
    ap.add_argument("--truth-halves", action="store_true", help="score each stored run's probe on two halves of "
                    "its validation images (5 halvings): how well a truth scored on half the images agrees with itself")
    ap.add_argument("--view-retrieval", action="store_true", help="measure each stored sweep run's final "
                    "checkpoint by view retrieval (label-free; view_retrieval.jsonl) and rank by it")
    ap.add_argument("--retrieval-variants", action="store_true", help="measure top-1, top-5, reciprocal rank and "
                    "percentile view retrieval on each stored sweep run, on all its images and on two halves")
    ap.add_argument("--pool-views", type=int, default=0, help="with --pool: measure each run's final checkpoint "
                    "again on this many augmented views (LiDAR as its paper computes it) and compare the signals")
    ap.add_argument("--quality", default="", help="DIR,...: does view retrieval against the random init's say "
                    "good or weak as the probe against its random init does? (stored runs)")
    ap.add_argument("--checkpoints", default="", help="DIR,...: within each stored run (a sweep's or the failure "
                    "suite's), pick the kept checkpoint by view retrieval, LiDAR, RankMe or the last, against the probe")
    args = ap.parse_args()
    out = Path(args.out)
    from label_free_forecast import (
        forecast_table,
        probe_forecast_table,
        text_continued,
        text_curve,
        text_forecast_table,
    )
    from label_free_stored import (
        checkpoint_probes,
        checkpoint_table,
        pooled_runs,
        pooled_view_signals,
        quality_table,
        stored_checkpoint_runs,
        stored_quality_runs,
        view_signal_table,
    )
    if args.quality:
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        runs = stored_quality_runs([Path(p) for p in args.quality.split(",")], out / "quality.jsonl")
        print(f"{machine()}; {len(runs)} stored runs; this call {time.perf_counter() - t0:.0f} s\n")
        print(quality_table(runs))
        return
    if args.checkpoints:
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        runs = stored_checkpoint_runs([Path(p) for p in args.checkpoints.split(",")], out / "checkpoints.jsonl")
        print(f"\n{machine()}; {len(runs)} stored runs; this call {time.perf_counter() - t0:.0f} s\n")
        for r in runs:
            r["group"] = f"{shown(r['domain'])}, {r['source']}"
        groups = {g: [g] for g in sorted({r["group"] for r in runs})}
        groups["development, pooled"] = sorted({r["group"] for r in runs if r["domain"] in DEV_DOMAINS})
        groups["held out, pooled"] = sorted({r["group"] for r in runs if r["domain"] not in DEV_DOMAINS})
        print(checkpoint_table(runs, groups))
        return
    if args.pool and args.pool_views:
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        runs = pooled_view_signals([Path(p) for p in args.pool.split(",")], args.pool_views, out / "view_signals.jsonl")
        print(f"{machine()}; {len(runs)} stored runs, {args.pool_views} views; this call "
              f"{time.perf_counter() - t0:.0f} s\n")
        print(view_signal_table(runs, tuple(args.domains.split(","))))
        return
    if args.pool:
        from ssl_runtime.catalogue import VISION_METHODS

        runs = pooled_runs([Path(p) for p in args.pool.split(",")])
        print(f"{machine()}; {len(runs)} stored runs\n")
        print(ranking_tables(runs, methods=tuple(VISION_METHODS), min_runs=6))
        return
    if args.text_forecast:
        out.mkdir(parents=True, exist_ok=True)
        curves_file = out / ("text_continued.jsonl" if args.continued else "text_curves.jsonl")
        curves = [json.loads(x) for x in curves_file.read_text().splitlines()] if curves_file.exists() else []
        have = {(c["method"], c["seed"]) for c in curves}
        for seed in (int(x) for x in args.text_forecast.split(",")):
            for method in ("mlm", "clm"):
                if (method, seed) not in have:
                    curves.append((text_continued if args.continued else text_curve)(method, seed, out))
                    with curves_file.open("a") as f:
                        f.write(json.dumps(curves[-1]) + "\n")
        print(f"{machine()}; {len(curves)} text runs, {sum(c['seconds'] for c in curves):.0f} s of runs\n")
        print(text_forecast_table(curves, continued=args.continued))
        return
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.jsonl"
    results = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
    done = {(r["domain"], r["method"], r["setting"]) for r in results}
    base = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.base.split(",") if item)}
    t_start = time.perf_counter()
    if not args.report:
        for domain in args.domains.split(","):
            for method in args.methods.split(","):
                for setting, overrides in COMMON + SPECIFIC[method] + LONGER:
                    named = setting in args.settings.split(",")
                    optional = setting in dict(LONGER)
                    if (domain, method, setting) in done or ((args.settings or optional) and not named):
                        continue
                    r = run_one(domain, method, setting, overrides, out, base)
                    results.append(r)
                    with results_file.open("a") as f:
                        f.write(json.dumps(r) + "\n")
                    print(f"{domain} {method} {setting}: probe {r['probe']}, LiDAR {r['health/lidar']}, "
                          f"{r['seconds']} s", flush=True)
    print(f"\n{machine()}; {len(results)} runs, {sum(r['seconds'] for r in results) / 60:.1f} min of runs "
          f"({(time.perf_counter() - t_start) / 60:.1f} min this call)\n")
    results = [r for r in results if r["domain"] in args.domains.split(",")]  # what this call reports on
    print(ranking_tables(results))
    print()
    print(forecast_table(results))
    if args.view_retrieval:
        with_measure(results, out / "view_retrieval.jsonl", lambda r: view_retrieval(Path(r["run_dir"])))
        print()
        print(retrieval_table(results))
    if args.retrieval_variants:
        with_measure(results, out / "retrieval_variants.jsonl", lambda r: retrieval_variants(Path(r["run_dir"])))
        print()
        print(variants_table(results))
    if args.view_images:
        counts = tuple(int(n) for n in args.view_images.split(","))
        # measurements are kept by form: files before session 18 hold the raw-cosine form under "as ranked"
        raw = args.view_raw
        with_measure(results, out / f"view_images_{'_'.join(map(str, counts))}_s18{'_raw' if raw else ''}.jsonl",
                     lambda r: view_images(Path(r["run_dir"]), counts, raw=raw))
        print()
        print(view_images_table(results, counts, raw=raw))
    if args.cluster:
        with_measure(results, out / "cluster_readings.jsonl", lambda r: cluster_readings(Path(r["run_dir"])))
    if args.truth_halves:
        with_measure(results, out / "truth_halves.jsonl", lambda r: {
            "halves": truth_halves(Path(r["run_dir"])),
            "val_images": json.loads((Path(r["run_dir"]) / "probe.json").read_text()).get("num_val")})
        print()
        print(truth_table(results))
    if args.cluster:
        print()
        print(paired_table(results))
    if args.forecast:
        curves_file = out / "probe_curves.jsonl"
        curves = [json.loads(x) for x in curves_file.read_text().splitlines()] if curves_file.exists() else []
        have = {(c["domain"], c["method"], c.get("setting", "long")) for c in curves}
        for r in results:
            kept = r["setting"] in ("long", *(name for name, _ in LONGER))
            if kept and (r["domain"], r["method"], r["setting"]) not in have and r["status"] == "succeeded":
                c = {"domain": r["domain"], "method": r["method"], "setting": r["setting"],
                     "probes": checkpoint_probes(r), "run_dir": r["run_dir"]}
                curves.append(c)
                with curves_file.open("a") as f:
                    f.write(json.dumps(c) + "\n")
        refs = [json.loads(x) for d in args.probe_references.split(",") if d
                for x in (Path(d) / "probe_curves.jsonl").read_text().splitlines()]
        print()
        print(probe_forecast_table(curves, {(r["domain"], r["method"]): Path(r["run_dir"]) for r in results
                                            if r["setting"] == "long"}, refs if args.probe_references else None))


if __name__ == "__main__":
    main()
