"""Successive halving across a sweep's runs: stop the weak ones early, so the strong ones get the devices.

Asynchronous successive halving (ASHA; Li et al. 2020), as Ray Tune's ASHAScheduler and W&B's `early_terminate:
hyperband` do it. A sweep's runs are judged at rungs, `prune_min_steps` x eta^k steps (k = 0, 1, ... before the run's
end). When a run first reaches a rung, its value of `monitor.prune_metric` there (the first logged at or after the
rung's step) is compared with the values the sweep's runs recorded at that rung before it: below the best 1/eta of
them (above, for a metric that improves by falling), the run is stopped; the first eta - 1 runs at a rung go on.
Each judgement is a `rung` event in the run's folder, so a restarted queue judges no run twice and a rebuilt registry
keeps them. A stop is a step rule added to the run's folder (ssl_runtime/stop_rules.py): the trainer ends at its
next logging step as succeeded, with a checkpoint, its encoder and its probe, and a `pruned` event says why.

The metric should compare across the sweep's settings: the kNN monitor (`monitor/knn_acc`, images with labels) does;
the loss does not where the sweep changes what the loss measures (a temperature, a loss weight).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ssl_runtime import stop_rules
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.stop_rules import StopRule, improving
from tools.records import Run
from tools.registry import Registry

PRUNED_BY = "successive halving"
DEFAULT_METRIC = "monitor/knn_acc"
UNJUDGED = "unjudged"  # a warning event's kind: the run does not log the metric, so it is never judged
NOT_LOGGED_WHY = {DEFAULT_METRIC: " (the kNN monitor needs images with labels, and eval.knn_monitor_images > 0)"}


@dataclass(frozen=True)
class Policy:
    """A sweep run's successive halving, from its config's monitor section."""

    metric: str
    eta: int
    min_steps: int | None

    @classmethod
    def of(cls, config: dict) -> Policy | None:
        monitor = config.get("monitor") or {}
        if not monitor.get("prune_metric"):
            return None
        return cls(str(monitor["prune_metric"]), int(monitor.get("prune_eta") or 3), monitor.get("prune_min_steps"))

    def rungs(self, total_steps: int, every: int = 1) -> list[int]:
        """The steps a run is judged at, before its end: min_steps x eta^k (min_steps: total / eta^2, and at least
        `every`, the interval the metric is logged at, so the first rung has a value of its own)."""
        first = self.min_steps or max(every, total_steps // self.eta ** 2)
        out, step = [], first
        while step < total_steps:
            out.append(step)
            step *= self.eta
        return out

    def every(self, config: dict) -> int:
        """How often the run logs the metric: at health steps for health and monitor metrics, else at log steps."""
        from ssl_runtime.config import TrainConfig

        key = "health_every" if self.metric.startswith(("health/", "monitor/")) else "log_every"
        return int((config.get("train") or {}).get(key) or TrainConfig.model_fields[key].default)

    def worse(self, value: float, cutoff: float) -> bool:
        return value > cutoff if improving(self.metric) == "falling" else value < cutoff


def cutoff(values: list[float], policy: Policy) -> float | None:
    """The value a run must reach at a rung to go on: the (1 - 1/eta) quantile of the values recorded there before
    it (the 1/eta quantile for a falling metric); None while fewer than eta runs, this one included, have reached
    the rung: the best 1/eta of fewer is no one, so the first eta - 1 at a rung go on (Ray's ASHA cuts from the
    second run on, which on a queue that runs one at a time stops half of them on one other run's value)."""
    import numpy as np

    if len(values) + 1 < policy.eta:
        return None
    q = 1 / policy.eta if improving(policy.metric) == "falling" else 1 - 1 / policy.eta
    return float(np.quantile(values, q))


def value_at(rows: list[dict], metric: str, step: int) -> float | None:
    """The metric's first finite value logged at or after `step`: what the run had when it reached the rung."""
    for r in rows:
        x = r.get(metric)
        if r.get("step", -1) >= step and isinstance(x, int | float) and math.isfinite(x):
            return float(x)
    return None


def never_logged(config: dict) -> str | None:
    """Why the sweep's runs will never log the default metric, the kNN monitor, said before the launch; None when
    they will, or when it cannot be told without training (a metric named by the user is theirs to know)."""
    from ssl_runtime.catalogue import VISION_METHODS
    from ssl_runtime.data.sources import scan
    from ssl_runtime.errors import SSLPilotError

    if (config.get("monitor") or {}).get("prune_metric") != DEFAULT_METRIC:
        return None
    if config.get("method") not in VISION_METHODS:
        return f"{config.get('method')} logs no kNN monitor: it is measured on images with labels"
    if (config.get("eval") or {}).get("knn_monitor_images") == 0:
        return "the kNN monitor is off (eval.knn_monitor_images=0)"
    path = (config.get("data") or {}).get("path")
    if not path:
        return None  # a built-in dataset: labelled
    try:
        labelled = bool(scan(path).class_names)
    except (SSLPilotError, OSError):
        return None  # the launch's own checks say what is wrong with the data
    return None if labelled else f"the images in {path} have no labels (no class folders), so no kNN monitor"


def not_logged(rows: list[dict], metric: str, by: int) -> bool:
    """The run has logged past step `by` and never the metric: it will not (unlabelled data has no kNN monitor)."""
    return any(r.get("step", -1) >= by for r in rows) and not any(metric in r for r in rows)


def recorded(folders: list[RunFolder]) -> tuple[dict[int, dict[str, float]], set[str]]:
    """Every judgement made so far in a sweep, read from its runs' events once: rung step -> {run id: its value
    there}, and the runs done with: stopped, or found not to log the metric."""
    out: dict[int, dict[str, float]] = {}
    stopped: set[str] = set()
    for folder in folders:
        for e in folder.read_events():
            if e.get("type") == "rung":
                out.setdefault(int(e["rung"]), {})[folder.run_id] = float(e["value"])
            elif e.get("type") == "pruned" or e.get("kind") == UNJUDGED:
                stopped.add(folder.run_id)
    return out, stopped


def prune_sweeps(registry: Registry) -> list[str]:
    """Judge every running sweep run that has reached a rung it was not judged at; stop those below the cut. Returns
    the ids stopped. Called by the queue's dispatcher once per tick."""
    running = []  # (run, its config, its policy): each config parsed once a tick
    for r in registry.list(status="running", limit=100_000):
        config = json.loads(r.config_json) if r.experiment_id is not None else {}
        policy = Policy.of(config)
        if policy is not None and r.total_steps:
            running.append((r, config, policy))
    if not running:
        return []
    names = registry.experiment_names()
    stopped = []
    for experiment_id in {r.experiment_id for r, *_ in running}:
        folders = {r.id: RunFolder(r.run_dir) for r in registry.list(experiment=names[experiment_id], limit=100_000)}
        seen, done = recorded(list(folders.values()))
        judged = sorted((x for x in running if x[0].experiment_id == experiment_id and x[0].id not in done),
                        key=lambda x: x[0].created_at)  # reached between two ticks: oldest first (arrival unknown)
        for run, config, policy in judged:
            if judge(run, folders[run.id], policy, policy.every(config), seen):
                stopped.append(run.id)
    return stopped


def judge(run: Run, folder: RunFolder, policy: Policy, every: int, seen: dict[int, dict[str, float]]) -> bool:
    """Judge `run` at the first rung it has reached and not been judged at (one a tick, as ASHA does); record the
    judgement in `seen` and the run's folder; True when it is stopped. `every`: how often it logs the metric."""
    if all(run.id in seen.get(rung, {}) for rung in policy.rungs(run.total_steps, every)):
        return False  # judged at every rung: its metrics need not be read again
    rows = folder.read_metrics()
    for rung in policy.rungs(run.total_steps, every):
        at = seen.setdefault(rung, {})
        if run.id in at:
            continue
        value = value_at(rows, policy.metric, rung)
        if value is None:
            if not_logged(rows, policy.metric, rung + every):
                folder.event("warning", f"successive halving cannot judge this run: it has logged no {policy.metric} "
                             f"by step {rung + every}{NOT_LOGGED_WHY.get(policy.metric, '')}; name a metric it logs "
                             "(monitor.prune_metric, or 'prune by the loss' where the sweep leaves what the loss "
                             "measures unchanged)", kind=UNJUDGED, metric=policy.metric)
            return False  # not there yet, or the metric is not logged: nothing to judge on
        others = [v for rid, v in at.items() if rid != run.id]
        cut = cutoff(others, policy)
        at[run.id] = value
        keep = cut is None or not policy.worse(value, cut)
        said = (f"cut {cut:.4g} of the {len(others)} runs before it" if cut is not None else
                f"run {len(others) + 1} here: no cut before {policy.eta}")
        folder.event("rung", f"{policy.metric} {value:.4g} at rung {rung} ({said}): {'goes on' if keep else 'pruned'}",
                     rung=rung, value=value, cutoff=cut, kept=keep, metric=policy.metric)
        if keep:
            return False
        step = max(r.get("step", 0) for r in rows)
        stop_rules.add(folder, StopRule("step", ">=", float(step)), by=PRUNED_BY)
        folder.event("pruned", f"stopped by {PRUNED_BY}: {policy.metric} {value:.4g} at step {rung} is outside the best "
                     f"1/{policy.eta} of the sweep's runs there (cut {cut:.4g})", rung=rung, value=value, cutoff=cut)
        return True
    return False
