"""Stop rules: end a run early when a logged value crosses a bar, at a step or epoch, after some minutes, or when a
logged value has stopped improving.

What Ray Tune's `stop={"loss": ...}` and Lightning's `EarlyStopping(stopping_threshold=..., patience=...)` give, for
a run that is already training. Rules come from the config (`monitor.stop_when: ["loss<0.5", "minutes>=30",
"loss stops falling for 500 steps"]`) or are added to a running run's folder (`stop_rules.json`, by
`sslpilot stop-when` or the chat). The trainer reads them at its logging steps, so a rule costs no device sync;
a step or epoch rule makes its step a logging step, so the run stops there exactly. A met rule ends the run as `succeeded`, with a checkpoint, its encoder and its probe, and a
`stop_rule` event that says which rule and the value that met it. A stop on a failure verdict ("once it collapses")
is the queue monitor's (`on_failure`), kept in the same file.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

from ssl_runtime.errors import ConfigError
from ssl_runtime.run_folder import RunFolder, read_json, write_json_atomic
from ssl_runtime.trend import REL

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
CLOCK = ("step", "epoch", "minutes")
"""Measured by the trainer itself rather than logged: the step, epochs done (fractional) and minutes trained
(a resumed run's earlier time included)."""
_RULE = re.compile(r"^\s*([A-Za-z_][\w/@.-]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_PLATEAU = re.compile(r"^\s*([A-Za-z_][\w/@.-]*)\s+stops\s+(falling|rising|improving)"
                      r"(?:\s+for\s+(\d+(?:\.\d+)?)\s+(steps?|epochs?))?\s*$", re.I)
FORMS = "'loss<0.5', 'health/rank<=4', 'step>=500', 'minutes>=30' or 'loss stops falling for 500 steps'"
LOWER_IS_BETTER = ("loss", "val/perplexity")
"""Metrics (and the loss's terms, loss/...) that improve by falling: 'stops improving' on them is 'stops falling',
on any other metric 'stops rising'."""
WAIT_PARTS, WAIT_POINTS = 10, 5
"""A plateau's wait when none is given: a tenth of the run, and at least five of the metric's logging intervals
(Lightning's EarlyStopping waits 3 checks; a loss logged every few steps needs more to tell a level from noise)."""


def improving(metric: str) -> str:
    """The direction in which `metric` gets better: falling for the loss, its terms and perplexity, else rising."""
    return "falling" if metric.startswith(LOWER_IS_BETTER) else "rising"


def default_wait(metric: str, total_steps: int | None, log_every: int, health_every: int) -> int:
    every = health_every if metric.startswith("health/") else log_every
    return max(WAIT_POINTS * max(1, every), (total_steps or 0) // WAIT_PARTS)


@dataclass(frozen=True)
class StopRule:
    metric: str  # a key the run logs ("loss", "health/rank") or one of CLOCK
    op: str  # one of OPS
    value: float

    @classmethod
    def parse(cls, text: str, field: str = "monitor.stop_when") -> StopRule:
        rule = parse(text, field)
        if not isinstance(rule, StopRule):
            raise ConfigError(f"stop rule {text!r} is not METRIC OP VALUE", field=field, fix="write it like 'loss<0.5'")
        return rule

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


@dataclass(frozen=True)
class Plateau:
    """Stop when a logged value has made no new best for `steps` steps: Lightning's EarlyStopping with its patience
    in steps and its min_delta relative. A new best must beat the old one by more than 1% of it (the bar the trend
    reading calls flat, ssl_runtime/trend.py), so noise around a level does not keep the run going. The count
    starts at the first value the rule sees: a rule added at step 1000 stops at step 1000 + `steps` at the soonest,
    and a resumed run counts again from its resume. Without `steps` (a launch told "stop when the loss plateaus")
    the trainer waits `default_wait`."""

    metric: str
    direction: str  # falling (a lower value is better) | rising
    steps: int | None = None
    epochs: float | None = None  # the wait in epochs instead ("stop when the loss stops falling for 3 epochs")

    def __str__(self) -> str:
        n, unit = (self.steps, "step") if self.steps else (self.epochs, "epoch")
        count = int(n) if n and float(n).is_integer() else n  # 1000000, not 1e+06: the text must parse again
        wait = f" for {count} {unit}{'s' if n != 1 else ''}" if n else ""
        return f"{self.metric} stops {self.direction}{wait}"

    def better(self, value: float, best: float) -> bool:
        bar = REL * abs(best)
        return value < best - bar if self.direction == "falling" else value > best + bar

    def stop_step(self, steps_per_epoch: int) -> None:
        return None


Rule = StopRule | Plateau


def parse(text: str, field: str = "monitor.stop_when") -> Rule:
    """A rule from its written form: METRIC OP VALUE, or METRIC stops falling|rising|improving [for N steps|epochs]."""
    if m := _PLATEAU.match(str(text)):
        metric, direction, n = m.group(1), m.group(2).lower(), float(m.group(3)) if m.group(3) else None
        in_steps = bool(m.group(4)) and m.group(4).lower().startswith("step")
        if metric in CLOCK or n == 0 or (in_steps and n != int(n)):
            raise ConfigError(f"stop rule {text!r} waits on {metric} for {m.group(3)} {m.group(4)}", field=field,
                              fix="name a metric the run logs and a whole number of steps or some epochs, e.g. "
                                  "'loss stops falling for 500 steps'")
        if direction == "improving":
            direction = improving(metric)
        return Plateau(metric, direction, int(n) if n and in_steps else None, n if n and not in_steps else None)
    m = _RULE.match(str(text))
    if not m:
        raise ConfigError(f"stop rule {text!r} is not METRIC OP VALUE, nor METRIC stops falling|rising [for N steps]",
                          field=field, fix=f"write it like {FORMS}")
    metric, op, value = m.group(1), m.group(2), float(m.group(3))
    if not math.isfinite(value):
        raise ConfigError(f"stop rule {text!r} has no finite value", field=field)
    return StopRule(metric, op, value)


@dataclass
class Added:
    """What was added to a run's folder while it was queued or running."""

    rules: list[Rule]
    on_failure: bool  # stop it when the monitor's verdict is a hard failure (collapse, divergence)
    by: dict[str, str] = field(default_factory=dict)  # each rule's text -> who added it (a user, "successive halving")


def read_added(folder: RunFolder) -> Added:
    data = read_json(folder.stop_rules) or {}
    rules, by = [], {}
    for r in data.get("rules", []):
        try:
            rules.append(parse(r["rule"]))
        except (ConfigError, KeyError, TypeError):
            continue  # a hand-edited line that does not parse is skipped, not fatal to a training run
        if r.get("by"):
            by[str(rules[-1])] = str(r["by"])
    return Added(rules, bool(data.get("on_failure")), by)


def add(folder: RunFolder, rule: Rule | None = None, on_failure: bool = False, by: str = "") -> Added:
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

    def __init__(self, folder: RunFolder, from_config: list[str], steps_per_epoch: int, total_steps: int | None = None,
                 log_every: int = 1, health_every: int = 1):
        self.folder = folder
        self.config_rules = [parse(r) for r in from_config]
        self.steps_per_epoch = steps_per_epoch
        self.wait_of = lambda rule: rule.steps or (max(1, round(rule.epochs * steps_per_epoch)) if rule.epochs else
                                                   default_wait(rule.metric, total_steps, log_every, health_every))
        self._stamp: float | None = None
        self._best: dict[Plateau, tuple[float, int]] = {}  # a plateau rule's best value so far and its step
        self.rules = list(self.config_rules)
        self.added_by: dict[str, str] = {}
        self.refresh()

    def refresh(self) -> None:
        path: Path = self.folder.stop_rules
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if stamp == self._stamp:
            return
        self._stamp = stamp
        added = read_added(self.folder)
        self.rules = self.config_rules + [r for r in added.rules if r not in self.config_rules]
        self.added_by = added.by

    @property
    def stop_step(self) -> int | None:
        steps = [s for r in self.rules if (s := r.stop_step(self.steps_per_epoch)) is not None]
        return min(steps) if steps else None

    def first_met(self, row: dict, clock: dict) -> tuple[Rule, float] | None:
        """The first rule this logging step meets, with the value that met it (a plateau's: its best)."""
        values = {**row, **clock}
        met = None
        for rule in self.rules:
            if isinstance(rule, Plateau):  # every plateau sees every value, met or not, so its count stays true
                hit = self._plateau(rule, values)
                met = met or hit
            elif met is None and rule.metric in values and rule.met(values[rule.metric]):
                met = rule, float(values[rule.metric])
        return met

    def _plateau(self, rule: Plateau, values: dict) -> tuple[Plateau, float] | None:
        x, step = values.get(rule.metric), values["step"]
        if not (isinstance(x, int | float) and math.isfinite(x)):
            return None
        best = self._best.get(rule)
        if best is None or rule.better(x, best[0]):
            self._best[rule] = (float(x), step)
            return None
        return (rule, best[0]) if step - best[1] >= self.wait_of(rule) else None

    def describe(self, rule: Rule, value: float) -> str:
        """What met the rule, for the run's message; a plateau's with the step of its best and its wait; a rule
        added to the folder with who added it ("added by successive halving")."""
        if isinstance(rule, Plateau):
            said = describe(rule, value, self._best[rule][1] if rule in self._best else None, self.wait_of(rule))
        else:
            said = describe(rule, value)
        by = self.added_by.get(str(rule)) if rule not in self.config_rules else None
        return f"{said}, added by {by}" if by else said


def describe(rule: Rule, value: float, best_step: int | None = None, wait: int | None = None) -> str:
    """'loss 0.48 < 0.5', or 'loss made no new low beyond 0.412 (step 800) in 500 steps', in words a run's message
    can carry."""
    if isinstance(rule, Plateau):
        where = f" (step {best_step})" if best_step is not None else ""
        return f"{rule.metric} made no new {'low' if rule.direction == 'falling' else 'high'} beyond " \
               f"{value:.4g}{where} in {wait or rule.steps} steps"
    return f"{rule.metric} {value:.4g} {rule.op} {rule.value:g}"
