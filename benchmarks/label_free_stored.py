"""Label-free signals measured again on runs already stored (benchmarks/label_free.py's sweeps and the failure
suite's homes): LiDAR on more views, the checkpoint a signal would pick within a run, and whether view retrieval
against the random init says good or weak as the probe does. Nothing here trains; `label_free.py --pool`,
`--pool-views`, `--checkpoints` and `--quality` call it."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table  # noqa: E402
from label_free import DEV_DOMAINS, DOMAINS, SIGNALS, checkpoint_views, kendall, shown, variant_scores  # noqa: E402


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


def view_signals(run_dir: Path, views: int, images: int = 256) -> dict[str, float]:
    """A stored run's final checkpoint, measured again on `views` augmented views of `images` held-out images (the
    health batch's recipes; LiDAR's paper uses ~1000 images x ~50 views, the trainer 2 views): LiDAR on the
    projector and on the backbone, and RankMe on both."""
    import torch

    from ssl_runtime.health import eval_mode, lidar, rankme

    method, xs = checkpoint_views(run_dir, views, images)
    with torch.no_grad(), eval_mode(method):
        zp, zb = [method.project(x) for x in xs], [method.embed(x) for x in xs]
    values = (lidar(zp[:2]), lidar(zp), lidar(zb), rankme(zp[0]), rankme(zb[0]))
    return {k: float(v) for k, v in zip(VIEW_SIGNALS, values, strict=True)}


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


def checkpoint_measures(run_dir: Path, retrieval: bool = True) -> list[dict]:
    """Each kept checkpoint of a run: its step, linear probe accuracy (`sslpilot forecast --probe`'s measure,
    ssl_runtime/audit.probe_kept_checkpoints: the run's own preprocessing and data split), view retrieval as
    `sslpilot rank` measures it, and the LiDAR and RankMe of the health row at or before its step."""
    from ssl_runtime.audit import probe_kept_checkpoints
    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(run_dir)
    health = {r["step"]: r for r in folder.read_metrics() if isinstance(r.get("health/rank"), (int, float))}
    out = []
    for probed, (step, path) in zip(probe_kept_checkpoints(run_dir, device="cpu"), folder.kept_checkpoints(),
                                    strict=True):
        row = health.get(max((s for s in health if s <= step), default=-1), {})
        out.append({"step": step, "probe": probed["probe/acc"], "health/lidar": row.get("health/lidar"),
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
    from tools.ranking import view_readings_of

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
                   "retrieval": view_readings_of(str(run_dir))["health/view_retrieval"],
                   "retrieval_init": view_readings_of(str(run_dir), random_init=True)["health/view_retrieval"]}
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
