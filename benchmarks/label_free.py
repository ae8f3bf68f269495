"""Do label-free signals pick the encoder a linear probe would pick? (issue 24's validation)

Sweeps of 3 methods x 8 settings (learning rate, temperature or EMA or regulariser, augmentation strength,
length) on three domains: digits and shapes (the development domains) and a photo-like texture folder read
through the dataset cache (the held-out domain: nothing in the ranking was chosen by looking at it). Every run
logs its health signals (LiDAR, RankMe, alpha-ReQ) during training and is probed with labels at its end.

Reports, per domain and method and pooled across methods: Kendall tau between each signal and probe
accuracy, and the regret of picking the run by the signal instead of by the probe (probe points lost). Then
the forecast: for the longest run of each (domain, method), the LiDAR value at the end forecast from the
first 25% and 50% of its health rows, against the measured end.

    python benchmarks/label_free.py [--out /tmp/sslpilot-label-free] [--domains digits,shapes,textures]
    python benchmarks/label_free.py --text-forecast 0,1,2   # held-out perplexity forecasts of mlm and clm runs

Each run's result is appended to <out>/results.jsonl as it finishes; a rerun skips what is there
(resumable in parts: --domains, --methods).
"""

from __future__ import annotations

import argparse
import json
import math
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
HELD_OUT_DOMAINS = (HELD_OUT, HELD_OUT_2, FRESH_TEXTURES, FRESH_TEXTURES_2)
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


def make_textures(root: Path, n: int = 1500, side: int = 64, seed: int = 7) -> Path:
    """Photo-like labelled images: the class is a stripe texture's orientation and frequency, under random
    lighting gradients, occluding blobs, colour casts, sensor noise and JPEG compression."""
    from PIL import Image

    if (root / "DONE").exists():
        return root
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
    (root / "DONE").write_text(str(n))
    return root


def make_patterns(root: Path, n: int = 1500, side: int = 64) -> Path:
    """A second photo-like labelled domain: the class is the kind of pattern (checkerboard, dots, rings, stripes,
    crosshatch, or smooth blotches), at a random scale, rotation and phase, in random colours, under a lighting
    gradient, an occluding rectangle, sensor noise and JPEG compression."""
    from PIL import Image

    if (root / "DONE").exists():
        return root
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
    (root / "DONE").write_text(str(n))
    return root


def _tree(domain: str, method: str, overrides: dict, out: Path) -> dict:
    make = {HELD_OUT: make_textures, HELD_OUT_2: make_patterns,
            FRESH_TEXTURES: lambda root: make_textures(root, n=6000, seed=13),
            FRESH_TEXTURES_2: lambda root: make_textures(root, n=6000, seed=17)}
    data = {"name": domain} if domain in DEV_DOMAINS else {
        "path": str(make[domain](out / domain)), "image_size": 32, "cache_dir": str(out / "datasets")}
    tree = {"method": method, "data": data, "backbone": {"name": "small_cnn"},
            "train": {"steps": STEPS, "batch_size": BATCH, "health_every": 20, "health_samples": 256,
                      "device": "cpu", "seed": 0, "tensorboard": False},
            "eval": {"time_budget_s": 60}}
    scale = overrides.get("optim.lr_scale")
    for key, value in overrides.items():
        if key == "optim.lr_scale":
            continue
        head, *rest = key.split(".")
        node = tree.setdefault(head, {})
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
    if scale is not None:  # the method's own default, base_lr x batch / 256, as the trainer resolves it
        from ssl_runtime.catalogue import method_class

        tree.setdefault("optim", {})["lr"] = method_class(method).base_lr * BATCH / 256 * scale
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


def pooled_runs(folders: list[Path]) -> list[dict]:
    """Every finished vision run with a probe under <folder>/home-*/runs (the failure suite's homes): healthy
    controls, injected faults and their follow-ups on one method and domain, a pool far wider in quality than a
    sweep's settings. Its last health row's signals against its probe."""
    from ssl_runtime.catalogue import VISION_METHODS
    from tools.diagnosis import load_evidence

    found = []
    for run_dir in (d for f in folders for d in sorted(f.glob("home-*/runs/*"))):
        if not (run_dir / "config.yaml").exists():
            continue
        ev = load_evidence(run_dir)
        data = ev.config.get("data") or {}
        domain = data.get("name") or Path(str(data.get("path", ""))).name
        last = {s: ev.s(s).last() for s in SIGNALS}
        if ev.method in VISION_METHODS and domain in DOMAINS and all(last.values()) \
                and (ev.probe or {}).get("probe/acc") is not None:
            found.append({"domain": domain, "method": ev.method, "probe": ev.probe["probe/acc"],
                          **{s: v[1] for s, v in last.items()}, "run_dir": str(run_dir)})
    return found


VIEW_SIGNALS = ("lidar 2 views, projector", "lidar Q views, projector", "lidar Q views, backbone",
                "rankme projector", "rankme backbone")


def _checkpoint_views(run_dir: Path, views: int, images: int, strength: float | None = None):
    """(the run's method loaded from its final checkpoint, `views` augmented views of `images` held-out images).
    `strength` replaces the run's augmentation strength, so the runs of a sweep are measured on the same views."""
    import torch

    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import split_ids
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
    return task.method, task.health_views((val_ids if len(val_ids) >= 16 else task.train_ids)[:images], views)


def view_signals(run_dir: Path, views: int, images: int = 256) -> dict[str, float]:
    """A stored run's final checkpoint, measured again on `views` augmented views of `images` held-out images (the
    health batch's recipes; LiDAR's paper uses ~1000 images x ~50 views, the trainer 2 views): LiDAR on the
    projector and on the backbone, and RankMe on both."""
    import torch

    from ssl_runtime.health import eval_mode, lidar, rankme

    method, xs = _checkpoint_views(run_dir, views, images)
    with torch.no_grad(), eval_mode(method):
        zp, zb = [method.project(x) for x in xs], [method.embed(x) for x in xs]
    values = (lidar(zp[:2]), lidar(zp), lidar(zb), rankme(zp[0]), rankme(zb[0]))
    return {k: float(v) for k, v in zip(VIEW_SIGNALS, values, strict=True)}


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

    method, xs = _checkpoint_views(run_dir, views, images, strength=1.0)
    with torch.no_grad(), eval_mode(method):
        backbone, projector = [method.embed(x) for x in xs], [method.project(x) for x in xs]
    return {"view retrieval, backbone": float(retrieval(backbone)),
            "view retrieval, projector": float(retrieval(projector)),
            "view retrieval, as ranked": run_view_health(run_dir, images, views)["health/view_retrieval"]}


def retrieval_table(results: list[dict], min_runs: int = 6) -> str:
    """Kendall tau and regret of view retrieval against the probe, per domain and method, beside RankMe's."""
    rows = []
    for domain in DOMAINS:
        mine = [r for r in results if r["domain"] == domain and r["probe"] is not None
                and all(r.get(s) is not None for s in RETRIEVAL_SIGNALS)]
        for name, runs in [(m, [r for r in mine if r["method"] == m]) for m in METHODS] + [("all methods", mine)]:
            if len(runs) < min_runs:
                continue
            probe = [r["probe"] for r in runs]
            rows.append([shown(domain), name, len(runs),
                         *(kendall([r[s] for r in runs], probe) for s in (*RETRIEVAL_SIGNALS, "health/rank")),
                         *(regret(runs, s) for s in (*RETRIEVAL_SIGNALS, "health/rank"))])
    return table(["domain", "method", "runs", "tau retrieval backbone", "tau retrieval projector",
                  "tau retrieval as ranked", "tau RankMe", "regret retrieval backbone (pts)",
                  "regret retrieval projector (pts)", "regret retrieval as ranked (pts)", "regret RankMe (pts)"], rows)


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


def pooled_view_signals(folders: list[Path], views: int, out: Path) -> list[dict]:
    """view_signals for every stored vision run with a final checkpoint and a probe (appended to `out`, resumable)."""
    from ssl_runtime.run_folder import RunFolder

    done = {r["run_dir"]: r for r in map(json.loads, out.read_text().splitlines())} if out.exists() else {}
    for run in pooled_runs(folders):
        if run["run_dir"] in done or not (RunFolder(run["run_dir"]).checkpoints / "last.pt").exists():
            continue
        row = {**run, **view_signals(Path(run["run_dir"]), views)}
        done[run["run_dir"]] = row
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
    return list(done.values())


def view_signal_table(runs: list[dict], domains: tuple[str, ...], min_runs: int = 4) -> str:
    """Kendall tau of each signal against the probe within each (domain, method) and pooled per domain."""
    from ssl_runtime.catalogue import VISION_METHODS

    rows = []
    for domain in domains:
        mine = [r for r in runs if r["domain"] == domain and all(math.isfinite(r[s]) for s in VIEW_SIGNALS)]
        groups = [(m, [r for r in mine if r["method"] == m]) for m in VISION_METHODS] + [("all methods", mine)]
        for name, group in groups:
            if len(group) >= min_runs:
                probe = [r["probe"] for r in group]
                rows.append([shown(domain), name, len(group),
                             *(kendall([r[s] for r in group], probe) for s in VIEW_SIGNALS)])
    return table(["domain", "method", "runs", *(f"tau {s}" for s in VIEW_SIGNALS)], rows)


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


def checkpoint_measures(run_dir: Path, retrieval: bool = True) -> list[dict]:
    """Each kept checkpoint of a run: its step, linear probe accuracy (through `sslpilot audit`'s measure with the
    run's own preprocessing, on the run's data split), view retrieval as `sslpilot rank` measures it, and the LiDAR
    and RankMe of the health row at or before its step."""
    import torch

    from ssl_runtime.audit import measure
    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import default_image_size, eval_images, load_builtin, open_store, split_indices
    from ssl_runtime.encoders import load_encoder
    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(run_dir)
    cfg = load_run_config(folder.config)
    preprocess = json.loads((folder.encoder / "preprocess.json").read_text())
    size = preprocess["image_size"]
    if cfg.data.name:
        data = load_builtin(cfg.data, default_image_size(cfg.data))
        images, labels = data.images, data.labels
    else:
        store = open_store(cfg.data, size, run_dir=folder.path)
        images, labels = eval_images(store, torch.arange(len(store)), size), store.labels
    train_rows, val_rows = split_indices(len(images), cfg.data.val_fraction, cfg.train.seed)
    health = {r["step"]: r for r in folder.read_metrics() if isinstance(r.get("health/rank"), (int, float))}
    out = []
    for path in sorted(folder.checkpoints.glob("step_*.pt"), key=lambda p: int(p.stem.split("_")[1])):
        step = int(path.stem.split("_")[1])
        enc = load_encoder(path)
        enc.preprocess = preprocess
        scores = measure(enc, images, labels, train_rows, val_rows, torch.device("cpu"), 256, baseline=False)
        row = health.get(max((s for s in health if s <= step), default=-1), {})
        out.append({"step": step, "probe": scores["probe/acc"], "health/lidar": row.get("health/lidar"),
                    "health/rank": row.get("health/rank")})
        if retrieval:
            out[-1].update(checkpoint_retrieval(run_dir, path))
    return out


def checkpoint_retrieval(run_dir: Path, checkpoint: Path) -> dict[str, float]:
    """View retrieval of a kept checkpoint as `sslpilot rank` measures it, as the reciprocal rank (shipped) and the
    top-1 rate (session 14's form)."""
    from ssl_runtime.audit import run_view_features
    from ssl_runtime.health import matching_ranks

    feats = run_view_features(run_dir, checkpoint=checkpoint)
    scores = variant_scores(matching_ranks(feats), feats[0].shape[0])
    return {"reciprocal rank": scores["reciprocal rank"], "top-1": scores["top-1"]}


def checkpoint_probes(r: dict) -> list[tuple[int, float]]:
    """(step, linear probe accuracy) of each kept checkpoint of a run."""
    return [(m["step"], m["probe"]) for m in checkpoint_measures(Path(r["run_dir"]), retrieval=False)]


CHECKPOINT_PICKS = ("reciprocal rank", "top-1", "health/lidar", "health/rank", "last")
DECISIVE_POINTS = 3.0  # the probe's best and worst checkpoint of a judged run lie this far apart


def stored_checkpoint_runs(folders: list[Path], out: Path) -> list[dict]:
    """checkpoint_measures of every stored run with >= 3 kept checkpoints and an exported encoder, under a sweep's
    <folder>/runs or the failure suite's <folder>/home-*/runs (appended to `out`, resumable)."""
    from tools.diagnosis import load_evidence

    done = {r["run_dir"]: r for r in map(json.loads, out.read_text().splitlines())} if out.exists() else {}
    if any("reciprocal rank" not in c for r in done.values() for c in r["checkpoints"]):
        for r in done.values():  # rows measured before the reciprocal rank shipped (session 15): add both forms
            for c in r["checkpoints"]:
                if "reciprocal rank" not in c:
                    c.update(checkpoint_retrieval(Path(r["run_dir"]),
                                                  Path(r["run_dir"]) / "checkpoints" / f"step_{c['step']}.pt"))
        out.write_text("".join(json.dumps(r) + "\n" for r in done.values()))
    for folder in folders:
        for run_dir in sorted([*folder.glob("runs/*"), *folder.glob("home-*/runs/*")]):
            if str(run_dir) in done or len(list(run_dir.glob("checkpoints/step_*.pt"))) < 3 \
                    or not (run_dir / "encoder" / "preprocess.json").exists():
                continue
            ev = load_evidence(run_dir)
            data = ev.config.get("data") or {}
            row = {"run_dir": str(run_dir), "source": folder.name, "method": ev.method,
                   "domain": data.get("name") or Path(str(data.get("path", ""))).name,
                   "checkpoints": checkpoint_measures(run_dir)}
            done[row["run_dir"]] = row
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{row['source']} {row['domain']} {row['method']} {run_dir.name}: "
                  f"{[round(c['probe'], 3) for c in row['checkpoints']]}", flush=True)
    return list(done.values())


QUALITY_RATIOS = (1.1, 1.25, 1.5, 2.0, 3.0)


def stored_quality_runs(folders: list[Path], out: Path) -> list[dict]:
    """Every stored vision run with an exported encoder and a probe against its random init: the probe's gain, and
    view retrieval of the encoder and of its random init as `judge_run` measures them (appended to `out`)."""
    from ssl_runtime.catalogue import VISION_METHODS
    from tools.diagnosis import load_evidence
    from tools.ranking import view_retrieval_of

    done = {r["run_dir"]: r for r in map(json.loads, out.read_text().splitlines())} if out.exists() else {}
    for folder in folders:
        for run_dir in sorted([*folder.glob("runs/*"), *folder.glob("home-*/runs/*")]):
            if str(run_dir) in done or not (run_dir / "encoder" / "preprocess.json").exists():
                continue
            ev = load_evidence(run_dir)
            probe = ev.probe or {}
            if ev.method not in VISION_METHODS or "probe/acc" not in (probe.get("baseline") or {}):
                continue
            data = ev.config.get("data") or {}
            row = {"run_dir": str(run_dir), "source": folder.name, "method": ev.method,
                   "domain": data.get("name") or Path(str(data.get("path", ""))).name,
                   "probe_gain": probe["probe/acc"] - probe["baseline"]["probe/acc"],
                   "retrieval": view_retrieval_of(str(run_dir)),
                   "retrieval_init": view_retrieval_of(str(run_dir), random_init=True)}
            done[row["run_dir"]] = row
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
    return list(done.values())


def quality_table(runs: list[dict]) -> str:
    """For each ratio R: how often "good when view retrieval is at least R x the random init's" agrees with the
    probe's verdict (good when it beats its random init by PROBE_GAIN_WEAK), on development and held-out runs."""
    from tools.diagnosis.thresholds import PROBE_GAIN_WEAK

    groups = {"development (digits, shapes)": [r for r in runs if r["domain"] in DEV_DOMAINS],
              "held out (textures)": [r for r in runs if r["domain"] not in DEV_DOMAINS]}
    rows = []
    for name, group in groups.items():
        if not group:
            continue
        truth = [r["probe_gain"] >= PROBE_GAIN_WEAK for r in group]
        majority = max(sum(truth), len(truth) - sum(truth)) / len(truth)
        for ratio in QUALITY_RATIOS:
            said = [r["retrieval"] >= ratio * r["retrieval_init"] for r in group]
            agree = sum(a == b for a, b in zip(said, truth, strict=True)) / len(group)
            good_as_weak = sum(t and not s for s, t in zip(said, truth, strict=True))
            weak_as_good = sum(s and not t for s, t in zip(said, truth, strict=True))
            rows.append([name, len(group), f"{sum(truth)}/{len(group)}", majority, ratio, agree,
                         good_as_weak, weak_as_good])
    return table(["runs", "n", "good by the probe", "majority answer", "R", "agreement", "good called weak",
                  "weak called good"], rows)


def checkpoint_regret(checkpoints: list[dict], pick: str) -> float:
    """Probe points lost by picking the checkpoint with the highest `pick` (or the last one) instead of the best."""
    chosen = checkpoints[-1] if pick == "last" else max(checkpoints, key=lambda c: c[pick])
    return 100 * (max(c["probe"] for c in checkpoints) - chosen["probe"])


def checkpoint_table(runs: list[dict], groups: dict[str, list[str]]) -> str:
    """Per group (of each run's "group" label): decisive runs, and for each way of picking a checkpoint its mean regret and the share
    of decisive runs where it picked the probe's best."""
    rows = []
    for name, members in groups.items():
        mine = [r for r in runs if r["group"] in members
                and all(c.get(k) is not None for c in r["checkpoints"] for k in CHECKPOINT_PICKS if k != "last")]
        decisive = [r for r in mine
                    if 100 * (max(c["probe"] for c in r["checkpoints"]) - min(c["probe"] for c in r["checkpoints"]))
                    >= DECISIVE_POINTS]
        if not decisive:
            continue
        regrets = {k: [checkpoint_regret(r["checkpoints"], k) for r in decisive] for k in CHECKPOINT_PICKS}
        peaked = sum(max(r["checkpoints"], key=lambda c: c["probe"]) is not r["checkpoints"][-1] for r in decisive)
        rows.append([name, len(mine), len(decisive), peaked,
                     *(float(np.mean(regrets[k])) for k in CHECKPOINT_PICKS),
                     *(f"{sum(x == 0 for x in regrets[k])}/{len(decisive)}" for k in CHECKPOINT_PICKS)])
    names = ("retrieval (reciprocal rank)", "retrieval top-1", "LiDAR", "RankMe", "last")
    return table(["runs", "with >= 3 checkpoints", "decisive", "best before the end",
                  *(f"regret {n} (pts)" for n in names), *(f"best picked, {n}" for n in names)], rows)


def probe_forecast_table(curves: list[dict]) -> str:
    """The probe at the last kept checkpoint forecast from the first 25% and 50% of them (issue 24's goal:
    mean absolute error <= 1 point)."""
    from tools.diagnosis.forecast import forecast

    rows, errors = [], {0.25: [], 0.5: []}
    for c in curves:
        points = c["probes"]
        end_step, end = points[-1]
        for share in (0.25, 0.5):
            part = [p for p in points if p[0] <= share * end_step]
            f = forecast([s for s, _ in part], [v for _, v in part], "probe/acc", True, min_gain=0.01)
            multiple = end_step / part[-1][0] if part else float("nan")
            fit = f.at.get(multiple) if f.at else None
            if fit is None and f.params:
                a, b, cc = f.params["a"], f.params["b"], f.params["c"]
                fit = (cc - b * end_step ** -a,)
            mid = fit[0] if fit else float("nan")
            err = abs(mid - end) * 100 if math.isfinite(mid) else float("nan")
            if math.isfinite(err):
                errors[share].append(err)
            rows.append([c["domain"], c["method"], f"{share:.0%}", len(part), end, mid, err, f.verdict])
    text = table(["domain", "method", "fit on", "points", "probe at end", "forecast", "error (pts)", "verdict"],
                 rows)
    summary = "; ".join(f"from {k:.0%}: MAE {np.mean(v):.2f} pts over {len(v)} runs" for k, v in errors.items()
                        if v)
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


def text_forecast_table(curves: list[dict]) -> str:
    """Held-out perplexity at the end of each run forecast from its first 25% and 50% (issue 24's goal: within
    10%), through the product's own path (`forecast_series`: after the warm-up, fitted as the log)."""
    from tools.diagnosis.forecast import forecast_series

    rows, errors = [], {0.25: [], 0.5: []}
    for c in curves:
        points = [(r["step"], r["val/perplexity"]) for r in c["rows"] if "val/perplexity" in r and r["step"] > 0]
        end_step, end = points[-1]
        for share in (0.25, 0.5):
            part = [r for r in c["rows"] if r["step"] <= share * end_step]
            last = max(r["step"] for r in part if "val/perplexity" in r)
            multiple = end_step / last
            f = forecast_series(part, multiples=tuple(sorted({2.0, multiple})))
            mid, lo, hi = f.at.get(multiple, (float("nan"),) * 3)
            part = [p for p in points if p[0] <= last]
            err = abs(mid - end) / end * 100 if math.isfinite(mid) else float("nan")
            if math.isfinite(err):
                errors[share].append(err)
            rows.append([c["method"], c["seed"], f"{share:.0%}", len(part), part[-1][1], end, mid,
                         f"{lo:.3g}-{hi:.3g}", "yes" if lo <= end <= hi else "no", err, f.verdict])
    text = table(["method", "seed", "fit on", "points", "ppl at fit end", "ppl at end", "forecast", "80% band",
                  "in band", "error %", "verdict"], rows)
    summary = "; ".join(f"from {k:.0%}: mean error {np.mean(v):.1f}%, max {np.max(v):.1f}% over {len(v)} runs"
                        for k, v in errors.items() if v)
    return text + "\n" + summary


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/sslpilot-label-free")
    ap.add_argument("--domains", default=",".join([*DEV_DOMAINS, HELD_OUT]), help=f"of {', '.join(DOMAINS)}")
    ap.add_argument("--methods", default=",".join(METHODS))
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
        print(text_forecast_table(curves))
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
                for setting, overrides in COMMON + SPECIFIC[method]:
                    if (domain, method, setting) in done:
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
    if args.truth_halves:
        with_measure(results, out / "truth_halves.jsonl", lambda r: {
            "halves": truth_halves(Path(r["run_dir"])),
            "val_images": json.loads((Path(r["run_dir"]) / "probe.json").read_text()).get("num_val")})
        print()
        print(truth_table(results))
    if args.forecast:
        curves_file = out / "probe_curves.jsonl"
        curves = [json.loads(x) for x in curves_file.read_text().splitlines()] if curves_file.exists() else []
        have = {(c["domain"], c["method"]) for c in curves}
        for r in results:
            if r["setting"] == "long" and (r["domain"], r["method"]) not in have and r["status"] == "succeeded":
                c = {"domain": r["domain"], "method": r["method"], "probes": checkpoint_probes(r)}
                curves.append(c)
                with curves_file.open("a") as f:
                    f.write(json.dumps(c) + "\n")
        print()
        print(probe_forecast_table(curves))


if __name__ == "__main__":
    main()
