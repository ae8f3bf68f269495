"""The agent's tools: LangChain StructuredTools with pydantic argument schemas over the tools/ API.

Names are a contract (docs/architecture.md). Every tool validates its arguments and returns a compact dict;
errors come back as {"error": "..."} for the agent to explain. Costly or destructive tools (launch,
schedule, cancel) never act when the model calls them: they return a pending confirmation with the
resolved config and a cost estimate, and only the confirmation gate (agent/graph.py) executes it, after
the user says yes. There are no shell or file-deletion tools.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from langchain_core.tools import StructuredTool
from pydantic import ValidationError

from ssl_runtime.catalogue import TEXT_METHODS, canonical
from ssl_runtime.config import error_line, format_validation_error
from ssl_runtime.errors import ConfigError, SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools import access, pruning
from tools.home import Home
from tools.insights import config_diff, probe_lead, sweep_grid
from tools.launches import (
    FIELD_KEYS,
    RUN_LENGTH,
    device_hours,
    estimate_cost,
    launch_config,
    steps_for_time,
    time_limit_note,
)
from tools.stopping import active_rules, spelled_out
from tools.tool_table import (
    COMPARED_AT_MOST,
    TOOLS,
    AnnotateArgs,
    CancelArgs,
    DeleteArgs,
    DeviceArgs,
    LaunchArgs,
    RunRef,
    ScheduleArgs,
    StopWhenArgs,
    SweepArgs,
    UsageArgs,
)

MOVED_METRICS = ("loss", "health/std", "health/rank")  # what a comparison over a window of last steps follows


def _config_tree(a: LaunchArgs, home: Home) -> dict:
    """A fresh config, or the parent's config for a follow-up; then the asked-for changes."""
    base = None
    if a.from_parent_weights and not a.parent_run:
        raise SSLPilotError("from_parent_weights continues a run: name it", field="parent_run")
    if a.parent_run:
        from tools.registry import Registry

        parent = Registry(home).get(a.parent_run)
        base = json.loads(parent.config_json)
        base.setdefault("train", {})["init_from"] = None  # a follow-up of a continued run starts where asked, below
        if a.from_parent_weights:
            if parent.status in ("queued", "running"):
                raise SSLPilotError(f"run {parent.id} is still {parent.status}: continue it once it has ended",
                                    field="from_parent_weights")
            last = RunFolder(parent.run_dir).last_checkpoint
            if not last.exists():
                raise SSLPilotError(f"run {parent.id} has no checkpoint to continue from", field="from_parent_weights",
                                    fix="launch a follow-up from scratch instead",
                                    fix_args={"from_parent_weights": False})
            base["train"]["init_from"] = str(last)
            # the rules that stopped it would stop its continuation at once: only those given again hold
            base.setdefault("monitor", {})["stop_when"] = []
        if a.method and canonical(a.method) != base.get("method"):
            if a.from_parent_weights:
                raise SSLPilotError(f"run {parent.id}'s weights are a {base.get('method')} model; a {a.method} run "
                                    "cannot start from them", field="method",
                                    fix=f"continue it as {base.get('method')}, or launch {a.method} from scratch")
            base["method_args"] = {}  # another method's knobs ("same settings as run 1 but byol"): its own defaults
    first = (getattr(a, "methods", None) or [None])[0]  # methods compared: the first one's (see _sweep_bases)
    tree = launch_config(method=a.method or first or (None if base else "simclr"), data=a.data,  # none: the method's built-in
                         epochs=a.epochs, steps=a.steps, batch_size=a.batch_size, lr=a.lr, device=a.device,
                         overrides={**a.overrides, **((a.recommendation or {}).get("change") or {})}, base=base)
    return {**tree, "name": a.name} if a.name else tree


def _sweep_bases(a: SweepArgs, home: Home) -> list[dict]:
    """A sweep's base configs: one, or one per method compared ("simclr and byol on digits"), each with that
    method's own defaults, since a config tree carries its method's settings filled in."""
    if not a.methods:
        return [_config_tree(a, home)]
    return [_config_tree(a.model_copy(update={"method": m, "methods": []}), home) for m in a.methods]


AUTO_ROWS = {"data.image_size": "image_size", "backbone.name": "backbone"}
"""The settings a config leaves on "auto" that a launch's confirmation shows as worked out: key to estimate field."""


def _steps_across(ests: list[dict]) -> dict:
    """A sweep whose runs differ in length (steps or epochs swept, datasets of other sizes): the shortest and the
    longest run's steps, and the longest one's time, for the confirmation; nothing when every run is as long."""
    steps = [e.get("steps") for e in ests]
    if not all(isinstance(n, int) for n in steps) or len(set(steps)) < 2:
        return {}
    longest = ests[steps.index(max(steps))]
    return {"steps_range": [min(steps), max(steps)], **({"time": f"the longest {longest['time']}"}
                                                       if longest.get("time") else {})}


def _autos_per_run(values: list[dict], ests: list[dict]) -> list[dict]:
    """A sweep's confirmation rows with each "auto" value that differs between its runs (datasets swept: an image
    size each) shown per run, not as the first run's."""
    out = []
    for row in values:
        seen = list(dict.fromkeys(str(e.get(AUTO_ROWS[row["key"]])) for e in ests)) \
            if row["from"] == "auto" and row.get("key") in AUTO_ROWS else []
        out.append({**row, "value": "per run: " + ", ".join(seen)} if len(seen) > 1 else row)
    return out


def _shown_grid(a: SweepArgs) -> dict[str, list]:
    """What varies across a sweep's runs, as its confirmation and result name it: the methods compared, then the grid."""
    return {**({"method": a.methods} if a.methods else {}), **a.grid}


def _cancelled(r) -> dict:
    return {"run_id": r.id, "status": r.status, "done": "cancel requested" if r.status == "running" else "cancelled"}


def _like_sweep(a: SweepArgs, home: Home) -> SweepArgs:
    """An earlier sweep again ("repeat the lrs sweep on shapes": its first run's config, its grid, the changes
    given) or extended ("add lr 0.03 to the lrs sweep": only the new values, into the same sweep)."""
    first, varied, base = sweep_grid(home, a.like_sweep)
    if "method" in varied:  # its first run's config holds one method's settings, so the others' cannot be rebuilt
        raise SSLPilotError(f"sweep {a.like_sweep!r} compared methods ({', '.join(map(str, varied['method']))}), "
                            "which a repeat built from its first run cannot do", field="like_sweep",
                            fix="ask for it anew with the methods named, e.g. `pretrain simclr and byol on digits "
                                "for 20 steps`")
    given = {FIELD_KEYS[f] for f in FIELD_KEYS if getattr(a, f, None) is not None} | set(a.overrides)
    if given & set(RUN_LENGTH):  # a length said in one unit replaces the sweep's, in either
        given |= set(RUN_LENGTH)
    varied = {k: v for k, v in varied.items() if k not in given}  # what the user set holds for every run
    if a.extend:
        new = {k: [v for v in values if v not in varied.get(k, [base.get(k)])] for k, values in a.grid.items()}
        if not a.grid or not all(new.values()):
            tried = "; ".join(f"{k} {', '.join(map(str, varied.get(k, [base.get(k)])))}" for k in a.grid) or "-"
            raise SSLPilotError(f"nothing new to add to sweep {a.like_sweep!r}: it already tried {tried}",
                                field="grid", fix="give values it has not tried")
        grid, experiment = {**varied, **new}, a.like_sweep
    else:
        grid, experiment = {**varied, **a.grid}, a.experiment
    source = {k: f"sweep {a.like_sweep}" for k in grid if k not in a.grid}
    return a.model_copy(update={"parent_run": a.parent_run or first, "grid": grid, "experiment": experiment,
                                "like_sweep": None, "extend": False, "grid_source": source})


def provenance(a: LaunchArgs, cfg: dict, est: dict, parent_method: str | None = None,
               scaled: dict[str, str] | None = None) -> list[dict]:
    """Every setting of a proposed launch and where its value comes from: you, the parent run, the
    recommendation, or a default. The confirmation shows all of them, so nothing is filled in silently. A follow-up
    of another method (`parent_method`) has that method's own defaults for its knobs, not the parent's; a value made
    from a multiple of the parent's says so (`scaled`, from scaled_from_parent: "2 x run 1's 256")."""
    parent = f"run {a.parent_run}" if a.parent_run else None
    inherited = parent or "default"
    rec = ((a.recommendation or {}).get("change") or {})
    train, data = cfg["train"], cfg["data"]
    swept = getattr(a, "grid", None) or {}
    length = next((k for k in RUN_LENGTH if k in swept), "train.epochs" if train.get("epochs") else "train.steps")
    rows = [  # (shown as, config key, value, from)
        ("method", "method", cfg["method"], "you" if a.method else inherited),
        ("data", "data.name" if "data.name" in swept else "data", data.get("name") or data.get("path"),
         "you" if a.data else inherited),
        (length.removeprefix("train."), length, train.get("epochs") or train.get("steps"),
         "you" if (a.epochs or a.steps) else inherited),
        ("batch size", "train.batch_size", est.get("batch_size"), "you" if a.batch_size else inherited
         if parent and train.get("batch_size") else est.get("batch_note", "default")),
        ("learning rate", "optim.lr", cfg["optim"].get("lr") or default_lr_words(cfg["optim"].get("lr_scale", 1.0)),
         "you" if a.lr else inherited),
        ("device", "train.device", train.get("device"), "you" if a.device else inherited),
    ]
    if cfg["method"] not in TEXT_METHODS:  # text has no views to augment
        rows.append(("augment strength", "augment.strength", cfg["augment"]["strength"], inherited))
    for setting, key in AUTO_ROWS.items():
        if key in est and setting not in {*a.overrides, *rec}:  # images: what the config's "auto" comes to
            rows.append((key.replace("_", " "), setting, est[key], "auto"))
    by_rec = f"recommendation for {parent or 'the run'}"
    grid = {k: "swept: " + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in vs)
            for k, vs in (_shown_grid(a) if isinstance(a, SweepArgs) else {}).items()}  # a sweep's rate is its values,
    # not the default
    out = []
    for name, key, value, src in rows:
        if key in grid:
            value, src = grid.pop(key), (getattr(a, "grid_source", None) or {}).get(key, "you")
        elif key in rec and src != "you":  # "steps: 600 (run 1)" was the recommendation's 600, not run 1's 300
            src = by_rec
        out.append({"setting": name, "key": key, "value": value, "from": (scaled or {}).get(key, src)})
    out += [{"setting": k, "key": k, "value": v, "from": (getattr(a, "grid_source", None) or {}).get(k, "you")}
            for k, v in grid.items()]  # swept knobs with no row above
    for key, value in a.overrides.items():
        if key == "monitor.stop_when" and isinstance(value, list):  # a plateau's default wait, written out
            value = spelled_out(value, cfg, est.get("steps"))
        out.append({"setting": key, "key": key, "value": "off" if value is None else value,  # "no grad clipping"
                    "from": (scaled or {}).get(key, "you")})
    scale = cfg["optim"].get("lr_scale", 1.0)
    if scale != 1 and cfg["optim"].get("lr") is None and "optim.lr_scale" not in a.overrides:  # a parent's, kept:
        out.append({"setting": "optim.lr_scale", "key": "optim.lr_scale", "value": scale, "from": inherited})  # what
        # "twice the lr" multiplies
    shown = {v.get("key") for v in out}
    for key, value in rec.items():
        if key not in shown:  # "learning rate: 0.0003 (recommendation for run 3)" once, not again as optim.lr
            out.append({"setting": key, "key": key, "value": value, "from": by_rec})
    out += [{"setting": k, "value": v, "from": "you"} for k, v in (("name", a.name), ("tags", ", ".join(a.tags))) if v]
    if a.from_parent_weights:
        out.insert(0, {"setting": "starts from", "value": f"run {a.parent_run}'s final weights (continued "
                       "pretraining, a fresh optimiser and schedule)", "from": "you"})
    named = {*a.overrides, *rec, *(getattr(a, "grid", None) or {})}
    if getattr(a, "methods", None):  # methods compared: each keeps its own defaults, not the first one's shown
        out.append({"setting": "method settings", "value": "each method's own defaults", "from": "default"})
        return out
    for key, value in cfg.get("method_args", {}).items():
        if f"method_args.{key}" not in named:
            own = parent if parent and cfg["method"] == parent_method else "method default"
            out.append({"setting": f"method_args.{key}", "key": f"method_args.{key}",  # chosen at the run's start
                        "value": "auto" if value is None else value, "from": own})  # (DINO's head_batch_norm: by
            # the backbone's family)
    return out


def shown_numbers(values: list[dict]) -> dict[str, float]:
    """The numbers a proposal shows, by config key ({'train.batch_size': 256}): what "make it twice the batch size"
    multiplies while the launch waits for its yes (agent/launch_words.amend)."""
    return {v["key"]: v["value"] for v in values if v.get("key") and isinstance(v["value"], int | float)
            and not isinstance(v["value"], bool)}


class ToolBox:
    """The tools bound to one home folder. `execute_confirmed` is for the confirmation gate only."""

    def __init__(self, home: Home, on_launch: Callable[[str], None] | None = None):
        self.home = home
        self.on_launch = on_launch

    # ---- pending (costly) actions ------------------------------------------------------------------
    def launch_pretraining(self, **kw) -> dict:
        access.require(self.home, "member", "launching a run")  # refused now, not after a "yes"
        a, scaled = scaled_from_parent(LaunchArgs(**kw), self.home)
        cfg = _config_tree(a, self.home)
        from tools.runs import placement, validate

        # first, so a device the machine lacks is named as such ("no GPU 7 here"), not met inside the estimate
        resolved = validate(cfg, home=self.home, backend=a.backend)
        after = _waits_for(self.home, a)
        a, fitted_cfg, est, values = self._proposal(a, cfg, scaled)
        if fitted_cfg is not cfg:  # steps fitted to a time: the config that runs
            cfg, resolved = fitted_cfg, validate(fitted_cfg, home=self.home, backend=a.backend)
        out = {"pending_confirmation": {"tool": "launch_pretraining", "args": a.model_dump(mode="json"),
                                        "device_hours": device_hours(est), "shown": shown_numbers(values)},
               "config": _brief_config(cfg), "estimate": est, "values": values,
               "resolved": resolved.model_dump(mode="json"), **after}
        if a.backend not in (None, "local"):
            out["placement"] = placement(resolved, a.backend, a.nodes)
        return out

    def _proposal(self, a: LaunchArgs, cfg: dict, scaled: dict[str, str] | None = None
                  ) -> tuple[LaunchArgs, dict, dict, list[dict]]:
        """A launch's cost estimate and every value with where it comes from. A launch given a time and no length
        ("for 2 hours") first gets the steps that time holds at the speed measured here, written into its own
        arguments, so what is confirmed is what runs."""
        here = a.backend in (None, "local")
        est = estimate_cost(cfg, self.home, here=here)
        said = a.steps or a.epochs or set(RUN_LENGTH) & (a.overrides.keys() | getattr(a, "grid", {}).keys())
        steps = None if said else steps_for_time(cfg, est)
        if steps is not None:
            a = a.model_copy(update={"steps": steps})
            cfg = _config_tree(a, self.home)
            est = estimate_cost(cfg, self.home, here=here)
        parent_method = None
        if a.parent_run:
            from tools.registry import Registry

            parent_method = Registry(self.home).get(a.parent_run).method
        values = provenance(a, cfg, est, parent_method, scaled)
        if steps is not None:  # the steps row says where its number came from
            row = next(v for v in values if v["setting"] == "steps")
            row["from"] = f"fitted to {cfg['train']['max_minutes']:g} min at {est['img_per_s']:.0f} img/s measured here"
        note = time_limit_note(cfg, fitted=steps is not None, length_given=bool(said))
        return a, cfg, {**est, **({"time_limit": note} if note else {})}, values

    def schedule_pretraining(self, **kw) -> dict:
        access.require(self.home, "member", "scheduling a run")
        a, scaled = scaled_from_parent(ScheduleArgs(**kw), self.home)
        if not a.at and not a.cron:
            raise SSLPilotError("say when: a time (at) or a cron expression", field="at")
        if a.waits_for():
            raise SSLPilotError("a scheduled launch starts at its time, not after another run", field="after_run",
                                fix="either schedule it, or launch it now to wait for that run")
        if a.at:
            from tools.scheduler import launch_time

            launch_time(a.at)
        cfg = _config_tree(a, self.home)
        from tools.runs import validate

        validate(cfg)
        a, cfg, est, values = self._proposal(a, cfg, scaled)
        return {"pending_confirmation": {"tool": "schedule_pretraining", "args": a.model_dump(mode="json"),
                                         "device_hours": device_hours(est), "shown": shown_numbers(values)},
                "config": _brief_config(cfg), "estimate": est, "values": values, "when": a.at or a.cron}

    def launch_sweep(self, **kw) -> dict:
        access.require(self.home, "member", "launching a sweep")
        a, scaled = scaled_from_parent(SweepArgs(**kw), self.home)  # a multiple of a parent's: a value, as in a launch
        if a.like_sweep:  # what is confirmed is the sweep written out: its base run, grid and name
            a = _like_sweep(a, self.home)
        from tools.registry import Registry

        extends = bool(a.experiment and Registry(self.home).list(experiment=a.experiment, limit=1))  # more of one
        if not a.grid and not a.methods:
            raise SSLPilotError("a sweep needs values to try", field="grid",
                                fix="give a setting with several values, e.g. {'optim.lr': [0.001, 0.003]}, or "
                                    "two or more methods to compare in `methods`")
        if a.backend not in (None, "local"):
            raise SSLPilotError("a sweep runs on this machine's queue", field="backend",
                                fix="launch its runs one at a time on the cluster")
        if a.prune:  # the policy rides in each run's config, where the queue reads it (tools/pruning.py)
            a = a.model_copy(update={"overrides": {**a.overrides, "monitor.prune_metric": a.prune_metric or
                                                   pruning.DEFAULT_METRIC, "monitor.prune_eta": a.prune_eta}})
        bases = _sweep_bases(a, self.home)
        cfg = bases[0]
        from tools.runs import sweep_configs

        n = len(sweep_configs(bases, a.grid))
        if a.prune and n < 2:
            raise SSLPilotError("successive halving compares a sweep's runs, and this one has one", field="prune",
                                fix="give more values to try, or leave out the early stopping")
        if a.prune and (why := next(filter(None, map(pruning.never_logged, bases)), None)):
            raise SSLPilotError(f"successive halving would judge these runs by the kNN monitor, and {why}",
                                field="prune_metric", fix="name a metric the runs log, e.g. prune_metric='loss' where "
                                "the sweep leaves what the loss measures unchanged (not a temperature or a loss "
                                "weight), or leave out the early stopping")
        after = _waits_for(self.home, a)
        a, cfg, est, values = self._proposal(a, cfg, scaled)
        here = a.backend in (None, "local")
        bases = _sweep_bases(a, self.home)  # built again as proposed (a time given may have set the steps)
        each = [(b["method"], estimate_cost(b, self.home, here=here)) for b in bases] if a.methods else []
        ests = [estimate_cost(t, self.home, here=here) for t in sweep_configs(bases, a.grid)]  # each run at its
        hours = sum(map(device_hours, ests))  # own length, batch and method's measured speed
        est = {**est, **_steps_across(ests)}
        values = _autos_per_run(values, ests)
        prune = {}
        if a.prune:
            policy = pruning.Policy.of(cfg)
            prune = {"prune": {"metric": policy.metric, "eta": policy.eta,
                               "rungs": policy.rungs(est["steps"], policy.every(cfg)) if est.get("steps") else []}}
        return {"pending_confirmation": {"tool": "launch_sweep", "args": a.model_dump(mode="json"),
                                         "device_hours": hours, "shown": shown_numbers(values)},
                "config": _brief_config(cfg), "estimate": est, "values": values, "grid": _shown_grid(a), "runs": n,
                **({"per_method": [{"method": m, "steps": e.get("steps"), "time": e.get("time")} for m, e in each]}
                   if each else {}),
                **({"extends": a.experiment} if extends else {}), **after, **prune}

    def cancel_run(self, run_id: str | None = None, run_ids: list[str] | None = None) -> dict:
        from tools.registry import TERMINAL, Registry, run_id_of

        reg, asked = Registry(self.home), CancelArgs(run_id=run_id, run_ids=run_ids)
        runs = [reg.sync(run_id_of(r)) for r in asked.ids()]
        for run in runs:
            access.require_owner(self.home, run, "cancelling a run")
            if run.status in TERMINAL:
                raise SSLPilotError(f"run {run.id} already ended ({run.status}); nothing to cancel", field="run_id",
                                    fix="leave it out" if len(runs) > 1 else None)
        rows = [{"run_id": r.id, "method": r.method, "status": r.status, "steps": r.steps} for r in runs]
        args = {"run_id": runs[0].id} if asked.run_id else {"run_ids": [r.id for r in runs]}
        return {"pending_confirmation": {"tool": "cancel_run", "args": args}, "run": rows[0], "runs": rows}

    def delete_runs(self, run_ids: list[str]) -> dict:
        from tools.registry import Registry
        from tools.trash import deletable

        runs, reg = deletable(self.home, DeleteArgs(run_ids=run_ids).run_ids), Registry(self.home)
        children = sorted({c.id for run in runs for c in reg.children(run.id)} - {r.id for r in runs})
        return {"pending_confirmation": {"tool": "delete_runs", "args": {"run_ids": [r.id for r in runs]}},
                "runs": [{"run_id": r.id, "method": r.method, "dataset": r.dataset, "status": r.status,
                          "name": r.name} for r in runs], "follow_ups_kept": children}

    def restore_run(self, run_id: str) -> dict:
        from tools.diagnosis import verdicts_read_again
        from tools.registry import Registry
        from tools.trash import restore_run

        out = restore_run(self.home, RunRef(run_id=run_id).run_id)
        verdicts_read_again(self.home, [Registry(self.home).get(out["run_id"])])  # the delete dropped it
        return out

    def stop_run_when(self, **kw) -> dict:
        from tools.stopping import propose

        a = StopWhenArgs(**kw)
        p = propose(self.home, a.run_id, **a.model_dump(exclude={"run_id"}))
        rule = str(p.rule) if p.rule else None
        return {"pending_confirmation": {"tool": "stop_run_when", "args": {"run_id": p.run.id, "rule": rule,
                                                                            "on_failure": p.rule is None}},
                "run": {"run_id": p.run.id, "method": p.run.method, "status": p.run.status, "steps": p.run.steps,
                        "total_steps": p.run.total_steps}, "rule": rule, "now": p.note}

    def execute_confirmed(self, tool: str, args: dict) -> dict:
        from tools import runs

        if tool == "stop_run_when":
            from tools.stopping import apply

            r = apply(self.home, args["run_id"], args.get("rule"), bool(args.get("on_failure")))
            return {"run_id": r.id, "status": r.status, "rule": args.get("rule"), "on_failure": args.get("on_failure")}
        if tool == "delete_runs":
            from tools.trash import delete_runs

            return delete_runs(self.home, DeleteArgs(**args).run_ids)
        if tool == "cancel_run":
            asked = CancelArgs(**args)
            if asked.run_id:
                return _cancelled(runs.cancel(self.home, asked.run_id))
            done = []
            for rid in asked.ids():
                try:
                    done.append(_cancelled(runs.cancel(self.home, rid)))
                except SSLPilotError as exc:  # one that ended since the question: said, the others still cancelled
                    done.append({"run_id": rid, "done": f"not cancelled ({exc})"})
            return {"runs": done}
        if tool == "schedule_pretraining":
            from tools.scheduler import add_scheduled_launch, launch_time

            a = ScheduleArgs(**args)
            cfg = _config_tree(a, self.home)
            job = add_scheduled_launch(self.home, cfg, at=launch_time(a.at) if a.at else None, cron=a.cron,
                                       tags=["chat", *a.tags])
            return {"scheduled": job, "config": _brief_config(cfg)}
        if tool == "launch_sweep":
            a = SweepArgs(**args)
            name = a.experiment or runs.sweep_name()
            made = runs.sweep(self.home, _sweep_bases(a, self.home), a.grid, experiment=name, tags=["chat", *a.tags],
                              after=a.waits_for() or None, after_any=a.after_any)
            for r in made:
                self._start(r.id)
            return {"run_ids": [r.id for r in made], "experiment": name, "grid": _shown_grid(a),
                    **(_waits_of(made[0]) if made else {})}
        a = LaunchArgs(**args)
        cfg = _config_tree(a, self.home)
        run = runs.enqueue(self.home, cfg, parent_id=a.parent_run, recommendation=a.recommendation,
                           tags=["chat", *a.tags], backend=a.backend, nodes=a.nodes, after=a.waits_for() or None,
                           after_any=a.after_any)
        self._start(run.id)
        return {"run_id": run.id, "status": run.status, "run_dir": run.run_dir, "config": _brief_config(cfg),
                **_waits_of(run)}

    def _start(self, run_id: str) -> None:
        """Hand a queued run to whoever starts runs: the host's hook (tests, the UI) or the scheduler daemon."""
        if self.on_launch:
            self.on_launch(run_id)
        else:
            from tools.scheduler import start_scheduler_if_needed

            start_scheduler_if_needed(self.home)

    # ---- read-only and cheap tools ------------------------------------------------------------------
    def run_linear_probe(self, run_id: str, eval_overrides: dict | None = None, again: bool = False,
                         device: str | None = None) -> dict:
        from tools import runs

        folder = runs.find_run(self.home, run_id)
        if not again and not eval_overrides and folder.probe.exists():  # "what's its probe accuracy?": read, not
            # re-run; the run's id from its folder, which a probe.json written elsewhere (an import, by hand) may lack
            p = {**json.loads(folder.probe.read_text()), "run_id": folder.run_id, "stored": True}
        else:
            p = runs.probe(self.home, run_id, device=device or "auto", eval_overrides=eval_overrides)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in p.items()
                if k in ("run_id", "probe/acc", "knn/acc", "knn/recall@5", "baseline", "eval", "stored", "num_val",
                         "probe/gain_se", "label_fraction", "num_train") or k.startswith("clip/")}

    def list_runs(self, status: str | None = None, method: str | None = None, tag: str | None = None,
                  limit: int = 10, verdict: str | None = None, experiment: str | None = None,
                  period: str | None = None, sort: str = "newest", where: list[str] | None = None,
                  dataset: str | None = None, count: bool = False, metrics: list[str] | None = None,
                  trouble: bool = False) -> dict:
        from tools.metric_words import metric_key
        from tools.runs import TIMED, list_runs
        from tools.usage import period_bounds

        keep = ("run_id", "name", "method", "dataset", "status", "steps", "total_steps", "verdict", "parent_id", "tags")
        metrics = list(dict.fromkeys(metric_key(m) for m in metrics or []))  # "effective rank": health/rank
        rows = list_runs(self.home, status=status, method=method, limit=100_000 if count else limit, tag=tag,
                         verdict=verdict, experiment=experiment, period=period, sort=sort, where=where, dataset=dataset,
                         metrics=metrics, in_trouble=trouble)
        matched = {"count": len(rows)} if count else {}  # "how many runs failed?": all that match, then the newest
        rows = rows[:limit]
        asked = {k: v for k, v in (("tag", tag), ("status", status), ("method", method), ("dataset", dataset),
                                   ("verdict", verdict),
                                   ("experiment", experiment), ("sort", sort if sort != "newest" else None),
                                   ("where", where), ("metrics", metrics), ("trouble", trouble)) if v}
        if period:
            asked["period"] = period_bounds(period)[2]  # "last week", "in the last 2 days": as the answer says it
        if trouble and not rows:  # "is anything broken?" of an empty home: no runs at all, not none in trouble
            asked["home_empty"] = not list_runs(self.home, limit=1)
        return {**asked, **matched, "runs": [{**{k: r[k] for k in keep},
                          **{f: round(r[f], 4) if r[f] is not None else None for f in ("probe_acc", "knn_acc")},
                          **{f: r[f] for f in TIMED if f in r},  # a sort by speed or time: its column's values
                          **({"used": r["used"]} if "used" in r else {})} for r in rows]}

    def usage_summary(self, **kw) -> dict:
        from tools.usage import disk_usage, usage

        a = UsageArgs(**kw)
        user = access.current(self.home).name if a.user == "me" else a.user
        out = disk_usage(self.home, a.by, user, a.method) if a.measure == "disk" else \
            usage(self.home, a.period, a.by, user, a.method)
        return {**out, "mine": a.user == "me"}

    def device_status(self, **kw) -> dict:
        from tools.device_status import device_status

        return {**device_status(self.home), "asked_gpu": DeviceArgs(**kw).gpu}

    def get_run(self, run_id: str, show: list[str] | None = None, metrics: list[str] | None = None,
                at_step: int | None = None, over_last_steps: int | None = None, output_lines: int = 20) -> dict:
        from tools.insights import embedding_view
        from tools.run_settings import EMBEDDINGS, asked_settings, embeddings_summary, logged_values
        from tools.runs import run_summary

        info = run_summary(self.home, run_id)
        asked = asked_settings(info, show or [], output_lines)
        if EMBEDDINGS in (show or []):  # held-out features through the exported encoder: the app draws them
            asked["embeddings"] = embeddings_summary(embedding_view(self.home, info["run_id"]))
        if metrics:
            asked["logged"] = logged_values(info, metrics, at_step, over_last_steps)
        stops = active_rules(info["run_dir"], info["config"], info["total_steps"])
        keep = ("loss", "val/perplexity", "health/std", "health/rank", "health/uniformity", "probe/acc", "knn/acc")
        return {"run_id": info["run_id"], "name": info["name"], "tags": info["tags"], "notes": info["notes"],
                "continued_from": (info["config"].get("train") or {}).get("init_from"),
                "method": info["method"], "dataset": info["dataset"],
                "status": info["status"], "message": info["message"], "steps": info["steps"],
                "total_steps": info["total_steps"], "verdict": info["verdict"], "parent_id": info["parent_id"],
                "metrics": {k: v for k, v in info["metrics"].items() if k in keep},
                "probe": {k: v for k, v in info["probe"].items() if k in ("probe/acc", "knn/acc", "baseline")
                          or k.startswith("clip/")} if info["probe"] else None,
                "recent_events": [e["message"] for e in info["events"][-5:]],
                **({"stops": stops} if stops["rules"] or stops["on_failure"] else {}), **asked}

    def annotate_run(self, run_id: str | None = None, run_ids: list[str] | None = None, **change) -> dict:
        from tools.run_notes import Annotation, tags_of
        from tools.runs import annotate

        runs = AnnotateArgs(run_id=run_id, run_ids=run_ids, **change).ids()
        asked = Annotation(**change)
        if len(runs) > 1 and asked.remove_tags:  # all or none: a tag one of them lacks stops the change before any
            from tools.registry import Registry, run_id_of

            reg = Registry(self.home)
            for rid in runs:
                lacking = [t for t in asked.remove_tags if t not in tags_of(reg.get(run_id_of(rid)))]
                if lacking:
                    raise SSLPilotError(f"run {rid} has no tag {lacking[0]!r}, so no run was changed",
                                        field="remove_tags", fix="leave that run out")
        done = [annotate(self.home, rid, asked) for rid in runs]
        out = [{"run_id": run.id, "done": asked.describe(), "name": run.name, "tags": tags_of(run),
                "notes": run.notes} for run in done]
        return out[0] if run_id else {"runs": out}

    def compare_runs(self, run_ids: list[str] | None = None, show: list[str] | None = None,
                     where: list[str] | None = None, over_last_steps: int | None = None) -> dict:
        """The runs side by side; with `where`, the runs (of `run_ids`, else of the home) whose settings pass its
        rules, the newest COMPARED_AT_MOST of them; with `over_last_steps`, how each moved over that many last steps."""
        from tools.run_settings import asked_settings, logged_values
        from tools.runs import list_runs, run_summary

        picked: dict = {}
        if where:
            rows = [r for r in list_runs(self.home, where=where, limit=100_000) if not run_ids or r["run_id"] in run_ids]
            used = {r["run_id"]: r["used"] for r in rows}
            matched = list(used)
            if len(matched) < 2:
                raise ConfigError(f"{len(matched) or 'no'} run{'' if len(matched) == 1 else 's'} "
                                  f"{'passes' if len(matched) == 1 else 'pass'} {' and '.join(where)}, and a "
                                  "comparison needs two or more", field="where",
                                  fix="loosen the rule, or name the runs (`list runs` shows them)")
            picked = {"where": where, "matched": len(matched), "used": used}
            run_ids = matched[:COMPARED_AT_MOST][::-1]  # the newest, oldest first as when named
        rows, configs, asked, probes, data = [], {}, {}, {}, set()
        for rid in run_ids or []:
            info = run_summary(self.home, rid)
            if info["probe"]:
                probes[info["run_id"]], data = info["probe"], data | {info["dataset"]}
            asked[info["run_id"]] = asked_settings(info, [k for k in show or [] if k != "config"])
            m = info["metrics"]
            rows.append({"run_id": info["run_id"], "method": info["method"], "status": info["status"],
                         "final_loss": (m.get("loss") or {}).get("last"),
                         "health_std": (m.get("health/std") or {}).get("last"),
                         "health_rank": (m.get("health/rank") or {}).get("last"),
                         "probe_acc": (info["probe"] or {}).get("probe/acc"), "verdict": info["verdict"],
                         **({"moved": logged_values(info, list(MOVED_METRICS), over_last_steps=over_last_steps)}
                            if over_last_steps else {})})
            configs[info["run_id"]] = info["config"]
        diff = config_diff(configs)
        lead = probe_lead(probes) if len(data) == 1 else None  # probes of other data do not compare
        asked = {rid: a for rid, a in asked.items() if a.get("settings") or "time" in a}  # "config" alone: the diff
        return {"runs": rows, "config_diff": diff, **picked, **({"asked": asked} if asked else {}),
                **({"config_asked": True} if "config" in (show or []) else {}),
                **({"probe_lead": lead} if lead else {}),
                **({"over_last_steps": over_last_steps} if over_last_steps else {})}

    def diagnose_run(self, run_id: str, about: list[str] | None = None) -> dict:
        from tools.diagnosis import diagnose_run

        return diagnose_run(self.home, run_id, about=about)

    def recommend_next_step(self, run_id: str, category: str | None = None, avoid: list[str] | None = None) -> dict:
        from tools.diagnosis import recommend_run

        return recommend_run(self.home, run_id, category=category, avoid=tuple(avoid or ()))

    def forecast_run(self, run_id: str, probe: bool = False) -> dict:
        from tools.diagnosis import forecast_run

        out = forecast_run(self.home, run_id, probe=probe)
        out.pop("series", None)  # the chat reads the verdict and the numbers; the UI plots the series itself
        return out

    def judge_run(self, run_id: str) -> dict:
        from tools.diagnosis import judge_run

        return judge_run(self.home, run_id)

    def rank_runs(self, run_ids: list[str], about: list[str] | None = None) -> dict:
        from tools.ranking import rank_runs

        return rank_runs(self.home, run_ids, about=about)

    def rank_checkpoints(self, run_id: str) -> dict:
        from tools.ranking import rank_checkpoints

        return rank_checkpoints(self.home, run_id)

    def search_run_logs(self, query: str, run_id: str | None = None, method: str | None = None, k: int = 5,
                        run_ids: list[str] | None = None) -> dict:
        from tools.knowledge import compact, search

        return {"results": compact(search(self.home, query, "run_logs", k, run_id, method, run_ids=run_ids))}

    def search_literature(self, query: str, method: str | None = None, k: int = 5) -> dict:
        from tools.knowledge import compact, search

        return {"results": compact(search(self.home, query, "literature", k, method=method))}

    def import_runs(self, path: str, format: str | None = None, method: str | None = None,
                    embedding_dim: int | None = None) -> dict:
        from tools.imports import import_path
        from tools.runs import run_row

        runs = import_path(self.home, path, fmt=format, method=method, embedding_dim=embedding_dim)
        return {"imported": [{k: v for k, v in run_row(r).items() if k in ("run_id", "name", "method", "status",
                                                                          "steps", "source")} for r in runs]}

    def audit_checkpoints(self, checkpoints: list[str], data: str, arch: str | None = None,
                          method: str | None = None) -> dict:
        from tools.audit import audit
        from tools.runs import run_row

        r = audit(self.home, checkpoints, data, arch=arch, method=method)  # weights only: never a full unpickle
        return {"audit_run": {k: v for k, v in run_row(r).items() if k in ("run_id", "name", "status", "source")},
                "checkpoints": len(checkpoints)}

    def resume_run(self, run_id: str) -> dict:
        from tools import runs

        r = runs.resume(self.home, run_id)
        self._start(r.id)
        return {"run_id": r.id, "status": r.status}

    # ---- LangChain wrappers ----------------------------------------------------------------------------
    def langchain_tools(self) -> list[StructuredTool]:
        """One StructuredTool per row of the tool table (tools/tool_table.py)."""
        return [StructuredTool.from_function(func=self._safe(t.name), name=t.name, description=t.description,
                                             args_schema=t.args) for t in TOOLS]

    def _safe(self, name: str) -> Callable[..., dict]:
        fn = getattr(self, name)

        def call(**kwargs) -> dict:
            try:
                return fn(**kwargs)
            except SSLPilotError as exc:  # with the fix as changed arguments, where it is one
                return {"error": str(exc), **({"fix": exc.fix, "fix_args": exc.fix_args} if exc.fix_args else {})}
            except ValidationError as exc:
                return {"error": format_validation_error(exc)}
            except (ValueError, KeyError) as exc:
                return {"error": f"{type(exc).__name__}: {exc}"}

        call.__name__ = name
        return call


def refused_arguments(errors: list[dict]) -> str:
    """Tool arguments a schema refused, each as one line naming the field, what it must be and what it got."""
    return " ".join(error_line(err) for err in errors)


def _brief_config(cfg: dict) -> dict:
    return {"method": cfg["method"], "data": cfg["data"].get("name") or cfg["data"].get("path"),
            "epochs": cfg["train"].get("epochs"), "steps": cfg["train"].get("steps"),
            "batch_size": cfg["train"]["batch_size"] or "auto", "lr": cfg["optim"].get("lr") or "default",
            "device": cfg["train"]["device"], "method_args": cfg.get("method_args", {}),
            "augment_strength": cfg["augment"]["strength"]}


ArgsT = TypeVar("ArgsT", bound=LaunchArgs)


def default_lr_words(scale: float) -> str:
    """The rate a run chooses at its start, in words (optim.lr_scale times the linear scaling rule's)."""
    return "method default x batch/256" if scale == 1 else f"{scale:g} x method default x batch/256"


def scaled_from_parent(a: ArgsT, home: Home) -> tuple[ArgsT, dict[str, str]]:
    """A follow-up's settings given as multiples of its parent's (`scale`) made values: the value the parent trained
    with (set, or chosen at its start: tools/run_settings.py) times the factor. The proposal carries the values, so
    what is confirmed is what runs; the second item says for each key where its value came from."""
    if not a.scale:
        return a, {}
    if not a.parent_run:
        raise SSLPilotError("a setting given as a multiple needs the run it is a multiple of", field="scale",
                            fix="name the run (parent_run), or give the value")
    from tools.run_settings import config_value, setting
    from tools.runs import run_summary

    info = run_summary(home, a.parent_run)
    fields, overrides, notes = {}, dict(a.overrides), {}
    for key, factor in a.scale.items():
        was = setting(info, key)
        value = was["value"]
        if key == "optim.lr" and was["how"] == "auto":  # not started: its rate is chosen at its start, so the
            _, scale = config_value(info["config"], "optim.lr_scale")  # follow-up's is that rate times the factor
            overrides["optim.lr_scale"] = factor * (scale or 1.0)
            notes["optim.lr_scale"] = f"{factor:g} x run {a.parent_run}'s rate, chosen when each run starts"
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SSLPilotError(f"run {a.parent_run}'s {key} is not known ({'not started yet' if was['how'] == 'auto' else was['how']})",
                                field="scale", fix=f"give the {key.split('.')[-1]} as a value")
        new = value * factor
        if isinstance(value, int) and key != "optim.lr":
            new = max(1, round(new))
        field = next((f for f, k in FIELD_KEYS.items() if k == key), None)
        if field:
            fields[field] = new
        else:
            overrides[key] = new
        notes[key] = f"{factor:g} x run {a.parent_run}'s {value:g}"
    return a.model_copy(update={**fields, "overrides": overrides, "scale": {}}), notes


def _waits_for(home: Home, a: LaunchArgs) -> dict:
    """The runs a launch is to wait for, checked when it is proposed (not after the user's yes), and how each
    stands; `after_any`: whether any ending will do."""
    if not a.waits_for():
        return {}
    from tools.registry import Registry
    from tools.runs import waited_on

    registry = Registry(home)
    waits = [registry.get(rid) for rid in waited_on(home, a.waits_for(), a.after_any)]
    return {"after": [{"run_id": r.id, "method": r.method, "status": r.status, "steps": r.steps,
                       "total_steps": r.total_steps} for r in waits], "after_any": a.after_any}


def _waits_of(run) -> dict:
    """What a queued run waits for, for the answer: the run ids, and whether any ending will do."""
    return {"after": run.waits_for, "after_any": bool(run.after_any)} if run.waits_for else {}
