"""The `sslpilot` command line (typer). Every command with --json prints exactly one JSON object on stdout;
errors exit non-zero with a one-line reason on stderr and no traceback."""

from __future__ import annotations

import functools
import json
import sys
from typing import Annotated

import typer

from agent.answers import diagnosis_text, probe_text, recommendation_text
from ssl_runtime.errors import SSLPilotError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="sslpilot: pretrain, probe and diagnose SSL encoders.")

HomeOpt = Annotated[str | None, typer.Option("--home", help="home folder (default $SSLPILOT_HOME or ./.sslpilot)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def _echo_markdown(text: str) -> None:
    """Answers are markdown (shared with the chat): rendered on a terminal, plain when piped."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        typer.echo(text)


def _emit(obj: dict, as_json: bool, human: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(obj, default=str) + "\n")
    else:
        typer.echo(human if human is not None else json.dumps(obj, indent=1, default=str))


def cli_errors(fn):
    """SSLPilotError -> 'error: ...' on stderr, exit 2. Anything else -> one line, exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SSLPilotError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
            typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


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
@cli_errors
def pretrain(
    method: Annotated[str | None, typer.Option(help="simclr, moco, byol, simsiam, dino, barlow_twins, vicreg, mae")] = None,
    data: Annotated[str | None, typer.Option(help="built-in name (digits, shapes) or a folder path")] = None,
    epochs: Annotated[int | None, typer.Option(help="epochs (or --steps)")] = None,
    steps: Annotated[int | None, typer.Option(help="optimiser steps (or --epochs)")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML/JSON config file")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. optim.lr=0.001")] = None,
    sweep: Annotated[list[str] | None, typer.Option("--sweep", help="grid over values: optim.lr=1e-3,3e-3")] = None,
    at: Annotated[str | None, typer.Option("--at", help="launch later, at an ISO time (2026-12-01T02:00)")] = None,
    cron: Annotated[str | None, typer.Option("--cron", help="launch on a cron schedule ('0 2 * * *')")] = None,
    priority: Annotated[int, typer.Option(help="higher runs first")] = 0,
    experiment: Annotated[str | None, typer.Option(help="group runs under a name")] = None,
    parent: Annotated[str | None, typer.Option(help="run this follows up on")] = None,
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
    from datetime import datetime

    from tools import runs, scheduler
    from tools.home import Home
    from tools.scheduler import add_scheduled_launch

    fields = {"method": method, "train.epochs": epochs, "train.steps": steps, "train.batch_size": batch_size,
              "train.num_gpus": gpus_per_node}
    if data is not None:
        fields["data.name" if data in ("digits", "shapes") else "data.path"] = data
    cfg = runs.resolve_config(config, [*(set_ or []), *(["train.epochs=null"] if steps is not None else [])], **fields)
    h = Home.resolve(home)
    tree = cfg.model_dump(mode="json")
    if at or cron:
        runs.validate(cfg)
        when = datetime.fromisoformat(at) if at else None
        job = add_scheduled_launch(h, tree, at=when, cron=cron, priority=priority, experiment=experiment)
        _emit(job, as_json, f"scheduled {cfg.method}: job {job['job_id']}, next at {job['next_run_time']}"
              " (runs while `sslpilot serve` is up)")
        return
    if sweep:
        made = runs.sweep(h, tree, runs.parse_sweep(sweep), experiment=experiment, priority=priority)
        out = {"runs": [{"run_id": r.id, "status": r.status, "run_dir": r.run_dir} for r in made]}
        _emit(out, as_json, "queued " + ", ".join(f"run {r.id}" for r in made))
        if wait:
            for r in made:
                scheduler.wait(h, r.id)
        return
    run = runs.enqueue(h, cfg, priority=priority, experiment=experiment, parent_id=parent, backend=backend,
                       nodes=nodes, procs_per_node=procs_per_node, time_limit_min=time_min)
    if not wait:
        scheduler.start_scheduler_if_needed(h)
        _emit({"run_id": run.id, "status": run.status, "run_dir": run.run_dir}, as_json,
              f"run {run.id} queued ({cfg.method} on {run.dataset}); follow it with `sslpilot show {run.id}`")
        return
    if not as_json:
        typer.echo(f"run {run.id}: {cfg.method} on {run.dataset} -> {run.run_dir}", err=True)
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
    _emit(out, as_json, _pretrain_text(out))
    if run.status != "succeeded":
        raise typer.Exit(3)


def _pretrain_text(out: dict) -> str:
    s = out["summary"]
    unit = "blocks" if s.get("method") in ("mlm", "clm") else "pairs" if s.get("method") == "clip" else "img"
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
@cli_errors
def probe_cmd(run: Annotated[str, typer.Argument(help="run id or run folder")], home: HomeOpt = None,
              as_json: JsonOpt = False,
              device: Annotated[str, typer.Option(help="auto, cpu, cuda")] = "auto") -> None:
    """Linear probe and kNN of a finished run's encoder, with a random-init baseline."""
    from tools import runs
    from tools.home import Home

    result = runs.probe(Home.resolve(home), run, device=device)
    _emit(result, as_json, f"run {result['run_id']}: {probe_text(result)}")


@app.command("runs")
@cli_errors
def runs_cmd(status: Annotated[str | None, typer.Option(help="filter by status")] = None,
             method: Annotated[str | None, typer.Option(help="filter by method")] = None,
             limit: int = 50, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List runs, newest first."""
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import run_row

    reg = Registry(Home.resolve(home))
    for r in reg.list(status="running"):
        reg.sync(r.id)
    rows = [run_row(r) for r in reg.list(status=status, method=method, limit=limit)]
    for row in rows:
        p = reg.probe(row["run_id"])
        row["probe_acc"] = p.probe_acc if p else None
    if as_json:
        _emit({"runs": rows}, True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "method", "data", "status", "steps", "probe", "verdict", "message")
    for r in rows:
        table.add_row(r["run_id"], r["method"], r["dataset"], r["status"],
                      f"{r['steps'] or 0}/{r['total_steps'] or '?'}",
                      f"{r['probe_acc']:.3f}" if r["probe_acc"] is not None else "", r["verdict"] or "",
                      (r["message"] or "")[:50])
    Console().print(table)


@app.command()
@cli_errors
def show(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Everything about one run: status, config, metric summaries, probe, events, artifacts."""
    from tools.home import Home
    from tools.runs import run_summary

    info = run_summary(Home.resolve(home), run)
    if as_json:
        _emit(info, True)
        return
    lines = [f"run {info['run_id']}: {info['method']} on {info['dataset']} - {info['status']}"
             f" ({info['steps'] or 0}/{info['total_steps'] or '?'} steps) {info['message']}"]
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
@cli_errors
def cancel_cmd(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
               as_json: JsonOpt = False) -> None:
    """Cancel a queued or running run (running: SIGTERM, checkpoint, then SIGKILL after a grace period)."""
    from tools.home import Home
    from tools.runs import cancel, run_row

    r = cancel(Home.resolve(home), run)
    _emit(run_row(r), as_json, f"run {r.id}: {'cancelled' if r.status == 'cancelled' else 'cancel requested'}")


@app.command("logs")
@cli_errors
def logs_cmd(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
             follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the run ends")] = False,
             job: Annotated[bool, typer.Option("--job", help="the backend's log of the job (Slurm task, Ray driver)")]
             = False) -> None:
    """A run's output: the worker's stdout.log, or with --job what its backend logged about the job."""
    import time

    from tools.home import Home
    from tools.registry import TERMINAL, Registry, run_id_of
    from tools.runs import logs

    h = Home.resolve(home)
    offset = 0
    while True:
        ended = not follow or Registry(h).sync(run_id_of(run)).status in TERMINAL  # before reading: nothing missed
        text, offset = logs(h, run, offset, job=job)
        typer.echo(text, nl=False)
        if ended:
            return
        time.sleep(1.0)


@app.command("resume")
@cli_errors
def resume_cmd(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
               wait: Annotated[bool, typer.Option("--wait/--no-wait")] = False, as_json: JsonOpt = False) -> None:
    """Queue an interrupted, cancelled or failed run to continue from its last checkpoint."""
    from tools import runs, scheduler
    from tools.home import Home

    h = Home.resolve(home)
    r = runs.resume(h, run)
    if wait:
        r = scheduler.wait(h, r.id)
    else:
        scheduler.start_scheduler_if_needed(h)
    _emit(runs.run_row(r), as_json, f"run {r.id}: {r.status}")


@app.command("import")
@cli_errors
def import_cmd(path: Annotated[str, typer.Argument(help="run logs made elsewhere: an sslpilot run folder, TensorBoard "
                                                        "event files, an mlruns folder or MLflow URI, a metrics.csv, "
                                                        "a W&B offline run folder or history CSV")],
               fmt: Annotated[str | None, typer.Option("--format", help="sslpilot|tensorboard|mlflow|csv|wandb "
                                                                        "(detected when left out)")] = None,
               run_id: Annotated[str | None, typer.Option("--run-id", help="one MLflow run")] = None,
               method: Annotated[str | None, typer.Option(help="the SSL method, where the logs do not say")] = None,
               embedding_dim: Annotated[int | None, typer.Option("--embedding-dim", help="the projection width d "
                                                                 "the logged z-std was measured on")] = None,
               name: Annotated[str | None, typer.Option(help="a name for the imported run")] = None,
               home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Register runs trained elsewhere, so they can be compared and diagnosed."""
    from tools.home import Home
    from tools.imports import import_path
    from tools.runs import run_row

    runs = import_path(Home.resolve(home), path, fmt=fmt, run_id=run_id, method=method, embedding_dim=embedding_dim,
                       name=name)
    lines = [f"imported as run {r.id} ({r.source or 'sslpilot'}, {r.method or 'method unknown'}, {r.status})"
             for r in runs]
    _emit({"runs": [run_row(r) for r in runs]}, as_json, "\n".join(lines))


@app.command("audit")
@cli_errors
def audit_cmd(checkpoints: Annotated[list[str], typer.Argument(help="checkpoints of one encoder: Lightning .ckpt, "
                                                                     ".pt/.pth/.safetensors state dicts, TorchScript "
                                                                     "files or transformers folders")],
              data: Annotated[str, typer.Option(help="held-out images (class subfolders give kNN and a probe), or "
                                                     "digits/shapes")],
              arch: Annotated[str | None, typer.Option(help="resnet18|resnet34|resnet50|resnet101|small_cnn, when "
                                                            "the keys do not say")] = None,
              method: Annotated[str | None, typer.Option(help="the SSL method it was trained with")] = None,
              image_size: Annotated[int | None, typer.Option("--image-size", help="input side (default: from the "
                                                             "architecture, 224 or 32 for CIFAR stems)")] = None,
              allow_pickle: Annotated[bool, typer.Option("--allow-pickle", help="load checkpoints that need a full "
                                                         "unpickle (runs code: only for files you trust)")] = False,
              name: Annotated[str | None, typer.Option(help="a name for the audit run")] = None,
              home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Measure encoders trained anywhere (health, kNN, linear probe); the result is a run you can diagnose."""
    from tools.audit import audit
    from tools.home import Home
    from tools.runs import run_row

    r = audit(Home.resolve(home), checkpoints, data, arch=arch, method=method, name=name, image_size=image_size,
              allow_pickle=allow_pickle)
    _emit(run_row(r), as_json, f"audit run {r.id}: {len(checkpoints)} checkpoint(s) measured; "
                               f"`sslpilot diagnose {r.id}` reads it")


@app.command("export")
@cli_errors
def export_cmd(run: Annotated[str, typer.Argument(help="run id")],
               to: Annotated[str, typer.Option(help="tensorboard or mlflow")],
               uri: Annotated[str | None, typer.Option(help="MLflow tracking URI (default MLFLOW_TRACKING_URI)")] = None,
               out: Annotated[str | None, typer.Option(help="TensorBoard log folder (default <run>/tensorboard-export)")]
               = None,
               home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Write a run's metrics to TensorBoard event files or an MLflow run (runs also log to both live)."""
    from tools.exports import export_run
    from tools.home import Home

    out_ = export_run(Home.resolve(home), run, to, uri=uri, out=out)
    _emit(out_, as_json, f"run {out_['run_id']}: {out_['rows']} rows exported to {out_['target']}")


@app.command()
@cli_errors
def diagnose(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Why a run looks the way it does: verdict, evidence from its own metrics, likely causes, citations."""
    from tools.diagnosis import diagnose_run
    from tools.home import Home

    d = diagnose_run(Home.resolve(home), run)
    if as_json:
        _emit(d, True)
        return
    _echo_markdown(diagnosis_text(d, next_step=f"For a concrete change: `sslpilot recommend {d['run_id']}`."))


@app.command()
@cli_errors
def recommend(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
              launch: Annotated[bool, typer.Option("--launch", help="queue the follow-up run now")] = False,
              as_json: JsonOpt = False) -> None:
    """What to try next: a data, model or retrieval change as a config diff (--launch queues it)."""
    from tools.diagnosis import recommend_run
    from tools.home import Home

    h = Home.resolve(home)
    rec = recommend_run(h, run)
    if launch:
        from tools.followup import launch_follow_up

        rec["follow_up"] = launch_follow_up(h, run, rec)
    if as_json:
        _emit(rec, True)
        return
    text = recommendation_text(rec, launch_with=f"`sslpilot recommend {rec['run_id']} --launch`")
    if rec.get("follow_up"):
        text += f"\nFollow-up: {rec['follow_up']}"
    _echo_markdown(text)


@app.command()
@cli_errors
def ingest(paths: Annotated[list[str], typer.Argument(help="files or folders: .md .txt .html .pdf")],
           home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Add documents to the literature collection (re-ingesting an unchanged file changes nothing)."""
    from tools.home import Home
    from tools.knowledge import get_store

    report = get_store(Home.resolve(home)).ingest(paths)
    _emit(report, as_json, f"ingested {report['files']} files ({report['chunks']} chunks), {report['unchanged']} "
          f"unchanged, {len(report['skipped'])} skipped, {report['flagged_chunks']} chunks flagged as instruction-like")


@app.command()
@cli_errors
def search(query: Annotated[str, typer.Argument(help="what to look for")],
           logs: Annotated[bool, typer.Option("--logs", help="search run logs")] = False,
           literature: Annotated[bool, typer.Option("--literature", help="search the literature (default)")] = False,
           run: Annotated[str | None, typer.Option("--run", help="only this run's logs")] = None,
           method: Annotated[str | None, typer.Option("--method", help="only this method")] = None,
           k: Annotated[int, typer.Option("-k", help="results")] = 5,
           home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Hybrid (vector + BM25) search over run logs or literature, with citations."""
    from tools import knowledge
    from tools.home import Home

    collection = "run_logs" if (logs or run) and not literature else "literature"
    hits = knowledge.search(Home.resolve(home), query, collection, k=k, run_id=run, method=method)
    if as_json:
        _emit({"query": query, "collection": collection, "results": hits}, True)
        return
    lines = []
    for h in hits:
        c = h["citation"]
        where = f"run {c['run_id']}" if c.get("run_id") else f"{c['title']} - {c.get('section') or ''}"
        lines.append(f"[{h['score']:.4f}] {where}{' (flagged)' if h['flagged'] else ''}\n    "
                     + h["text"][:300].replace("\n", " "))
    typer.echo("\n".join(lines) or "no results")


@app.command()
@cli_errors
def reindex(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild the knowledge store with the configured embedding model (after changing SSLPILOT_EMBEDDINGS)."""
    from tools.home import Home
    from tools.knowledge import reindex as do_reindex

    out = do_reindex(Home.resolve(home))
    _emit(out, as_json, "re-indexed " + ", ".join(f"{k}: {v} chunks" for k, v in out.items()))


@app.command()
@cli_errors
def chat(message: Annotated[str | None, typer.Option("--message", "-m", help="one turn, then exit")] = None,
         thread: Annotated[str | None, typer.Option("--thread", help="conversation id to continue")] = None,
         home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Talk to sslpilot: launch, diagnose, compare and search in plain words."""
    from agent.backends import describe
    from agent.session import Agent
    from tools.home import Home

    agent = Agent(Home.resolve(home))
    if message is not None:
        out = agent.chat(message, thread)
        _emit(out, as_json, out["answer"])
        return
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    thread = thread or __import__("uuid").uuid4().hex[:12]
    console.print(f"[bold]sslpilot[/bold] ({describe()}), thread {thread}. Ctrl-D to leave.")
    while True:
        try:
            text = console.input("[bold cyan]you> [/bold cyan]")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not text.strip():
            continue
        for ev in agent.stream(text, thread):  # printed as it happens
            if ev["event"] == "tool_call":
                console.print(f"[dim]-> {ev['name']} {ev['args']}[/dim]")
            elif ev["event"] == "tool_result":
                console.print(f"[dim]<- {ev['name']}: {ev['status']}[/dim]")
            elif ev["event"] == "answer":
                console.print(Markdown(ev["text"]))


@app.command()
@cli_errors
def ui(home: HomeOpt = None, port: Annotated[int, typer.Option(help="port to listen on")] = 8501,
       host: Annotated[str, typer.Option(help="address to bind; 0.0.0.0 exposes it to your network")] = "127.0.0.1",
       open_browser: Annotated[bool, typer.Option("--open/--no-open", help="open a browser tab")] = False) -> None:
    """Start the chat and dashboards (Streamlit) on http://127.0.0.1:PORT."""
    import os
    from pathlib import Path

    from tools.home import Home

    h = Home.resolve(home)
    app_file = Path(__file__).with_name("app.py")
    env = {**os.environ, "SSLPILOT_HOME": str(h.root)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.address", host,
           "--server.port", str(port), "--server.headless", str(not open_browser).lower(),
           "--browser.gatherUsageStats", "false", "--server.maxUploadSize", "10",
           "--client.toolbarMode", "minimal"]
    typer.echo(f"sslpilot UI on http://{host}:{port} (home {h.root}); Ctrl-C to stop", err=True)
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)  # become the server, so signals reach it directly


registry_app = typer.Typer(help="registry maintenance")
app.add_typer(registry_app, name="registry")


@registry_app.command("rebuild")
@cli_errors
def registry_rebuild(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Recreate the registry's rows from the run folders (nothing is deleted)."""
    from tools.home import Home
    from tools.registry import Registry

    rebuilt = Registry(Home.resolve(home)).rebuild()
    _emit({"runs": [r.id for r in rebuilt]}, as_json, f"rebuilt {len(rebuilt)} runs")


backend_app = typer.Typer(help="cluster backends: where runs go besides this machine's queue")
app.add_typer(backend_app, name="backend")


@backend_app.command("add")
@cli_errors
def backend_add(name: Annotated[str, typer.Argument(help="a name to launch with: --backend NAME")],
                kind: Annotated[str, typer.Option(help="slurm or ray")] = "slurm",
                partition: Annotated[str | None, typer.Option()] = None,
                account: Annotated[str | None, typer.Option()] = None,
                qos: Annotated[str | None, typer.Option()] = None,
                time_min: Annotated[int | None, typer.Option("--time-min", help="job time limit, minutes")] = None,
                constraint: Annotated[str | None, typer.Option()] = None,
                sbatch: Annotated[list[str] | None, typer.Option("--sbatch", help="extra sbatch option key=value")]
                = None,
                setup: Annotated[list[str] | None, typer.Option("--setup", help="shell line run before the worker")]
                = None,
                address: Annotated[str | None, typer.Option(help="Ray: the head's dashboard, http://HEAD:8265")] = None,
                max_failures: Annotated[int | None, typer.Option(help="Ray: resumes after lost nodes")] = None,
                cpus_per_proc: Annotated[float | None, typer.Option(help="Ray: CPUs reserved per rank")] = None,
                env: Annotated[list[str] | None, typer.Option("--env", help="Ray: KEY=VALUE for the job")] = None,
                python: Annotated[str | None, typer.Option(help="the Python with sslpilot on the nodes")] = None,
                home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Add or replace a backend in <home>/backends.yaml (checked with `sslpilot backend test NAME`)."""
    from tools import backends
    from tools.home import Home

    extra = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in (sbatch or []))
    env_vars = dict(kv.split("=", 1) for kv in (env or []) if "=" in kv)
    spec = backends.add(Home.resolve(home), name, kind, partition=partition, account=account, qos=qos,
                        time_min=time_min, constraint=constraint, extra=extra or None, setup=setup or None,
                        address=address, max_failures=max_failures, cpus_per_proc=cpus_per_proc,
                        env=env_vars or None, python=python)
    _emit({"name": name, **spec}, as_json, f"backend {name}: {spec}")


@backend_app.command("ls")
@cli_errors
def backend_ls(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The configured backends (local is always there)."""
    from tools import backends
    from tools.home import Home

    all_ = {"local": {"kind": "local"}, **backends.configured(Home.resolve(home))}
    _emit({"backends": all_}, as_json, "\n".join(f"{n}: {spec}" for n, spec in all_.items()))


@backend_app.command("test")
@cli_errors
def backend_test(name: Annotated[str, typer.Argument(help="backend name")], home: HomeOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Check a backend: Slurm's commands, partition and scheduler answer (nothing is submitted); Ray's address
    answers and every node sees the home (a short check job)."""
    from tools import backends
    from tools.home import Home

    backend = backends.get(Home.resolve(home), name)
    said = backend.check()
    _emit({"name": name, "ok": True, "checks": said}, as_json, f"{name}: ok ({'; '.join(said)})")


data_app = typer.Typer(help="dataset caches: decode a folder once, reuse it in every run")
app.add_typer(data_app, name="data")


class _BuildProgress:
    """A rich bar on a terminal; otherwise a line every 10% on stderr."""

    def __init__(self):
        self.bar = self.task = None
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            if self.bar is None:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

                self.bar = Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
                self.bar.start()
                self.task = self.bar.add_task("caching", total=total)
            self.bar.update(self.task, completed=done)
            if done >= total:
                self.bar.stop()
        elif done * 10 // max(total, 1) != self.last:
            self.last = done * 10 // max(total, 1)
            typer.echo(f"caching: {done}/{total} images", err=True)


def _size(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


@data_app.command("prepare")
@cli_errors
def data_prepare(path: Annotated[str, typer.Argument(help="image folder, datasets folder, .tar shard(s) or .csv/.jsonl")],
                 max_side: Annotated[int, typer.Option("--max-side", help="longest side kept (aspect kept)")] = 256,
                 fmt: Annotated[str, typer.Option("--format", help="auto (raw up to 64 px, else jpeg), raw, jpeg")] = "auto",
                 workers: Annotated[int | None, typer.Option(help="decoding processes (default: all cores)")] = None,
                 home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Build the dataset cache for PATH now, so the first run starts at once (runs build it on first use too)."""
    from tools import datasets
    from tools.home import Home

    out = datasets.prepare(Home.resolve(home), path, max_side, fmt, workers, progress=_BuildProgress(),
                           log=lambda m: typer.echo(m, err=True))
    _emit(out, as_json, f"{out['message']}\n  {out['images']} images, {_size(out['bytes'])} "
          f"({out['bytes_per_image'] / 1e3:.1f} kB per image; source {_size(out['source_bytes'])})")


@data_app.command("ls")
@cli_errors
def data_ls(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List the dataset caches in the home."""
    from tools import datasets
    from tools.home import Home

    rows = datasets.list_caches(Home.resolve(home))
    human = "\n".join(f"{r['name']}  {r['images']} images  {r['format']} <= {r['max_side']} px  {_size(r['bytes'])}"
                      f"  {r['source']}" for r in rows) or "no dataset caches yet (`sslpilot data prepare PATH`)"
    _emit({"datasets": rows}, as_json, human)


@data_app.command("show")
@cli_errors
def data_show(name: Annotated[str, typer.Argument(help="cache name from `sslpilot data ls`")], home: HomeOpt = None,
              as_json: JsonOpt = False) -> None:
    """One cache: source, settings, classes, unreadable files and the runs that used it."""
    from tools import datasets
    from tools.home import Home

    _emit(datasets.show(Home.resolve(home), name), as_json)


@data_app.command("rm")
@cli_errors
def data_rm(name: Annotated[str, typer.Argument(help="cache name from `sslpilot data ls`")], home: HomeOpt = None,
            force: Annotated[bool, typer.Option("--force", help="even if a queued or running run reads it")] = False,
            as_json: JsonOpt = False) -> None:
    """Remove a cache (finished runs keep their results; the next run on that data rebuilds it)."""
    from tools import datasets
    from tools.home import Home

    out = datasets.remove(Home.resolve(home), name, force)
    _emit(out, as_json, f"removed {name} ({_size(out['bytes'])})")


@app.command()
@cli_errors
def serve(home: HomeOpt = None, tick: Annotated[float, typer.Option(help="seconds between queue passes")] = 1.0,
          monitor: Annotated[float, typer.Option(help="diagnose running runs every N seconds (0 = off)")] = 0.0,
          stop_collapsed: Annotated[bool, typer.Option(help="with --monitor: cancel runs that collapse or diverge")]
          = False,
          detach: Annotated[bool, typer.Option("--detach", help="run in the background")] = False) -> None:
    """Run the scheduler daemon: the queue, the GPU allocator, scheduled launches, the optional monitor."""
    from tools.home import Home
    from tools.scheduler import Scheduler, spawn_daemon

    h = Home.resolve(home)
    if detach:
        typer.echo(f"scheduler started (pid {spawn_daemon(h)}), log: {h.root / 'scheduler.log'}")
        return
    sched = Scheduler(h, tick_s=tick, monitor_s=monitor, stop_collapsed=stop_collapsed)
    typer.echo(f"scheduler for {h.root}: {sched.allocator.inventory()}", err=True)
    sched.serve()


@app.command()
@cli_errors
def scheduled(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List scheduled launches."""
    from tools.home import Home
    from tools.scheduler import list_scheduled

    jobs = list_scheduled(Home.resolve(home))
    _emit({"jobs": jobs}, as_json, "\n".join(f"{j['job_id']}  {j['name']}  next {j['next_run_time']}  ({j['trigger']})"
                                             for j in jobs) or "no scheduled launches")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
