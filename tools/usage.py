"""Device time used: GPU-hours, and CPU-hours for runs on a CPU slot, per user, method, dataset, status or run over a
period ("how much GPU time have I used this week?", `sslpilot usage --by user`).

What W&B's and MLflow's system views sum per run, summed over a home. Each run's time is read from its own folder:
every spell it spent `running` (a resumed run's earlier spells included, the current one up to now), clipped to the
period, times the devices that spell held: the trainer's world size on CUDA, else the GPUs the queue assigned.
Imported and audited runs trained elsewhere and count nothing. The registry's `started_at` is not used: a resume
resets it, so it would forget the spells before.
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home, bytes_on_disk
from tools.records import Run
from tools.registry import Registry
from tools.spells import Spell, spells_of

GROUPS = ("user", "method", "dataset", "status", "run")
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.I)
NAMED_PERIODS = ("today", "yesterday", "this week", "last week", "this month", "last month")


def running_spells(folder: RunFolder, until: float | None = None) -> list[Spell]:
    """Each stretch from a `running` status event to the next status that is not `running` (or to `until`, now),
    with the devices it held."""
    return spells_of(folder.read_events(), time.time() if until is None else until)


def period_bounds(period: str | None, now: float | None = None) -> tuple[float | None, float, str]:
    """(start, end, words) for today | yesterday | this week | last week | this month | last month | Nh, Nd, Nw |
    an ISO date (since then); None: all time. Days start at local midnight, weeks on Monday."""
    now = time.time() if now is None else now
    if not period:
        return None, now, "in all"
    text = period.strip().lower()
    at = datetime.fromtimestamp(now)
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - timedelta(days=midnight.weekday())
    first = midnight.replace(day=1)
    named = {"today": (midnight, at), "yesterday": (midnight - timedelta(days=1), midnight),
             "this week": (monday, at), "last week": (monday - timedelta(days=7), monday),
             "this month": (first, at), "last month": ((first - timedelta(days=1)).replace(day=1), first)}
    if text in named:
        start, end = named[text]
        return start.timestamp(), end.timestamp(), text
    m = _RELATIVE.match(text)
    if m:
        n, unit = float(m.group(1)), m.group(2)
        span = timedelta(hours=n) if unit == "h" else timedelta(days=n * (7 if unit == "w" else 1))
        words = {"h": "hour", "d": "day", "w": "week"}[unit]
        return (at - span).timestamp(), now, f"in the last {n:g} {words}{'s' if n != 1 else ''}"
    try:
        since = datetime.fromisoformat(text)
    except ValueError:
        raise SSLPilotError(f"period {period!r} is not one sslpilot reads", field="period",
                            fix=f"one of {', '.join(NAMED_PERIODS)}, a span like 24h, 7d or 2w, or a date like "
                                "2026-11-20") from None
    return since.timestamp(), now, f"since {since:%Y-%m-%d %H:%M}".removesuffix(" 00:00")


def usage(home: Home, period: str | None = None, by: str = "method", user: str | None = None,
          method: str | None = None) -> dict:
    """GPU- and CPU-hours per group over the period, the largest first, with the total and the runs that count."""
    if by not in GROUPS:
        raise SSLPilotError(f"by={by!r}", field="by", fix=f"one of {', '.join(GROUPS)}")
    start, end, words = period_bounds(period)
    rows: dict[str, dict] = {}
    for run in Registry(home).list(method=method, owner=user, limit=100_000):
        if run.source not in (None, "sslpilot"):  # imported or audited: trained elsewhere
            continue
        gpu_h = cpu_h = 0.0
        for s in running_spells(RunFolder(run.run_dir), until=end):
            hours = max(0.0, min(s.end, end) - max(s.start, start or s.start)) / 3600
            gpu_h += s.gpus * hours
            cpu_h += hours if s.gpus == 0 else 0.0
        if gpu_h == 0 and cpu_h == 0:
            continue
        key = _group(run, by)
        row = rows.setdefault(key, {by: key, "runs": 0, "gpu_hours": 0.0, "cpu_hours": 0.0, "running": 0})
        row["runs"] += 1
        row["gpu_hours"] += gpu_h
        row["cpu_hours"] += cpu_h
        row["running"] += run.status == "running"
    ordered = sorted(rows.values(), key=lambda r: (-r["gpu_hours"], -r["cpu_hours"], str(r[by])))
    total = {k: sum(r[k] for r in ordered) for k in ("runs", "gpu_hours", "cpu_hours", "running")}
    return {"period": words, "by": by, "user": user, "method": method, "rows": ordered, "total": total}


def disk_usage(home: Home, by: str = "method", user: str | None = None, method: str | None = None) -> dict:
    """Bytes on disk now per group (each run's folder: checkpoints, encoder, logs), the largest first, with the
    trash, the dataset caches (the 20 largest named) and the space still free beside: where the space went when a
    disk fills ("how much disk do my runs use?", "which datasets are cached?")."""
    from tools.datasets import list_caches
    from tools.datasets import root as cache_root
    from tools.trash import trash_dir

    if by not in GROUPS:
        raise SSLPilotError(f"by={by!r}", field="by", fix=f"one of {', '.join(GROUPS)}")
    rows: dict[str, dict] = {}
    for run in Registry(home).list(method=method, owner=user, limit=100_000):
        key = _group(run, by)
        row = rows.setdefault(key, {by: key, "runs": 0, "bytes": 0})
        row["runs"] += 1
        row["bytes"] += bytes_on_disk(Path(run.run_dir))
    ordered = sorted(rows.values(), key=lambda r: (-r["bytes"], str(r[by])))
    return {"measure": "disk", "by": by, "user": user, "method": method, "rows": ordered,
            "total": {"runs": sum(r["runs"] for r in ordered), "bytes": sum(r["bytes"] for r in ordered)},
            "trash_bytes": bytes_on_disk(trash_dir(home)), "datasets_bytes": bytes_on_disk(cache_root(home)),
            "datasets": [{k: c[k] for k in ("name", "source", "images", "bytes")}
                         for c in sorted(list_caches(home), key=lambda c: -c["bytes"])[:20]],
            "free_bytes": shutil.disk_usage(home.root).free}


def _group(run: Run, by: str) -> str:
    return {"user": run.owner or "(no owner)", "method": run.method, "dataset": run.dataset or "?",
            "status": run.status, "run": run.id}[by]
