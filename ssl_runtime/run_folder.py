"""The run folder: the source of truth for one run. Layout in docs/architecture.md and docs/operations.md."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import yaml

from ssl_runtime.schedule import Schedule, warmup_of

KNN_ACC = "monitor/knn_acc"  # the kNN monitor's key (knn_monitor.py), read by tools without loading torch
STATUSES = ("queued", "running", "succeeded", "failed", "diverged", "cancelled", "interrupted")


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_json_default))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """A JSON file's value; None when it is missing or unreadable (a derived file is then made again)."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line; a torn last line (a killed writer) is ignored."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    # paths
    config = property(lambda self: self.path / "config.yaml")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    events = property(lambda self: self.path / "events.jsonl")
    stdout = property(lambda self: self.path / "stdout.log")
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.path / "checkpoints" / "last.pt")
    checkpoint_preprocess = property(lambda self: self.path / "checkpoints" / "preprocess.json")  # how to read them
    encoder = property(lambda self: self.path / "encoder")
    probe = property(lambda self: self.path / "probe.json")

    def label_probe(self, fraction: float) -> Path:
        """A probe on a share of the labels (eval.label_fraction < 1): kept beside probe.json, never in its place,
        so the run's own probe (all labels) stays its headline."""
        return self.path / f"probe_labels_{fraction * 100:g}pct.json"
    summary = property(lambda self: self.path / "summary.json")
    view_health = property(lambda self: self.path / "view_health.json")  # label-free measurements, by file stamp
    stop_rules = property(lambda self: self.path / "stop_rules.json")  # ssl_runtime/stop_rules.py: added while running
    checkpoint_probes = property(lambda self: self.path / "checkpoint_probes.jsonl")  # audit.probe_kept_checkpoints

    def kept_checkpoints(self) -> list[tuple[int, Path]]:
        """(step, path) of each kept step_<n>.pt, oldest first."""
        kept = [(int(p.stem.split("_")[1]), p) for p in self.checkpoints.glob("step_*.pt")]
        return sorted(kept)

    def has_checkpoint(self) -> bool:
        """Whether a resume has something to start from: last.pt, or a kept step_<n>.pt where last.pt is gone."""
        return self.last_checkpoint.exists() or bool(self.kept_checkpoints())

    @property
    def run_id(self) -> str:
        return self.path.name

    def create(self) -> RunFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(exist_ok=True)
        return self

    def append(self, path: Path, row: dict) -> None:
        """One line, whole or not at all: a full disk can take part of a line, which is cut off again, so that a
        retry's line is not glued to a torn one (read_jsonl would drop both)."""
        line = (json.dumps(row, default=_json_default) + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(line):
                    written += os.write(fd, line[written:])
            except OSError:
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)

    def log_metrics(self, row: dict) -> None:
        self.append(self.metrics, row)

    def event(self, type_: str, message: str, **data: Any) -> None:
        self.append(self.events, {"time": time.time(), "type": type_, "message": message, **data})

    def set_status(self, status: str, message: str = "", **data: Any) -> None:
        assert status in STATUSES, status
        self.event("status", message or status, status=status, **data)

    def cancel_requested_since(self, since: float) -> bool:
        """Whether a cancel was asked for after `since` (epoch seconds): `tools/runs.cancel` writes its event before
        it sends SIGTERM, so a worker stopping on that signal can end `cancelled` rather than `interrupted`."""
        return any(e.get("type") == "cancel" and e.get("time", 0) >= since for e in self.read_events())

    def read_metrics(self) -> list[dict]:
        return read_jsonl(self.metrics)

    def read_events(self) -> list[dict]:
        return read_jsonl(self.events)

    def read_config(self) -> dict:
        """The config tree as saved (config.yaml), {} when the folder has none."""
        return (yaml.safe_load(self.config.read_text()) or {}) if self.config.exists() else {}

    def planned_schedule(self) -> Schedule | None:
        """The learning-rate schedule the run planned (its steps from the status it started with, warm-up and shape
        from its config); None before it started."""
        start = next((e for e in reversed(self.read_events())
                      if e.get("type") == "status" and isinstance(e.get("total_steps"), int)), None)
        if not start or not start["total_steps"]:
            return None
        total = start["total_steps"]
        optim = self.read_config().get("optim") or {}
        warmup = (start.get("resolved") or {}).get("optim.warmup_steps", optim.get("warmup_steps"))  # epochs: steps
        return Schedule(total, warmup_of(warmup, total), optim.get("schedule") or "cosine")

    def status(self) -> str | None:
        """The latest status event (summary.json wins once the run has ended)."""
        if self.summary.exists():
            try:
                return json.loads(self.summary.read_text())["status"]
            except (json.JSONDecodeError, KeyError):
                pass
        return self.last_status()

    def last_status(self) -> str | None:
        """The latest status event: what the run said last, whatever an earlier spell's summary.json says."""
        statuses = [e["status"] for e in self.read_events() if e.get("type") == "status"]
        return statuses[-1] if statuses else None

    def truncate_metrics(self, after_step: int) -> int:
        """Drop rows logged after `after_step` (a resume replays them); returns how many were dropped."""
        rows = self.read_metrics()
        keep = [r for r in rows if r.get("step", 0) <= after_step]
        tmp = self.metrics.with_name("metrics.jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, default=_json_default) + "\n" for r in keep))
        os.replace(tmp, self.metrics)
        return len(rows) - len(keep)

    def write_summary(self, summary: dict) -> None:
        write_json_atomic(self.summary, summary)
