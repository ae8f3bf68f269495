"""Everything the diagnosis reads about one run, gathered from its folder (and the registry when there is one)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from ssl_runtime.run_folder import RunFolder


@dataclass
class Series:
    """One metric over steps, non-finite values kept (they are evidence too)."""

    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.values)

    @property
    def finite(self) -> list[tuple[int, float]]:
        return [(s, v) for s, v in zip(self.steps, self.values, strict=True) if math.isfinite(v)]

    def first(self) -> tuple[int, float] | None:
        f = self.finite
        return f[0] if f else None

    def last(self) -> tuple[int, float] | None:
        f = self.finite
        return f[-1] if f else None

    def peak(self) -> tuple[int, float] | None:
        f = self.finite
        return max(f, key=lambda sv: sv[1]) if f else None

    def low(self) -> tuple[int, float] | None:
        f = self.finite
        return min(f, key=lambda sv: sv[1]) if f else None


@dataclass
class RunEvidence:
    run_id: str
    folder: RunFolder
    config: dict
    status: str
    series: dict[str, Series]
    events: list[dict]
    probe: dict | None
    summary: dict | None
    embedding_dim: int | None
    health_samples: int | None
    data_stats: dict
    peak_lr: float | None

    @property
    def method(self) -> str:
        return self.config.get("method", "")

    @property
    def args(self) -> dict:
        return self.config.get("method_args", {})

    def s(self, key: str) -> Series:
        return self.series.get(key, Series())

    @property
    def rank_capacity(self) -> int | None:
        """RankMe can reach at most min(n, d) on the health batch."""
        if not self.embedding_dim:
            return None
        return min(self.embedding_dim, self.health_samples or self.embedding_dim)

    @property
    def batch_size(self) -> int:
        """The batch the run trained with (an unset train.batch_size is resolved by the trainer)."""
        configured = self.config.get("train", {}).get("batch_size")
        return int(configured or (self.summary or {}).get("batch_size") or self.resolved.get("batch_size") or 256)

    @property
    def resolved(self) -> dict:
        """What the trainer recorded when it started (device, batch, sizes): the last 'running' status event."""
        return _last_start(self.events)

    @property
    def started_with(self) -> dict:
        """The settings the run fixed at its start where its config left them to auto (`trainer.resolved_settings`:
        the backbone's name, the rate, DINO's head); empty for a run trained before they were recorded."""
        return self.resolved.get("resolved") or {}

    @property
    def default_lr(self) -> float:
        """The method's own default (its base_lr x batch/256), read from the method class, not copied here."""
        from ssl_runtime.catalogue import BY_NAME, method_class

        cls = method_class(self.method) if self.method in BY_NAME else None
        return (cls.base_lr if cls else 1e-3) * self.batch_size / 256

    @property
    def warmup_steps(self) -> float:
        """The learning-rate warm-up: as the run fixed it at its start (a warm-up in epochs made steps), else
        optim.warmup_steps, else the trainer's default of 10% of the steps."""
        from ssl_runtime.schedule import warmup_of

        configured = self.started_with.get("optim.warmup_steps", self.config.get("optim", {}).get("warmup_steps"))
        total = int(self.resolved.get("total_steps") or 0)  # unknown for a run imported without its length
        return float(warmup_of(configured, total) if total else configured or 0)

    @property
    def source(self) -> str:
        """Where the run was trained: `sslpilot`, or the format it was imported from (`tensorboard`, `mlflow`,
        `csv`, `wandb`), or `audit` for a checkpoint measured by `sslpilot audit`."""
        marks = [e for e in self.events if e.get("type") in ("import", "audit") and e.get("format")]
        return str(marks[-1]["format"]) if marks else "sslpilot"

    @property
    def ended(self) -> bool:
        return self.status in ("succeeded", "failed", "diverged", "cancelled", "interrupted")

    def _non_finite(self) -> list[dict]:
        return [e for e in self.events if e.get("kind") == "non_finite_loss" and "step" in e]

    def checked_steps(self) -> list[int]:
        """The steps at which something was measured: a loss row, a health row, a non-finite loss."""
        nan = {int(e["step"]) for e in self._non_finite()}
        return sorted(set(self.s("health/std").steps) | set(self.s("loss").steps) | nan)

    def until(self, step: int) -> RunEvidence:
        """The evidence as the live monitor saw it at `step` of a running run: metrics up to that step, its
        start and any non-finite-loss event by then, nothing of the end (status, summary, probe)."""
        series = {k: Series([s for s in v.steps if s <= step],
                            [x for s, x in zip(v.steps, v.values, strict=True) if s <= step])
                  for k, v in self.series.items()}
        start = [e for e in self.events if e.get("type") == "status" and e.get("status") == "running"][:1]
        nan = [e for e in self._non_finite() if int(e["step"]) <= step]
        return replace(self, series=series, status="running", summary=None, probe=None, events=start + nan)


def _last_start(events: list[dict]) -> dict:
    running = [e for e in events if e.get("type") == "status" and e.get("status") == "running" and "precision" in e]
    return running[-1] if running else {}


def load_evidence(run_dir: str | Path) -> RunEvidence:
    folder = RunFolder(run_dir)
    config = folder.read_config()
    series: dict[str, Series] = {}
    for row in folder.read_metrics():
        step = row.get("step")
        for k, v in row.items():
            if k in ("step", "epoch") or not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            s = series.setdefault(k, Series())
            s.steps.append(int(step or 0))
            s.values.append(float(v))
    events = folder.read_events()
    summary = json.loads(folder.summary.read_text()) if folder.summary.exists() else None
    probe = json.loads(folder.probe.read_text()) if folder.probe.exists() else None
    start = _last_start(events)
    dim = (summary or {}).get("embedding_dim") or start.get("embedding_dim")
    health_n = (summary or {}).get("health_samples") or start.get("health_samples")
    data_stats = (summary or {}).get("data") or start.get("data") or {}
    lr = (summary or {}).get("peak_lr") or config.get("optim", {}).get("lr")
    if lr is None and series.get("lr"):
        lr = max(series["lr"].values)
    return RunEvidence(folder.run_id, folder, config, folder.status() or "unknown", series, events, probe, summary,
                       dim, health_n, data_stats, lr)
