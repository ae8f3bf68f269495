"""A stop rule for a queued or running run, from the tools' side (the rules themselves: ssl_runtime/stop_rules.py).

A metric named in words ("the effective rank") is read as the key the run logs; a rule the run could never meet
(a metric it does not log, a step it has passed or will not reach) is refused with what it can be given; a bar given
as "reaches 0.5" takes its direction from where the value is now, and a plateau asked as "stops moving" ("levels
off", "stops improving") from where the value has gone so far. Only the run's owner (or an admin) adds one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ssl_runtime import stop_rules
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.stop_rules import Plateau, Rule, StopRule
from tools import access
from tools.home import Home
from tools.metric_words import EVERY_RUN_LOGS, logged_by_every_run, metric_key
from tools.records import Run
from tools.registry import TERMINAL, Registry, run_id_of
from tools.usage import running_spells


@dataclass
class Proposal:
    """What a stop would add, and how it reads against the run now."""

    run: Run
    rule: Rule | None  # None: a stop on a failure verdict
    note: str  # where the run is against the rule ("loss is 0.62 now", "step 600, 120 steps from now")


def active_rules(run_dir: str, config: dict | None = None, total_steps: int | None = None) -> dict:
    """The stops a run obeys: its config's rules (`config` when the caller has it, else its config.yaml) and those
    added to its folder, with a plateau's default wait written out (from the run's `total_steps` when known, else
    its config's steps), and whether a failure stops it."""
    folder = RunFolder(run_dir)
    config = folder.read_config() if config is None else config
    monitor = config.get("monitor") or {}
    added = stop_rules.read_added(folder)
    rules = list(dict.fromkeys([*monitor.get("stop_when", []), *(str(r) for r in added.rules)]))
    total = total_steps or (config.get("train") or {}).get("steps")
    return {"rules": spelled_out(rules, config, total),
            "on_failure": added.on_failure or monitor.get("on_failure") == "stop"}


def propose(home: Home, ref: str, rule: str | None = None, metric: str | None = None, below: float | None = None,
            above: float | None = None, reaches: float | None = None, at_step: int | None = None,
            more_steps: int | None = None, epochs: float | None = None, minutes: float | None = None,
            on_failure: bool = False, more_epochs: float | None = None, stops: str | None = None,
            for_steps: int | None = None, for_epochs: float | None = None) -> Proposal:
    """The rule the arguments give for this run, checked against it; nothing is written (see `apply`). `rule` is the
    written form ("loss<0.5", "step>=2000", "minutes>=90": minutes trained in all); `minutes` counts from now;
    `metric` with `stops` (falling | rising | moving) and `for_steps` or `for_epochs` is a plateau."""
    run = Registry(home).sync(run_id_of(ref))
    access.require_owner(home, run, "stopping a run")
    if run.status in TERMINAL:
        raise SSLPilotError(f"run {run.id} already ended ({run.status}); there is nothing to stop", field="run_id")
    waits = [k for k, v in (("stops", stops), ("for_steps", for_steps), ("for_epochs", for_epochs)) if v is not None]
    if waits and metric is None:
        raise SSLPilotError("a plateau stop needs the metric that levels off", field="metric", fix="e.g. metric='loss'")
    given = [k for k, v in (("rule", rule), ("metric", metric), ("at_step", at_step), ("more_steps", more_steps),
                            ("epochs", epochs), ("more_epochs", more_epochs), ("minutes", minutes),
                            ("on_failure", on_failure or None)) if v is not None]
    if len(given) != 1:
        raise SSLPilotError(f"a stop takes one condition; got {', '.join(given) or 'none'}", field="condition",
                            fix="a rule ('loss<0.5'), a metric with below/above or stops, at_step, more_steps, "
                                "epochs, more_epochs, minutes or on_failure")
    if for_steps is not None and for_epochs is not None:
        raise SSLPilotError("a plateau waits for steps or epochs, not both", field="for_epochs", fix="give one")
    if on_failure:
        return Proposal(run, None, "")
    folder = RunFolder(run.run_dir)
    if rule is not None:
        parsed = stop_rules.parse(rule, field="rule")
        stop = (_plateau(run, folder, metric_key(parsed.metric), parsed.direction, parsed.steps, parsed.epochs)
                if isinstance(parsed, Plateau) else StopRule(metric_key(parsed.metric), parsed.op, parsed.value))
    elif metric is not None and waits:
        stop = _plateau(run, folder, metric_key(metric), stops or "moving", for_steps, for_epochs)
    elif metric is not None:
        stop = _bar(run, folder, metric_key(metric), below, above, reaches)
    elif minutes is not None:
        stop = StopRule("minutes", ">=", round(trained_minutes(folder) + minutes, 2))
    elif epochs is not None:
        stop = StopRule("epoch", ">=", epochs)
    elif more_epochs is not None:  # "after 10 more epochs": from the epoch it is in now (its start, while queued)
        per_epoch = _steps_per_epoch(folder)
        now = (run.steps or 0) / per_epoch if per_epoch else 0.0
        stop = StopRule("epoch", ">=", round(now + more_epochs, 2))
    else:
        stop = StopRule("step", ">=", at_step if at_step is not None else (run.steps or 0) + more_steps)
    return Proposal(run, stop, _check(run, folder, stop))


def apply(home: Home, ref: str, rule: str | None, on_failure: bool = False) -> Run:
    """Add the rule to the run's folder; the trainer reads it at its next logging step."""
    run = Registry(home).sync(run_id_of(ref))
    actor = access.require_owner(home, run, "stopping a run")
    if run.status in TERMINAL:
        raise SSLPilotError(f"run {run.id} ended ({run.status}) before the stop was added", field="run_id")
    stop_rules.add(RunFolder(run.run_dir), stop_rules.parse(rule, field="rule") if rule else None, on_failure,
                   by=actor.name)
    return run


def _bar(run: Run, folder: RunFolder, key: str, below, above, reaches) -> StopRule:
    """A metric's bar from below, above or reaches (whose direction is where the value is now)."""
    bars = [(op, v) for op, v in (("<", below), (">", above)) if v is not None]
    if reaches is not None:
        now = _latest(folder.read_metrics(), key)
        if now is None:
            raise SSLPilotError(f"run {run.id} has logged no {key} yet, so 'reaches {reaches:g}' has no direction",
                                field="reaches", fix="say below or above")
        bars.append(("<=" if now > reaches else ">=", reaches))
    if len(bars) != 1:
        raise SSLPilotError(f"a stop on {key} needs one bar; got {len(bars)}", field="below",
                            fix="give below, above or reaches")
    return StopRule(key, *bars[0])


def _plateau(run: Run, folder: RunFolder, key: str, stops: str, for_steps: int | None,
             for_epochs: float | None) -> Plateau:
    """A plateau rule. 'moving' takes the direction the metric has gone so far (its last logged value against its
    first), or, with too little logged, the direction that improves it; the wait, when not given, is the trainer's
    default (ssl_runtime/stop_rules.default_wait), written out so the confirmation shows it."""
    if stops not in ("falling", "rising", "moving"):
        raise SSLPilotError(f"stops={stops!r}", field="stops", fix="falling, rising or moving")
    if stops == "moving":
        points = [r[key] for r in folder.read_metrics() if isinstance(r.get(key), int | float)]
        stops = ("falling" if points[-1] < points[0] else "rising") if len(points) >= 2 and points[-1] != points[0] \
            else stop_rules.improving(key)
    if for_epochs is not None:
        return Plateau(key, stops, epochs=for_epochs)
    if for_steps is None:
        train = folder.read_config().get("train") or {}
        for_steps = stop_rules.default_wait(key, run.total_steps, int(train.get("log_every") or 10),
                                            int(train.get("health_every") or 50))
    return Plateau(key, stops, int(for_steps))


def _check(run: Run, folder: RunFolder, rule: Rule) -> str:
    """Refuse a rule the run could never meet, or has met by its length already; else say where the run is now."""
    step, total = run.steps or 0, run.total_steps
    if isinstance(rule, Plateau):
        _require_logged(run, folder, rule.metric)
        per_epoch = _steps_per_epoch(folder)
        wait = rule.steps or (round(rule.epochs * per_epoch) if per_epoch else None)
        if wait and total and step + wait >= total:
            raise SSLPilotError(f"run {run.id} ends at step {total}, before {wait} steps from step {step} have "
                                "passed: the rule could not stop it", field="for_steps",
                                fix=f"give a shorter wait (under {total - step} steps), or cancel it now")
        now = _latest(folder.read_metrics(), rule.metric)
        said = f"{rule.metric} is {now:.4g} now; " if now is not None else ""
        better = "a new low more than 1% below" if rule.direction == "falling" else "a new high more than 1% above"
        span = f"{rule.steps} steps" if rule.steps else f"{rule.epochs:g} epochs"
        soonest = f" (step {step + wait} at the soonest)" if wait else ""
        return f"{said}it stops once {span} pass without {better} its best, counted from its next logging step{soonest}"
    if rule.metric == "minutes":
        trained = trained_minutes(folder)
        if run.status == "queued":
            return f"{rule.value:g} min of training, counted from its start"
        return (f"it has trained {trained:.1f} min; that is {rule.value - trained:.4g} min from now"
                if rule.value > trained else f"it has trained {trained:.1f} min already: it stops at its next logging step")
    if rule.metric in ("step", "epoch"):
        if rule.op in ("<", "<="):
            raise SSLPilotError(f"'{rule}' would stop it at once", field="rule", fix=f"cancel run {run.id} instead")
        per_epoch = _steps_per_epoch(folder)
        if rule.metric == "epoch" and per_epoch is None:
            why = "has not started" if run.status == "queued" else "has logged no epoch length"
            raise SSLPilotError(f"run {run.id} {why}: its epoch length is not known yet", field="epochs",
                                fix="give a step instead")
        target = rule.stop_step(per_epoch or 1)
        if target <= step:
            raise SSLPilotError(f"run {run.id} is at step {step} already, past step {target}", field="at_step",
                                fix=f"cancel run {run.id} to stop it now (its checkpoint is kept)")
        if total and target >= total:
            raise SSLPilotError(f"run {run.id} ends at step {total} anyway, before or at step {target}",
                                field="at_step", fix="nothing to add: it stops there on its own")
        return f"step {target}, {target - step} steps from now"
    rows = _require_logged(run, folder, rule.metric)
    now = _latest(rows, rule.metric)
    if now is None:
        return f"it has logged no {rule.metric} yet"
    if rule.met(now):
        return f"{rule.metric} is {now:.4g} now, which already meets it: it stops at its next logging step"
    return f"{rule.metric} is {now:.4g} now"


def spelled_out(rules: list[str], config: dict, total_steps: int | None) -> list[str]:
    """A launch's rules as the trainer will hold them: a plateau without a wait gets the wait it will have."""
    from ssl_runtime.config import TrainConfig

    train, fields = config.get("train") or {}, TrainConfig.model_fields
    every = {k: int(train.get(k) or fields[k].default) for k in ("log_every", "health_every")}
    out = []
    for text in rules:
        rule = stop_rules.parse(text)
        if isinstance(rule, Plateau) and not (rule.steps or rule.epochs):
            wait = stop_rules.default_wait(rule.metric, total_steps, every["log_every"], every["health_every"])
            text = f"{rule} for {wait} steps (the default wait)"
        out.append(str(text))
    return out


def _require_logged(run: Run, folder: RunFolder, key: str) -> list[dict]:
    """The run's metric rows, refusing a metric it does not log (before it logs anything: one every run logs)."""
    rows = folder.read_metrics()
    logged = {k for r in rows for k in r} - {"step", "epoch"}
    if key not in logged and (rows or not logged_by_every_run(key)) and key not in EVERY_RUN_LOGS:
        known = ", ".join(sorted(logged | set(EVERY_RUN_LOGS)))
        raise SSLPilotError(f"run {run.id} logs no metric {key!r}", field="metric", fix=f"one of: {known}")
    return rows


def _latest(rows: list[dict], key: str) -> float | None:
    return next((r[key] for r in reversed(rows) if isinstance(r.get(key), int | float)), None)


def _steps_per_epoch(folder: RunFolder) -> int | None:
    return next((e["steps_per_epoch"] for e in reversed(folder.read_events())
                 if e.get("type") == "status" and isinstance(e.get("steps_per_epoch"), int)), None)


def trained_minutes(folder: RunFolder) -> float:
    """Minutes trained so far, as the trainer counts them: each `running` spell up to the status after it (a
    resumed run's earlier spells included) and the current one up to now."""
    return max(0.0, sum(s.end - s.start for s in running_spells(folder)) / 60)
