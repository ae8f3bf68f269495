"""Stop rules: end a run early when a logged value crosses a bar, at a step or epoch, or after some minutes.

What Ray Tune's `stop={"loss": ...}` and Lightning's `EarlyStopping(stopping_threshold=...)` give, for a run that is
already training. Rules come from the config (`monitor.stop_when: ["loss<0.5", "minutes>=30"]`) or are added to a
running run's folder (`stop_rules.json`, by `sslpilot stop-when` or the chat). The trainer reads them at its
logging steps, so a rule costs no device sync; a step or epoch rule makes its step a logging step, so the run stops
there exactly. A met rule ends the run as `succeeded`, with a checkpoint, its encoder and its probe, and a
`stop_rule` event that says which rule and the value that met it. A stop on a failure verdict ("once it collapses")
is the queue monitor's (`on_failure`), kept in the same file.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path

from ssl_runtime.errors import ConfigError
from ssl_runtime.run_folder import RunFolder, read_json, write_json_atomic

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
CLOCK = ("step", "epoch", "minutes")
"""Measured by the trainer itself rather than logged: the step, epochs done (fractional) and minutes trained
(a resumed run's earlier time included)."""
_RULE = re.compile(r"^\s*([A-Za-z_][\w/@.-]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class StopRule:
    metric: str  # a key the run logs ("loss", "health/rank") or one of CLOCK
    op: str  # one of OPS
    value: float

    @classmethod
    def parse(cls, text: str, field: str = "monitor.stop_when") -> StopRule:
        m = _RULE.match(str(text))
        if not m:
            raise ConfigError(f"stop rule {text!r} is not METRIC OP VALUE", field=field,
                              fix="write it like 'loss<0.5', 'health/rank<=4', 'step>=500' or 'minutes>=30'")
        metric, op, value = m.group(1), m.group(2), float(m.group(3))
        if not math.isfinite(value):
            raise ConfigError(f"stop rule {text!r} has no finite value", field=field)
        return cls(metric, op, value)

    def met(self, x: float) -> bool:
        return isinstance(x, int | float) and math.isfinite(x) and OPS[self.op](x, self.value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def stop_step(self, steps_per_epoch: int) -> int | None:
        """The first step at which a step or epoch rule is met; None for the other rules."""
        if self.op not in (">", ">=") or self.metric not in ("step", "epoch"):
            return None
        bar = self.value * (steps_per_epoch if self.metric == "epoch" else 1)
        first = math.floor(bar) + 1 if self.op == ">" else math.ceil(bar)
        return max(1, int(first))


@dataclass
class Added:
    """What was added to a run's folder while it was queued or running."""

    rules: list[StopRule]
    on_failure: bool  # stop it when the monitor's verdict is a hard failure (collapse, divergence)


def read_added(folder: RunFolder) -> Added:
    data = read_json(folder.stop_rules) or {}
    rules = []
    for r in data.get("rules", []):
        try:
            rules.append(StopRule.parse(r["rule"]))
        except (ConfigError, KeyError, TypeError):
            continue  # a hand-edited line that does not parse is skipped, not fatal to a training run
    return Added(rules, bool(data.get("on_failure")))


def add(folder: RunFolder, rule: StopRule | None = None, on_failure: bool = False, by: str = "") -> Added:
    """Add a rule (or the stop on a failure verdict) to a run's folder, keeping what is there; an event records it."""
    data = read_json(folder.stop_rules) or {}
    rules = list(data.get("rules", []))
    if rule is not None and all(r.get("rule") != str(rule) for r in rules):
        rules.append({"rule": str(rule), "by": by})
    data = {"rules": rules, "on_failure": bool(data.get("on_failure")) or on_failure}
    write_json_atomic(folder.stop_rules, data)
    what = f"stop when {rule}" if rule is not None else "stop on a collapse or divergence"
    folder.event("stop_rule_added", f"{what} (added by {by or 'someone'})", rule=str(rule) if rule else None,
                 on_failure=on_failure, user=by)
    return read_added(folder)


class StopRules:
    """The rules a training run obeys: its config's and those added to its folder since (re-read when the file
    changes, at logging steps only)."""

    def __init__(self, folder: RunFolder, from_config: list[str], steps_per_epoch: int):
        self.folder = folder
        self.config_rules = [StopRule.parse(r) for r in from_config]
        self.steps_per_epoch = steps_per_epoch
        self._stamp: float | None = None
        self.rules = list(self.config_rules)
        self.refresh()

    def refresh(self) -> None:
        path: Path = self.folder.stop_rules
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if stamp == self._stamp:
            return
        self._stamp = stamp
        self.rules = self.config_rules + [r for r in read_added(self.folder).rules if r not in self.config_rules]

    @property
    def stop_step(self) -> int | None:
        steps = [s for r in self.rules if (s := r.stop_step(self.steps_per_epoch)) is not None]
        return min(steps) if steps else None

    def first_met(self, row: dict, clock: dict) -> tuple[StopRule, float] | None:
        """The first rule this logging step meets, with the value that met it."""
        values = {**row, **clock}
        for rule in self.rules:
            if rule.metric in values and rule.met(values[rule.metric]):
                return rule, float(values[rule.metric])
        return None


def describe(rule: StopRule, value: float) -> str:
    """'loss 0.48 < 0.5' in words a run's message can carry."""
    return f"{rule.metric} {value:.4g} {rule.op} {rule.value:g}"
