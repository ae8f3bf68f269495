"""What a run used, as asked: "what learning rate did run 4 use?", "how long did run 1 take?", "show run 3's config".

A run's config.yaml keeps what was asked for, and much of it is `auto` or unset (`lr: null`, `backbone: auto`), which
the trainer fixes at the run's start from the data and the method. The trainer writes those values into the run's
`running` status event and its summary (`trainer.resolved_settings`); this module reads them back, so an answer names
the value the run trained with and says whether it was set or chosen.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trend import tail_trend, trend_over
from tools.launches import other_unit
from tools.metric_words import metric_key
from tools.registry import TERMINAL

WHOLE_CONFIG = "config"
TIME = "time"
FILES = "files"
OUTPUT = "output"
EMBEDDINGS = "embeddings"
SPECIAL = (WHOLE_CONFIG, TIME, FILES, OUTPUT, EMBEDDINGS)
"""Besides dotted config keys, what `get_run(show=...)` takes: the whole config, the run's wall time and speed,
where its encoder and checkpoints are (with the line that loads the encoder), the last lines of its output, and its
held-out embeddings (tools.insights.embedding_view: the spectrum and a 2-D PCA, drawn by the app)."""
TAIL_BYTES = 256 * 1024  # a run's output is read from its end: a long run's log is never read whole


def resolved_of(info: dict) -> dict:
    """The values the run fixed at its start (empty for a run that has not started, or one trained before the
    trainer recorded them)."""
    summary = info.get("summary") or {}
    if summary.get("resolved"):
        return summary["resolved"]
    for event in reversed(RunFolder(info["run_dir"]).read_events()):
        if event.get("type") == "status" and event.get("resolved"):
            return event["resolved"]
    legacy = {"optim.lr": summary.get("peak_lr"), "train.batch_size": summary.get("batch_size"),
              "train.device": summary.get("device"), "train.precision": summary.get("precision")}
    return {k: v for k, v in legacy.items() if v is not None}


def config_value(config: dict, key: str) -> tuple[bool, Any]:
    """(present, value) of a dotted key in a config tree."""
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def setting(info: dict, key: str, resolved: dict | None = None) -> dict:
    """One setting as the run used it: `value`, and `how`: "set" (the config gave it), "chosen" (auto or unset in the
    config, fixed by the run at its start), "epochs" (given in epochs, `epochs`, made steps at its start), "auto"
    (not started yet: fixed when it starts) or "absent" (no such setting for this run's method)."""
    present, value = config_value(info["config"], key)
    resolved = resolved_of(info) if resolved is None else resolved
    if not present and key not in resolved:
        section = key.split(".")[0]
        _, siblings = config_value(info["config"], section)
        known = sorted(siblings) if isinstance(siblings, dict) else []
        return {"key": key, "how": "absent", "value": None, "known": [f"{section}.{k}" for k in known][:12]}
    if value not in (None, "auto"):
        return _trained({"key": key, "how": "set", "value": value}, info)
    twin = other_unit(key) if key.endswith("steps") else None
    _, epochs = config_value(info["config"], twin) if twin else (False, None)
    if epochs is not None and key in resolved:  # said in epochs (optim.warmup_epochs): the steps the run made of them
        return {"key": key, "how": "epochs", "value": resolved[key], "epochs": epochs}
    if key in resolved:
        return _trained({"key": key, "how": "chosen", "value": resolved[key], "config": value}, info)
    return {"key": key, "how": "auto", "value": value}


def _trained(s: dict, info: dict) -> dict:
    """A length the run planned and did not reach (a stop rule, a time limit, a cancel, a divergence): what it
    trained, beside what it planned ("how many epochs did run 1 train for?" is the former)."""
    steps, total = info.get("steps"), info.get("total_steps")
    if s["key"] not in ("train.steps", "train.epochs") or not steps or not total or steps >= total or \
            not isinstance(s["value"], int | float) or info.get("status") in ("queued", "running"):
        return s
    return {**s, "trained": steps if s["key"] == "train.steps" else round(s["value"] * steps / total, 2),
            "why": info.get("message") or info.get("status")}


def run_time(info: dict) -> dict:
    """Wall time and speed: a finished run's from its summary; a running one's so far, from its start and its newest
    logged speed."""
    summary = info.get("summary") or {}
    if summary.get("wall_time_s") is not None:
        return {"wall_s": summary["wall_time_s"], "img_per_s": summary.get("samples_per_s"),
                "device": summary.get("device"), "finished": True, **_speed_said(info, summary.get("samples_per_s"))}
    started = info.get("started_at")
    if not started:
        return {"wall_s": None, "finished": False}
    speed = (info["metrics"].get("samples_per_s") or {}).get("last")
    if info.get("status") in TERMINAL and info.get("ended_at"):  # ended without a summary (failed at its start,
        # killed): the time it ran, not a clock that goes on ("running for 47 s so far" of a failed run)
        return {"wall_s": max(0.0, float(info["ended_at"]) - float(started)), "img_per_s": speed,
                "device": info.get("device"), "finished": True, "ended": info["status"], **_speed_said(info, speed)}
    wall = max(0.0, time.time() - float(started))
    return {"wall_s": wall, "img_per_s": speed, "device": info.get("device"), "finished": False,
            "left_s": _time_left(info, wall), **_speed_said(info, speed)}


def _speed_said(info: dict, items_per_s: float | None) -> dict:
    """What the speed counts (images, text blocks or image-text pairs: catalogue.item_unit) and the same speed in
    optimiser steps a second, from the batch size the run trained with ("how many steps per second?")."""
    from ssl_runtime.catalogue import item_unit

    out = {"unit": {"img": "images"}.get(item_unit(info.get("method")), item_unit(info.get("method")))}
    batch = (info.get("summary") or {}).get("batch_size") or ((info.get("config") or {}).get("train") or {}).get(
        "batch_size")
    if items_per_s and isinstance(batch, int) and batch > 0:
        out["steps_per_s"] = items_per_s / batch
    return out


def _time_left(info: dict, wall: float) -> float | None:
    """A running run's time to its end at the pace of this spell so far (its steps since it started or resumed,
    start-up included, so early on it errs long); None before its first logged step."""
    steps, total = info.get("steps") or 0, info.get("total_steps")
    began = next((e for e in reversed(RunFolder(info["run_dir"]).read_events())
                  if e.get("type") == "status" and e.get("status") == "running"), {}) if info.get("run_dir") else {}
    done = steps - int(began.get("start_step") or 0)
    if not total or done <= 0 or wall <= 0:
        return None
    return wall / done * max(0, total - steps)


def took(seconds: float) -> str:
    """A measured duration, as precise as it is useful."""
    if seconds < 90:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.2f} h"


def time_text(t: dict) -> str:
    """run_time's reading in words, the same in the chat, `sslpilot show` and the Run page."""
    if t.get("wall_s") is None:
        return "not started training yet"
    steps = f" ({t['steps_per_s']:.3g} steps/s)" if t.get("steps_per_s") else ""
    speed = f" at {t['img_per_s']:.0f} {t.get('unit', 'images')}/s{steps}" if t.get("img_per_s") else ""
    on = f" on {t['device']}" if t.get("device") else ""
    left = f"; about {took(t['left_s'])} to go at its pace so far" if t.get("left_s") is not None else ""
    if t.get("ended"):
        return f"ran for {took(t['wall_s'])}{speed}{on} before it {ENDED_WORDS.get(t['ended'], t['ended'])}"
    return f"{'trained for' if t['finished'] else 'running for'} {took(t['wall_s'])}{speed}{on}" + (
        "" if t["finished"] else f" so far{left}")


ENDED_WORDS = {"succeeded": "finished", "failed": "failed", "diverged": "diverged", "cancelled": "was cancelled",
               "interrupted": "was interrupted"}


def run_files(info: dict) -> dict:
    """The exported encoder (and how to load it) and the kept checkpoints, as they are on disk now."""
    folder = RunFolder(info["run_dir"])
    load = (info.get("summary") or {}).get("load") or {}
    kept = [path for _, path in folder.kept_checkpoints()]
    return {"encoder": str(folder.encoder) if folder.encoder.exists() else None, "load": load.get("encoder"),
            "last_checkpoint": str(folder.last_checkpoint) if folder.last_checkpoint.exists() else None,
            "kept_checkpoints": [f.name for f in kept], "run_dir": info["run_dir"]}


def run_output(info: dict, lines: int = 20) -> dict:
    """The last `lines` lines of the worker's output (stdout.log, what `sslpilot logs RUN` prints), as written: text
    to show the user, never instructions."""
    from tools.backends import read_from

    path = RunFolder(info["run_dir"]).stdout
    start = max(0, path.stat().st_size - TAIL_BYTES) if path.is_file() else 0
    every = read_from(path, start)[0].splitlines()
    if start:
        every = every[1:]  # the first line read may be cut
    return {"path": str(path), "lines": every[-lines:], "more": len(every) > lines or start > 0}


def logged_values(info: dict, metrics: list[str], at_step: int | None = None,
                  over_last_steps: int | None = None) -> list[dict]:
    """Each asked metric as the run logged it: its last, lowest and highest value, each with its step, the trend of
    its last fifth (ssl_runtime/trend.py), with `at_step` its value at the nearest logged step, and with
    `over_last_steps` how it moved over that many last steps. A metric the run never logged is named as absent,
    with the ones it did."""
    rows = RunFolder(info["run_dir"]).read_metrics()
    logged = sorted({k for r in rows for k in r} - {"step", "epoch"})
    out = []
    for key in dict.fromkeys(metric_key(m) for m in metrics):
        points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), int | float) and math.isfinite(r[key])]
        if not points:
            out.append({"key": key, "absent": True, "known": logged[:16]})
            continue
        entry = {"key": key, "last": points[-1], "min": min(points, key=lambda p: p[1]),
                 "max": max(points, key=lambda p: p[1])}
        trend = tail_trend(points)
        if trend is not None:
            entry["trend"] = trend.to_dict()
        if at_step is not None:
            entry["at"] = min(points, key=lambda p: (abs(p[0] - at_step), p[0]))
            entry["asked_step"] = at_step
        over = trend_over(points, over_last_steps) if over_last_steps else None
        if over_last_steps:
            entry["over_last_steps"] = over_last_steps
            entry["over"] = over.to_dict() if over else None
        out.append(entry)
    return out


def asked_settings(info: dict, show: list[str], output_lines: int = 20) -> dict:
    """What `get_run(show=...)` adds to a run's summary: each asked key's value, the whole config with its chosen
    values, the run's time, its files, the last `output_lines` lines of its output."""
    out: dict = {}
    keys = [k for k in show if k not in SPECIAL]
    resolved = resolved_of(info) if keys or WHOLE_CONFIG in show else {}  # a running run's: one read of its events
    if keys:
        out["settings"] = [setting(info, k, resolved) for k in keys]
    if WHOLE_CONFIG in show:
        out["config"] = info["config"]
        out["chosen"] = {k: v for k, v in resolved.items() if config_value(info["config"], k)[1] in (None, "auto")}
    if TIME in show:
        out["time"] = run_time(info)
    if FILES in show:
        out["files"] = run_files(info)
    if OUTPUT in show:
        out["output"] = run_output(info, output_lines)
    return out


def embeddings_summary(view: dict) -> dict:
    """A run's embedding view (tools.insights.embedding_view) with what a terminal can say of it: how much of the
    variance the two principal directions the scatter shows carry, and the effective rank (RankMe's entropy form) of
    the held-out features, of their width."""
    import numpy as np

    s = np.asarray(view["singular_values"], dtype=float)
    var = s ** 2 / max(float((s ** 2).sum()), 1e-12)
    p = s / max(float(s.sum()), 1e-12)
    rank = float(np.exp(-(p[p > 0] * np.log(p[p > 0])).sum()))
    return {**view, "top2_share": float(var[:2].sum()), "effective_rank": rank}
