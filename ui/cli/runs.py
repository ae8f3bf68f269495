"""`sslpilot pretrain | probe | runs | usage | show | cancel | stop-when | logs | resume`: a run's life on the command
line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent.answers import probe_text, value_cell
from ssl_runtime.catalogue import BUILTIN_DATASETS, item_unit, prose
from ssl_runtime.errors import SSLPilotError
from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


class _Progress:
    """Rich progress bar on a terminal, plain lines otherwise (on stderr when stdout carries JSON)."""

    def __init__(self, total_hint: int | None, quiet_stdout: bool):
        self.rich = sys.stderr.isatty() and not quiet_stdout
        self.err = quiet_stdout
        self._bar = None
        self._task = None

    def __enter__(self):
        if self.rich:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
            self._bar.__enter__()
        return self

    def __call__(self, row: dict) -> None:
        info = " ".join(f"{k}={v:.4g}" for k, v in row.items()
                        if k in ("loss", "health/std", "health/rank", "samples_per_s") and isinstance(v, float))
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("training", total=row["total_steps"], info="")
            self._bar.update(self._task, completed=row["step"], info=info)
        else:
            typer.echo(f"step {row['step']}/{row['total_steps']} {info}", err=self.err)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)


@app.command()
def pretrain(
    method_word: Annotated[str | None, typer.Argument(metavar="[METHOD]", help="the method, as --method, e.g. "
                                                      "`sslpilot pretrain dino --data digits`")] = None,
    method: Annotated[str | None, typer.Option(help=prose())] = None,
    data: Annotated[str | None, typer.Option(help=f"built-in name ({', '.join(BUILTIN_DATASETS)}) or a folder path")]
    = None,
    epochs: Annotated[int | None, typer.Option(help="epochs (or --steps)")] = None,
    steps: Annotated[int | None, typer.Option(help="optimiser steps (or --epochs)")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML/JSON config file")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. optim.lr=0.001")] = None,
    sweep: Annotated[list[str] | None, typer.Option("--sweep", help="grid over values: optim.lr=1e-3,3e-3; method=simclr,byol compares methods, each with its own defaults")] = None,
    at: Annotated[str | None, typer.Option("--at", help="launch later, at an ISO time (2026-12-01T02:00)")] = None,
    cron: Annotated[str | None, typer.Option("--cron", help="launch on a cron schedule ('0 2 * * *')")] = None,
    priority: Annotated[int, typer.Option(help="higher runs first")] = 0,
    experiment: Annotated[str | None, typer.Option(help="group runs under a name")] = None,
    name: Annotated[str | None, typer.Option(help="the run's name")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="a tag to find the run by (repeatable)")] = None,
    parent: Annotated[str | None, typer.Option(help="run this follows up on")] = None,
    after: Annotated[list[str] | None, typer.Option(help="wait for this run (repeatable: for all of them): start "
                                                         "once it has succeeded (cancelled if it ends otherwise)")]
    = None,
    after_any: Annotated[bool, typer.Option("--after-any", help="with --after: start once the runs have ended, "
                                            "however they ended (Slurm's afterany)")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="follow the run to its end")] = True,
    backend: Annotated[str | None, typer.Option(help="a cluster backend from `sslpilot backend ls` (default: "
                                                     "this machine's queue)")] = None,
    nodes: Annotated[int, typer.Option(help="nodes, on a cluster backend")] = 1,
    gpus_per_node: Annotated[int | None, typer.Option("--gpus-per-node", help="GPUs per node (one process each)")]
    = None,
    procs_per_node: Annotated[int | None, typer.Option("--procs-per-node", help="processes per node on a CPU-only "
                                                       "cluster")] = None,
    time_min: Annotated[float | None, typer.Option("--time-min", help="time limit on a cluster, minutes (Slurm: "
                                                   "then requeued; Ray: then stopped with a checkpoint)")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a pretraining run (and, with --wait, follow it to its end; labelled data is probed at the end)."""
    from tools import runs, scheduler
    from tools.launches import launch_config
    from tools.scheduler import add_scheduled_launch

    if method_word and method and method_word.lower() != method.lower():
        raise SSLPilotError(f"two methods: {method_word} and --method {method}", field="method",
                            fix="give the method once, as the first word or as --method")
    method = method or method_word

    def config_of(method: str | None) -> dict:
        return launch_config(method=method, data=data, epochs=epochs, steps=steps, batch_size=batch_size,
                             num_gpus=gpus_per_node, sets=set_, config_file=config)

    tree = config_of(method)
    if name:
        tree["name"] = name
    tags = tag or []
    method = tree["method"]
    h = the_home()
    if after_any and not after:
        raise SSLPilotError("--after-any needs the runs to wait for", field="after_any", fix="add --after RUN")
    if (at or cron) and after:
        raise SSLPilotError("a scheduled launch starts at its time, not after another run", field="after",
                            fix="give --at/--cron or --after, not both")
    if at or cron:
        runs.validate(tree)
        when = scheduler.launch_time(at) if at else None
        job = add_scheduled_launch(h, tree, at=when, cron=cron, priority=priority, experiment=experiment, tags=tags)
        emit(job, as_json, f"scheduled {method}: job {job['job_id']}, next at {job['next_run_time']}"
              " (runs while `sslpilot serve` is up)")
        return
    if sweep:
        grid = runs.parse_sweep(sweep)
        methods = grid.pop("method", None)  # methods compared: each its own config, with its own defaults
        made = runs.sweep(h, [config_of(str(m)) for m in methods] if methods else tree, grid, experiment=experiment,
                          priority=priority, tags=tags, after=after, after_any=after_any)
        out = {"runs": [{"run_id": r.id, "status": r.status, "run_dir": r.run_dir} for r in made]}
        emit(out, as_json, "queued " + ", ".join(f"run {r.id}" for r in made))
        if wait:
            for r in made:
                scheduler.wait(h, r.id)
        return
    run = runs.enqueue(h, tree, priority=priority, experiment=experiment, parent_id=parent, backend=backend,
                       nodes=nodes, procs_per_node=procs_per_node, time_limit_min=time_min, tags=tags, after=after,
                       after_any=after_any)
    if not wait:
        scheduler.start_scheduler_if_needed(h)
        emit({"run_id": run.id, "status": run.status, "run_dir": run.run_dir}, as_json,
              f"run {run.id} queued ({method} on {run.dataset}); follow it with `sslpilot show {run.id}`")
        return
    if not as_json:
        typer.echo(f"run {run.id}: {method} on {run.dataset} -> {run.run_dir}", err=True)
    try:
        with _Progress(None, quiet_stdout=as_json) as progress:
            run = scheduler.wait(h, run.id, progress=progress)
    except KeyboardInterrupt:
        runs.cancel(h, run.id)
        typer.echo(f"run {run.id}: stopping (checkpoint kept); continue with `sslpilot resume {run.id}`", err=True)
        raise typer.Exit(130) from None
    if run.status == "failed":
        typer.echo(f"error: {run.message} (run {run.id})", err=True)
        raise typer.Exit(2)
    out = runs.result(run)
    emit(out, as_json, _pretrain_text(out))
    if run.status != "succeeded":
        raise typer.Exit(3)


def _pretrain_text(out: dict) -> str:
    s = out["summary"]
    unit = item_unit(s.get("method"))
    batch = f"batch {s['batch_size']}, " if s.get("batch_size") else ""
    lines = [f"run {out['run_id']} {out['status']}: {s.get('message', '')} ({s.get('steps')} steps, {batch}"
             f"{s.get('wall_time_s', 0):.1f}s, {s.get('samples_per_s', 0):.0f} {unit}/s on {s.get('device')})"]
    if s.get("batch_size_note"):
        lines.append(f"  {s['batch_size_note']}")
    final, d = s.get("final", {}), s.get("embedding_dim")
    if "health/std" in final and d:
        lines.append(f"  health: std {final['health/std']:.4f} (isotropic ~{1 / d ** 0.5:.4f}), "
                     f"RankMe {final.get('health/rank', 0):.1f} of {d}")
    if "val/perplexity" in final:
        lines.append(f"  held-out perplexity {final['val/perplexity']:.1f}")
    if s.get("probe"):
        lines.append("  " + probe_text(s["probe"]))
    lines.append(f"  folder: {out['run_dir']}")
    return "\n".join(lines)


@app.command("probe")
def probe_cmd(run: Annotated[str, typer.Argument(help="run id or run folder")], home: HomeOpt = None,
              as_json: JsonOpt = False,
              device: Annotated[str, typer.Option(help="auto, cpu, cuda")] = "auto",
              set_: Annotated[list[str] | None, typer.Option(
                  "--set", help="eval setting, e.g. eval.max_images=20000 (more images: a smaller error)")] = None,
              ) -> None:
    """Linear probe and kNN of a finished run's encoder, with a random-init baseline."""
    from tools import runs

    result = runs.probe(the_home(), run, device=device, sets=set_)
    emit(result, as_json, f"run {result['run_id']}: {probe_text(result)}")


@app.command("runs")
def runs_cmd(status: Annotated[str | None, typer.Option(help="filter by status")] = None,
             method: Annotated[str | None, typer.Option(help="filter by method")] = None,
             data: Annotated[str | None, typer.Option(help="only runs on this data: a built-in's name or a "
                                                      "folder")] = None,
             user: Annotated[str | None, typer.Option(help="only this user's runs")] = None,
             tag: Annotated[str | None, typer.Option(help="only runs with this tag")] = None,
             experiment: Annotated[str | None, typer.Option(help="only the runs of this sweep (experiment)")] = None,
             since: Annotated[str | None, typer.Option(help="only runs created in a period: today, yesterday, this "
                                                      "week, last week, 24h, 7d, or since a date (2026-11-20)")] = None,
             sort: Annotated[str, typer.Option(help="newest (default); probe or knn: by accuracy, best first; fastest "
                                               "or slowest: by images/s; longest or shortest: by training "
                                               "time; a setting: -optim.lr (highest first), +train.batch_size "
                                               "(lowest first); or a logged metric's last value: +health/rank, "
                                               "-loss")] = "newest",
             where: Annotated[list[str] | None, typer.Option(help="only runs whose settings pass KEY OP VALUE, e.g. "
                                                             "'optim.lr>0.01' (repeatable)")] = None,
             metric: Annotated[list[str] | None, typer.Option(help="add each run's last value of this logged metric "
                                                              "as a column, e.g. loss or health/rank "
                                                              "(repeatable)")] = None,
             trouble: Annotated[bool, typer.Option("--trouble", help="only runs in trouble: ended failed or "
                                                   "diverged, or last diagnosed with a failure")] = False,
             limit: int = 50, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List runs, newest first (or best first by probe or kNN, by speed or by training time), with who launched
    each."""
    from tools import access
    from tools.metric_words import metric_key
    from tools.runs import list_runs, run_sort, sort_cell

    rows = list_runs(the_home(), status=status, method=method, limit=limit, owner=user.lower() if user else None,
                     tag=tag, experiment=experiment, period=since, sort=sort, where=where, dataset=data,
                     metrics=[metric_key(m) for m in metric or []], in_trouble=trouble)
    if as_json:
        emit({"runs": rows}, True)
        return
    if not rows:
        filtered = any((status, method, data, user, tag, experiment, since, where))
        typer.echo("No runs in trouble: none failed or diverged, and no diagnosis found a failure." if trouble and
                   not filtered else "No runs match those filters." if filtered or trouble else "No runs yet: `sslpilot pretrain --help` starts one.")
        return
    from rich.console import Console
    from rich.table import Table

    by = run_sort(sort)
    cells = {"id": [r["run_id"] for r in rows], "name": [(r["name"] or "")[:24] for r in rows],
             "user": [r["owner"] or "" for r in rows], "method": [r["method"] or "" for r in rows],
             "data": [r["dataset"] or "" for r in rows], "status": [r["status"] for r in rows],
             "steps": [f"{r['steps'] or 0}/{r['total_steps'] or '?'}" for r in rows],
             "probe": [f"{r['probe_acc']:.3f}" if r["probe_acc"] is not None else "" for r in rows],
             **({by.column: [sort_cell(sort, r) for r in rows]} if by and by.column else {}),  # the order's own
             "verdict": [(r["verdict"] or "").replace("_", " ") for r in rows], "tags": [" ".join(r["tags"]) for r in rows],
             "sweep": [r["experiment"] or "" for r in rows],
             **{key: [value_cell((r.get("used") or {}).get(key)) for r in rows] for key in (rows[0].get("used") or {})},
             "message": [(r["wait_reason"] if r["status"] == "queued" and r["wait_reason"] else r["message"] or "")[:60]
                         for r in rows]}
    # the columns no row fills are left out (the user column while every run is yours), and a narrow terminal
    # shortens the message first, then cuts the other cells with an ellipsis rather than breaking words
    me = access.current(the_home()).name
    shown = [k for k, v in cells.items() if (k not in ("name", "tags", "sweep") or any(v)) and (
        k != "user" or set(v) - {"", me})]
    widths = _fit({k: max([len(k), *map(len, cells[k])]) for k in shown}, Console().width,
                  whole=tuple(rows[0].get("used") or {}))
    table = Table()
    for k, width in widths.items():
        table.add_column(k, no_wrap=True, overflow="ellipsis", width=width)
    for i in range(len(rows)):
        table.add_row(*(cells[k][i] for k in widths))
    Console().print(table)


WHOLE = ("id", "method", "status", "steps", "probe", "knn")  # what tells runs apart is never cut
SPARE = ("message", "tags", "sweep", "user", "name", "data", "verdict")  # a terminal too narrow for every column: these go first


def _fit(natural: dict[str, int], width: int, whole: tuple[str, ...] = ()) -> dict[str, int]:
    """Column widths for a terminal `width` wide: the key columns (and `whole`: the values asked for) whole, the
    others cut (to no less than 6) in turn, the spare ones first, and left out when even that does not fit."""
    whole = (*WHOLE, *whole)
    cols = dict(natural)
    room = lambda: width - 3 * len(cols) - 1  # noqa: E731 - borders and padding: 3 a column, 1 more
    for spare in SPARE:
        if sum(min(w, 6) if k not in whole else w for k, w in cols.items()) <= room():
            break
        cols.pop(spare, None)
    for k in sorted((k for k in cols if k not in whole), key=lambda k: SPARE.index(k) if k in SPARE else -1):
        excess = sum(cols.values()) - room()
        if excess <= 0:
            break
        cols[k] = max(min(6, cols[k]), cols[k] - excess)
    return cols


@app.command("usage")
def usage_cmd(period: Annotated[str | None, typer.Option(help="today, yesterday, this week, last week, this month, "
                                                          "last month, 24h, 7d, 2w or a date (since then)")] = None,
              by: Annotated[str, typer.Option(help="user, method, dataset, status or run")] = "method",
              user: Annotated[str | None, typer.Option(help="only this user's runs")] = None,
              method: Annotated[str | None, typer.Option(help="only this method's runs")] = None,
              disk: Annotated[bool, typer.Option("--disk", help="bytes on disk now instead (runs, trash, dataset "
                                                 "caches)")] = False,
              home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """GPU-hours and CPU-hours used, per user, method, dataset, status or run, over a period (--disk: the space the
    runs take now)."""
    from agent.answers import usage_text
    from tools.usage import disk_usage, usage

    who = user.lower() if user else None
    out = disk_usage(the_home(), by, who, method) if disk else usage(the_home(), period, by, who, method)
    emit(out, as_json, usage_text(out))


@app.command()
def show(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None, as_json: JsonOpt = False,
         config: Annotated[bool, typer.Option("--config", help="print its config, and what it chose for each "
                                              "setting left to auto")] = False) -> None:
    """Everything about one run: status, time, metric summaries, probe, events (--config: its config)."""
    from tools.run_settings import asked_settings, time_text
    from tools.runs import run_summary

    info = run_summary(the_home(), run)
    asked = asked_settings(info, ["time", *(["config"] if config else [])])
    if as_json:
        emit({**info, **asked}, True)
        return
    if config:
        import yaml

        typer.echo(yaml.safe_dump(asked["config"], sort_keys=False).rstrip())
        typer.echo("# chosen by the run at its start (auto or unset above):")
        typer.echo("\n".join(f"#   {k}: {v}" for k, v in asked["chosen"].items()) or "#   (not started yet)")
        return
    named = f" ({info['name']})" if info["name"] else ""
    lines = [f"run {info['run_id']}{named}: {info['method']} on {info['dataset']} - {info['status']}"
             f" ({info['steps'] or 0}/{info['total_steps'] or '?'} steps) {info['message']}"]
    if info["tags"]:
        lines.append(f"  tags: {', '.join(info['tags'])}")
    lines += [f"  note: {line}" for line in (info["notes"] or "").splitlines()]
    if info["owner"]:
        lines.append(f"  owner: {info['owner']}")
    if asked["time"].get("wall_s") is not None:
        lines.append(f"  time: {time_text(asked['time'])}")
    if info["status"] == "queued" and info["wait_reason"]:
        lines.append(f"  {info['wait_reason']}")
    for key in ("loss", "val/perplexity", "health/std", "health/rank", "health/uniformity", "grad_norm"):
        m = info["metrics"].get(key)
        if m:
            lines.append(f"  {key:18s} first {m['first']:.4g}  last {m['last']:.4g}  min {m['min']:.4g}  max {m['max']:.4g}")
    if info["probe"]:
        lines.append(f"  {probe_text(info['probe'])}")
    for e in info["events"][-8:]:
        lines.append(f"  [{e['type']}] {e['message']}")
    lines.append(f"  folder: {info['run_dir']}")
    typer.echo("\n".join(lines))


@app.command("cancel")
def cancel_cmd(runs: Annotated[list[str] | None, typer.Argument(help="run ids")] = None,
               experiment: Annotated[str | None, typer.Option("--experiment", help="every run of this sweep still "
                                                              "queued or running")] = None,
               home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel queued or running runs (running: SIGTERM, checkpoint, then SIGKILL after a grace period)."""
    from tools.registry import ACTIVE, Registry
    from tools.runs import cancel, run_row

    h = the_home()
    ids = list(runs or [])
    if experiment:
        ids += [r.id for r in Registry(h).sweep(experiment, "--experiment") if r.status in ACTIVE and r.id not in ids]
        if not ids:
            raise SSLPilotError(f"no run of sweep {experiment!r} is queued or running: nothing to cancel",
                                field="--experiment")
    if not ids:
        raise SSLPilotError("name the runs to cancel", field="runs", fix="e.g. `sslpilot cancel 17`, or "
                            "`sslpilot cancel --experiment NAME` for a sweep")
    done = [cancel(h, rid) for rid in ids]
    emit([run_row(r) for r in done] if len(done) > 1 else run_row(done[0]), as_json, "\n".join(
        f"run {r.id}: {'cancelled' if r.status == 'cancelled' else 'cancel requested'}" for r in done))


@app.command("stop-when")
def stop_when_cmd(run: Annotated[str, typer.Argument(help="run id")],
                  rule: Annotated[str | None, typer.Argument(help="METRIC OP VALUE: 'loss<0.5', 'health/rank<=4', "
                                                                  "'step>=2000', 'epoch>=20', 'minutes>=90'; or a "
                                                                  "plateau: 'loss stops falling for 500 steps'")] = None,
                  on_failure: Annotated[bool, typer.Option("--on-failure", help="stop it, with a checkpoint, if it "
                                                           "collapses or diverges")] = False,
                  home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Stop a queued or running run later, when RULE is met at a logging step (it then ends as succeeded, with its
    checkpoint, encoder and probe), or with --on-failure if the queue's monitor finds it failing."""
    from tools.stopping import apply, propose

    h = the_home()
    p = propose(h, run, rule=rule, on_failure=on_failure)
    apply(h, p.run.id, str(p.rule) if p.rule else None, on_failure=p.rule is None)
    what = f"when {p.rule} ({p.note})" if p.rule else "if it collapses or diverges"
    emit({"run_id": p.run.id, "rule": str(p.rule) if p.rule else None, "on_failure": p.rule is None, "now": p.note},
         as_json, f"run {p.run.id} stops {what}")


@app.command("logs")
def logs_cmd(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
             follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the run ends")] = False,
             job: Annotated[bool, typer.Option("--job", help="the backend's log of the job (Slurm task, Ray driver)")]
             = False) -> None:
    """A run's output: the worker's stdout.log, or with --job what its backend logged about the job."""
    import time

    from tools.registry import TERMINAL, Registry, run_id_of
    from tools.runs import logs

    h = the_home()
    offset = 0
    while True:
        ended = not follow or Registry(h).sync(run_id_of(run)).status in TERMINAL  # before reading: nothing missed
        text, offset = logs(h, run, offset, job=job)
        typer.echo(text, nl=False)
        if ended:
            return
        time.sleep(1.0)


@app.command("resume")
def resume_cmd(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
               wait: Annotated[bool, typer.Option("--wait/--no-wait")] = False, as_json: JsonOpt = False) -> None:
    """Queue an interrupted, cancelled or failed run to continue from its last checkpoint."""
    from tools import runs, scheduler

    h = the_home()
    r = runs.resume(h, run)
    if wait:
        r = scheduler.wait(h, r.id)
    else:
        scheduler.start_scheduler_if_needed(h)
    emit(runs.run_row(r), as_json, f"run {r.id}: {r.status}")
