"""The Python API over runs that the CLI, the agent and the UI use: enqueue, cancel, resume, probe,
import, sweep. Validation happens here, before anything is stored. (Following a run to its end needs the
scheduler: tools.scheduler.wait.)"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssl_runtime.catalogue import data_fields
from ssl_runtime.config import RunConfig, parse_overrides, parse_value, save_config
from ssl_runtime.errors import ConfigError, SSLPilotError
from ssl_runtime.run_folder import RunFolder, read_json
from tools import access, run_notes
from tools.gpus import Allocator, Request
from tools.home import Home
from tools.launches import set_length
from tools.records import Run, now
from tools.registry import (
    ACTIVE,
    TERMINAL,
    UNSUCCESSFUL,
    DiskFullError,
    Registry,
    full_disk_error,
    full_disk_said_plainly,
    run_id_of,
)
from tools.run_settings import took


def new_folder_path(home: Home) -> Path:
    """Short sequential ids ("run 17"), claimed with an atomic mkdir so concurrent launches never collide; an id in
    the trash (deleted, even emptied) is never given again."""
    from tools.trash import taken_ids

    existing = [int(p.name) for p in home.runs.iterdir() if p.name.isdigit()] + taken_ids(home)
    n = max(existing, default=0) + 1
    while True:
        path = home.runs / str(n)
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            n += 1


def new_run_folder(home: Home, cfg: RunConfig) -> RunFolder:
    with whole_or_not_at_all(home):
        folder = RunFolder(new_folder_path(home))
    with whole_or_not_at_all(home, folder):
        folder.create()
        save_config(cfg, folder.config)
        folder.set_status("queued", "queued")
    return folder


@contextmanager
def whole_or_not_at_all(home: Home, folder: RunFolder | None = None) -> Iterator[None]:
    """A new run that the disk cannot hold leaves nothing behind: its half-written folder goes (its id was never
    registered, so a later launch may take it), and the error names the disk and the fix."""
    try:
        with full_disk_said_plainly(home.root, "a new run"):
            yield
    except DiskFullError:  # the registry's own, or a file write's: either way the launch is what failed
        if folder is not None:
            shutil.rmtree(folder.path, ignore_errors=True)
        raise full_disk_error("no space left", home.root, "a new run") from None


def validate(config: RunConfig | dict, allocator: Allocator | None = None, *, home: Home | None = None,
             backend: str | None = None) -> RunConfig:
    """Config, data source and device request checked; raises SSLPilotError naming the field. A run bound for a
    cluster `backend` is checked against that backend existing instead of this machine's devices."""
    # imported here: building a config loads the methods (torch); listing runs must stay quick
    from ssl_runtime.configure import build_config
    from ssl_runtime.data import preflight

    if backend not in (None, "local"):
        from tools.backends import get

        get(home, backend)  # a named backend that exists, before anything is stored
    cfg = config if isinstance(config, RunConfig) else build_config(config)
    preflight(cfg.data)
    if cfg.train.init_from:  # where the worker will read it, whatever its working folder
        start = Path(cfg.train.init_from).expanduser().resolve()
        if not start.is_file():
            raise ConfigError(f"train.init_from: no checkpoint at {start}", field="train.init_from",
                              fix="give a run's checkpoints/last.pt or step_<n>.pt")
        cfg.train.init_from = str(start)
    if backend in (None, "local"):
        (allocator or Allocator()).check(Request.from_config(cfg.model_dump()))
    return cfg


def placement(cfg: RunConfig, backend: str, nodes: int = 1, procs_per_node: int | None = None,
              time_limit_min: float | None = None) -> dict:
    """Where a cluster run goes (placement.json): nodes x processes per node, one per GPU by default."""
    gpus = cfg.train.num_gpus if cfg.train.device != "cpu" else 0
    return {"backend": backend, "nodes": nodes, "procs_per_node": procs_per_node or max(1, gpus),
            "gpus_per_node": gpus, "time_limit_min": time_limit_min}


def enqueue(home: Home, config: RunConfig | dict, *, priority: int = 0, experiment: str | None = None,
            parent_id: str | None = None, recommendation: dict | None = None, tags: Iterable[str] = (),
            notes: str = "", backend: str | None = None, nodes: int = 1, procs_per_node: int | None = None,
            time_limit_min: float | None = None, after: str | Iterable[str] | None = None,
            after_any: bool = False) -> Run:
    """Validate, claim a run folder and register it as queued. The scheduler daemon starts it: callers that
    want it started now call tools.scheduler.start_scheduler_if_needed. `backend` names a configured cluster
    backend (`sslpilot backend ls`); the run then goes there with `nodes` x `procs_per_node` processes
    (default: train.num_gpus per node, one process per GPU), within `time_limit_min` (default: the backend's).
    `after` names the run (or runs) this one waits on: it stays queued until they have all succeeded (Slurm's
    `--dependency=afterok`), and is cancelled if one ends any other way; with `after_any`, until they have all
    ended, however they ended (`afterany`)."""
    if time_limit_min is not None and time_limit_min <= 0:
        raise SSLPilotError(f"time limit {time_limit_min} min is not positive", field="time_limit_min")
    if backend == "local":
        backend = None
    if backend is None and time_limit_min is not None:
        raise SSLPilotError("a time limit applies to cluster runs", field="time_limit_min",
                            fix="add --backend NAME, or bound a local run with --set train.max_minutes=N")
    actor = access.require(home, "member", "launching a run")
    cfg = validate(config, home=home, backend=backend)
    waits = waited_on(home, after, after_any) if after is not None else []
    if parent_id is not None:
        parent_id = parent_of(home, parent_id)
    if backend is None:
        from tools.fairshare import check_user_limits

        check_user_limits(home, actor.name, 0 if cfg.train.device == "cpu" else cfg.train.num_gpus)
    registry = Registry(home)
    folder = new_run_folder(home, cfg)
    with whole_or_not_at_all(home, folder):
        access.record_owner(folder, actor)
        run_notes.record_initial(folder, tags, notes)
        run = registry.add_run(folder, cfg.model_dump(mode="json"), priority=priority, experiment=experiment,
                               parent_id=parent_id, recommendation=recommendation)
    if backend is not None:
        where = placement(cfg, backend, nodes, procs_per_node, time_limit_min)
        (folder.path / "placement.json").write_text(json.dumps(where))
        registry.update(run.id, backend=backend, nodes=nodes)
    if parent_id:
        folder.event("lineage", f"follow-up of run {parent_id}", parent_id=parent_id,
                     recommendation=recommendation)
    if waits:
        ending = "end" if after_any else "succeed"
        folder.event("after", f"waits for {runs_named(waits)} to {ending}", after_id=",".join(waits),
                     after_any=after_any)
    return registry.sync(run.id)


def runs_named(ids: list[str]) -> str:
    """'run 3', 'runs 3 and 4', 'runs 3, 4 and 5'."""
    if len(ids) == 1:
        return f"run {ids[0]}"
    return f"runs {', '.join(ids[:-1])} and {ids[-1]}"


def waited_on(home: Home, refs: str | Iterable[str], any_ending: bool = False) -> list[str]:
    """The ids of the runs a new run is to wait on, checked before anything is stored: each must exist and, unless
    any ending will do (`any_ending`, Slurm's afterany), may still succeed (a run that already ended otherwise would
    leave the new one waiting for ever)."""
    registry = Registry(home)
    ids = []
    for ref in [refs] if isinstance(refs, str) else refs:
        if registry.find(run_id_of(ref)) is None:
            raise SSLPilotError(f"no run {ref!r} to wait for", field="after_run",
                                fix="name a run from `sslpilot runs`, or launch without waiting")
        run = registry.sync(run_id_of(ref))
        if run.status in UNSUCCESSFUL and not any_ending:
            raise SSLPilotError(f"run {run.id} already ended {run.status}, so a run waiting for it to succeed would "
                                "never start", field="after_run",
                                fix="launch without waiting, wait for another run, or wait for any ending (after_any)")
        ids.append(run.id)
    if not ids:
        raise SSLPilotError("no run named to wait for", field="after_runs", fix="name one or more runs")
    return list(dict.fromkeys(ids))


def parent_of(home: Home, ref: str) -> str:
    """The id of the run a new run follows up on, checked before anything is stored: a lineage to a run that
    does not exist would point the diagnosis and the UI's run page at nothing."""
    run = Registry(home).find(run_id_of(ref))
    if run is None:
        raise SSLPilotError(f"no run {ref!r} to follow up on", field="parent",
                            fix="name a run from `sslpilot runs`, or leave --parent out")
    return run.id


def expand_sweep(base: dict, grid: dict[str, list[Any]]) -> list[dict]:
    """Cartesian product of `--sweep key=v1,v2` values over a base config tree. A length swept in one unit
    replaces the base's length in the other ("train.steps=20,40" over a base of 10 epochs)."""
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        tree = json.loads(json.dumps(base))
        for k, v in zip(keys, values, strict=True):
            set_length(tree, k, v, given=set(keys))
        out.append(tree)
    return out


def parse_sweep(specs: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        if "=" not in spec:
            raise SSLPilotError(f"sweep {spec!r} is not key=v1,v2", field="--sweep",
                                fix="write e.g. --sweep optim.lr=1e-3,3e-3")
        key, values = spec.split("=", 1)
        items = [v.strip() for v in values.split(",")]
        if not key.strip() or "" in items:  # "optim.lr=" or "optim.lr=0.1," would run the default unasked
            raise SSLPilotError(f"sweep {spec!r} has an empty key or value", field="--sweep",
                                fix="write every value, e.g. --sweep optim.lr=1e-3,3e-3")
        grid[key.strip()] = [parse_value(v) for v in items]
    sweep_size(grid, field="--sweep")
    return grid


MAX_SWEEP = 64


def sweep_size(grid: dict[str, list[Any]], field: str = "grid", bases: int = 1) -> int:
    """How many runs the grid makes over `bases` base configs (one per method compared); refused past MAX_SWEEP, or
    with a key that has no value, or with no grid over a single base (that is one run, not a sweep)."""
    if not grid and bases < 2 or any(not values for values in grid.values()):
        raise SSLPilotError("a sweep needs at least one setting with values", field=field,
                            fix="e.g. optim.lr=1e-3,3e-3")
    n = bases
    for v in grid.values():
        n *= len(v)
    if n > MAX_SWEEP:
        raise SSLPilotError(f"the sweep has {n} runs; the limit is {MAX_SWEEP}", field=field)
    return n


def sweep_configs(base: dict | list[dict], grid: dict[str, list[Any]]) -> list[dict]:
    """Every combination of the grid over the base config (or over each of several: methods compared, each with
    its own defaults), each validated before anything is stored."""
    bases = [base] if isinstance(base, dict) else base
    sweep_size(grid, bases=len(bases))
    trees = [t for b in bases for t in expand_sweep(b, grid)]
    for t in trees:
        validate(t)
    return trees


def sweep_name() -> str:
    return f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"


def sweep(home: Home, base: dict | list[dict], grid: dict[str, list[Any]], experiment: str | None = None,
          priority: int = 0, tags: Iterable[str] = (), after: str | Iterable[str] | None = None,
          after_any: bool = False) -> list[Run]:
    trees = sweep_configs(base, grid)
    experiment = experiment or sweep_name()
    return [enqueue(home, t, priority=priority, experiment=experiment, tags=["sweep", *tags], after=after,
                    after_any=after_any) for t in trees]


def find_run(home: Home, ref: str | int) -> RunFolder:
    """A run by id ("17", "run 17", "#17") or by folder path."""
    text = str(ref).strip().removeprefix("run").strip().lstrip("#").strip()
    candidate = home.runs / text
    if text and candidate.is_dir():
        return RunFolder(candidate)
    path = Path(str(ref)).expanduser()
    if (path / "config.yaml").exists():
        return RunFolder(path)
    raise SSLPilotError(f"no run {ref!r} in {home.runs}", field="run", fix="see `sslpilot runs` for the ids")


def cancel(home: Home, ref: str, grace_s: float | None = None) -> Run:
    registry = Registry(home)
    run = registry.sync(run_id_of(ref))
    actor = access.require_owner(home, run, "cancelling a run")
    folder = RunFolder(run.run_dir)
    if run.status in TERMINAL:
        raise SSLPilotError(f"run {run.id} already ended ({run.status}); there is nothing to cancel", field="run")
    from tools.backends import Handle, get
    from tools.backends.local import handle_of

    job = Handle.load(run.run_dir) if run.backend and run.job_id else None  # a cluster job
    if run.status == "queued":
        if job is not None:  # pending in the cluster's queue: take it out
            get(home, run.backend).cancel(job, pending=True)
        folder.event("cancel", f"cancelled by {actor.name}", user=actor.name)
        folder.set_status("cancelled", "cancelled before it started")
        return registry.sync(run.id)
    registry.update(run.id, cancel_requested_at=now())
    folder.event("cancel", f"cancel requested by {actor.name}: SIGTERM sent, the worker checkpoints and stops",
                 user=actor.name)
    if job is not None:
        get(home, run.backend).cancel(job)
    elif run.pid:
        get(home, "local").cancel(handle_of(run.run_dir, run.pid, run.host))
    return registry.get(run.id)


def annotate(home: Home, ref: str, change: run_notes.Annotation) -> Run:
    """Rename, tag, untag or add a note to a run: its owner (or an admin) may. Removing a tag the run does not
    have is an error that names the tags it has, so a typo is not a silent no-op."""
    registry = Registry(home)
    run = registry.sync(run_id_of(ref))
    actor = access.require_owner(home, run, "annotating a run")
    missing = [t for t in change.remove_tags if t not in run_notes.tags_of(run)]
    if missing:
        has = ", ".join(run_notes.tags_of(run)) or "none"
        raise SSLPilotError(f"run {run.id} has no tag {missing[0]!r} (its tags: {has})", field="remove_tags")
    run_notes.record(RunFolder(run.run_dir), change, actor.name)
    return registry.sync(run.id)


def logs(home: Home, ref: str, offset: int = 0, job: bool = False) -> tuple[str, int]:
    """A run's output after `offset` and the offset to read from next: the worker's stdout.log (rank 0), or with
    job=True what its backend keeps about the job (submitit's task log on Slurm, the driver's log on Ray)."""
    from tools.backends import Handle, get, read_from

    run = Registry(home).sync(run_id_of(ref))
    if not job:
        return read_from(RunFolder(run.run_dir).stdout, offset)
    handle = Handle.load(run.run_dir)
    if handle is None:
        raise SSLPilotError(f"run {run.id} has no job yet ({run.status})", field="run",
                            fix="leave out --job for the worker's own output")
    return get(home, handle.backend).logs(handle, offset)


def resume(home: Home, ref: str) -> Run:
    registry = Registry(home)
    run = registry.sync(run_id_of(ref))
    actor = access.require_owner(home, run, "resuming a run")
    folder = RunFolder(run.run_dir)
    if run.status in ACTIVE:
        raise SSLPilotError(f"run {run.id} is {run.status}; only ended runs can be resumed", field="run")
    if run.status == "succeeded":
        raise SSLPilotError(f"run {run.id} already finished", field="run",
                            fix=f"continue it from its final weights: \"train run {run.id} for 500 more steps\" in the "
                                f"chat, or a new launch with --set train.init_from={folder.last_checkpoint}")
    if not folder.has_checkpoint():
        raise SSLPilotError(f"run {run.id} has no checkpoint to resume from", field="run",
                            fix="launch it again; lower train.checkpoint_every to keep progress next time")
    if _still_exiting(home, run):
        raise SSLPilotError(f"run {run.id} is {run.status}, but its worker is still exiting", field="run",
                            fix="resume it again in a few seconds")
    folder.event("resume_request", f"resume requested by {actor.name}", user=actor.name)
    folder.set_status("queued", f"resume requested by {actor.name}")
    registry.sync(run.id)
    cluster = {"job_id": None, "job_state": None} if run.backend else {}  # submitted again, as a new job
    return registry.update(run.id, resume_requested=True, cancel_requested_at=None, pid=None, device=None, **cluster)


def _still_exiting(home: Home, run: Run) -> bool:
    """The worker (or cluster job) that ended this run has said how, but not yet exited: a resume now would put two
    workers on one folder. Asked of the backend itself, so it holds with no queue daemon running."""
    from tools.backends import Handle, get
    from tools.backends.local import handle_of

    try:
        if run.backend and run.job_id:
            return get(home, run.backend).state(Handle.load(run.run_dir)) in ("pending", "running")
        if run.pid:
            return get(home, "local").state(handle_of(run.run_dir, run.pid, run.host)) == "running"
    except Exception:  # noqa: BLE001 - a backend that cannot say (sacct down): as before this check
        return False
    return False


def import_run(home: Home, path: str | Path) -> Run:
    """Copy a run folder made elsewhere into the home under a new id and index it."""
    actor = access.require(home, "member", "importing runs")
    src = Path(path).expanduser().resolve()
    if not (src / "config.yaml").exists():
        raise SSLPilotError(f"{src} is not a run folder (no config.yaml)", field="path")
    if src.parent == home.runs.resolve():
        raise SSLPilotError(f"{src} is already in this home", field="path", fix="use `sslpilot registry rebuild`")
    dest = new_folder_path(home)  # claimed atomically, like a launch: two imports at once get two ids
    try:
        shutil.copytree(src, dest, dirs_exist_ok=True)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    folder = RunFolder(dest)
    folder.event("import", f"imported from {src} by {actor.name}", source=str(src))
    access.record_owner(folder, actor)
    registry = Registry(home)
    run = registry.register_folder(folder, tags=["imported"], notes=f"imported from {src}")
    if run.status in ACTIVE:  # a copy of a live run cannot be running here
        folder.set_status("interrupted", "imported while it was still running elsewhere")
        run = registry.sync(run.id)
    return run


def run_summary(home: Home, run_id: str) -> dict:
    """Everything known about one run, as plain data (for `show`, the agent and the UI)."""
    registry = Registry(home)
    run = registry.sync(run_id_of(run_id))
    metrics = {k: {"first": m.first, "last": m.last, "min": m.min, "max": m.max, "last_step": m.last_step}
               for k, m in registry.metrics(run.id).items()}
    probe = registry.probe(run.id)
    summary = read_json(RunFolder(run.run_dir).summary)
    return {
        **run_row(run),
        "config": json.loads(run.config_json),
        "metrics": metrics,
        "probe": json.loads(probe.result_json) if probe else None,
        "summary": summary,
        "events": [{"time": e.time, "type": e.type, "message": e.message} for e in registry.events(run.id)][-30:],
        "artifacts": [{"kind": a.kind, "path": a.path, "step": a.step, "size_bytes": a.size_bytes}
                      for a in registry.artifacts(run.id)],
        "children": [c.id for c in registry.children(run.id)],
    }


VERDICT_GROUPS = {"collapsed": ("complete_collapse", "dimensional_collapse")}
"""A word for several verdicts, as people filter by them ("which runs collapsed?")."""
TROUBLE_STATUSES = ("failed", "diverged")


def trouble() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The runs in trouble ("are any runs failing?"), as (statuses, verdicts): those that ended failed or diverged,
    and those whose last diagnosis found a failure (the live monitor's alerts: a collapse, a divergence, no
    learning), running or not."""
    from tools.diagnosis.diagnose import ALERT_VERDICTS

    return TROUBLE_STATUSES, ALERT_VERDICTS


def verdicts_named(verdict: str) -> tuple[str, ...]:
    """The verdicts a filter names: one verdict, or a group; anything else is an error naming the choices."""
    from tools.diagnosis.diagnose import VERDICTS

    if verdict in VERDICT_GROUPS:
        return VERDICT_GROUPS[verdict]
    if verdict not in VERDICTS:
        raise SSLPilotError(f"no verdict {verdict!r}", field="verdict",
                            fix=f"one of {', '.join((*VERDICT_GROUPS, *VERDICTS))}")
    return (verdict,)


def run_row(run: Run) -> dict:
    return {"run_id": run.id, "name": run.name, "method": run.method, "dataset": run.dataset,
            "status": run.status, "device": run.device, "steps": run.steps, "total_steps": run.total_steps,
            "created_at": run.created_at, "started_at": run.started_at, "ended_at": run.ended_at,
            "parent_id": run.parent_id, "retries": run.retries, "message": run.message, "verdict": run.verdict,
            "run_dir": run.run_dir, "tags": run_notes.tags_of(run), "source": run.source or "sslpilot",
            "backend": run.backend, "job_id": run.job_id, "job_state": run.job_state, "nodes": run.nodes,
            "owner": run.owner, "wait_reason": run.wait_reason, "notes": run.notes}


def dataset_spellings(reg: Registry, dataset: str) -> list[str]:
    """How the registry may hold `dataset`: a built-in's name as is; a folder as each run's config wrote it, so
    "./data/products" finds runs launched from elsewhere with its absolute path, and the other way round."""
    if "name" in data_fields(dataset):
        return [dataset]
    want = Path(dataset).expanduser().resolve()
    return [d for d in reg.datasets() if "path" in data_fields(d) and Path(d).expanduser().resolve() == want]


@dataclass(frozen=True)
class RunSort:
    """An order of a runs list other than newest first (W&B's runs table sorted by a summary column): the row's
    value it reads, which end comes first, how the answer says it, and the column it adds (the probe is always
    shown). Runs without the value come last, newest first among them."""

    key: str
    highest_first: bool
    said: str
    column: str | None
    every_run_has: bool = False  # every run has the value (its creation time): none comes last for want of it
    logged: bool = False  # a metric the run logs ('+health/rank'): its last value, from the registry's summaries


SORTS: dict[str, RunSort | None] = {
    "newest": None,
    "oldest": RunSort("created_at", False, "oldest first", None, every_run_has=True),
    "probe": RunSort("probe_acc", True, "best linear probe first", None),
    "knn": RunSort("knn_acc", True, "best kNN accuracy first", "knn"),
    "fastest": RunSort("samples_per_s", True, "fastest first, in images a second while training", "images/s"),
    "slowest": RunSort("samples_per_s", False, "slowest first, in images a second while training", "images/s"),
    "longest": RunSort("wall_time_s", True, "longest training time first", "time"),
    "shortest": RunSort("wall_time_s", False, "shortest training time first", "time"),
}
TIMED = ("samples_per_s", "wall_time_s")
"""A finished run's speed and training time, from its summary.json (a run still going has neither yet)."""


SETTING_SORT = re.compile(r"^([+-])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)$")
"""An order by a setting, as W&B's API writes one: '-optim.lr' highest first, '+train.batch_size' lowest first."""
METRIC_SORT = re.compile(r"^([+-])((?:[A-Za-z_][\w@.-]*/)+[\w@.-]+|loss|grad_norm)$")
"""An order by a logged metric's last value, as W&B sorts by a summary column: '+health/rank' lowest first."""


def run_sort(sort: str) -> RunSort | None:
    """How a runs list is ordered: one of SORTS, a setting (SETTING_SORT) or a logged metric (METRIC_SORT), its value
    shown in its own column."""
    if sort in SORTS:
        return SORTS[sort]
    m = SETTING_SORT.match(sort or "") or METRIC_SORT.match(sort or "")
    if not m:
        raise ConfigError(f"cannot sort runs by {sort!r}", field="sort",
                          fix=f"use one of {', '.join(SORTS)}, a setting: -optim.lr (highest first), "
                              "+train.batch_size (lowest first), or a logged metric: +health/rank, -loss")
    highest = m.group(1) == "-"
    return RunSort(m.group(2), highest, f"{'highest' if highest else 'lowest'} `{m.group(2)}` first", None,
                   logged=m.re is METRIC_SORT)


def sort_cell(sort: str, row: dict) -> str:
    """The value a runs table shows in the column its order adds ("" where the run has none)."""
    by = SORTS.get(sort)
    value = row.get(by.key) if by else None
    if value is None:
        return ""
    return took(value) if by.key == "wall_time_s" else f"{value:.0f}" if by.key == "samples_per_s" else f"{value:.3f}"


def checked_filters(status: str | None, method: str | None) -> tuple[str | None, str | None]:
    """A status and a method as the registry spells them ("Succeeded", "SimCLR", "barlow-twins" read as meant), or
    a clear error: a filter no run can match would answer "no runs match" to a typo."""
    from ssl_runtime.catalogue import canonical, check_method

    if status is not None:
        status = status.strip().lower()
        if status not in ACTIVE + TERMINAL:
            raise SSLPilotError(f"no run status {status!r}", field="status", fix=f"use one of {', '.join(ACTIVE + TERMINAL)}")
    if method is not None:
        method = canonical(method) or check_method(method.strip().lower())
    return status, method


def list_runs(home: Home, status: str | None = None, method: str | None = None, limit: int = 50,
              owner: str | None = None, tag: str | None = None, verdict: str | None = None,
              experiment: str | None = None, period: str | None = None, sort: str = "newest",
              where: list[str] | None = None, dataset: str | None = None,
              metrics: list[str] | None = None, in_trouble: bool = False) -> list[dict]:
    """The runs view every front end shows (CLI, chat, UI): newest first, live runs re-read from their folders
    first, each with its probe and kNN accuracy and the sweep (experiment) it was launched in. `period` ("today",
    "last week", "2d", a date: tools.usage.period_bounds) keeps the runs created in it; `dataset` the runs on that
    data (a built-in's name or a folder); `sort` orders them (SORTS);
    `where` keeps the runs whose settings, or measured results ("probe/acc>0.95"), pass each rule ("optim.lr>0.01":
    tools/run_filters.py), each row with the values it was judged on; `metrics` ("loss", "health/rank") adds each
    run's last logged value of them, from the registry's metric summaries (W&B's summary columns)."""
    from tools.run_filters import RESULTS, parse_rule
    from tools.run_settings import setting
    from tools.usage import period_bounds

    status, method = checked_filters(status, method)
    by = run_sort(sort)
    by_setting = by.key if by and sort not in SORTS and not by.logged else None  # "-train.batch_size": a column
    if by and by.logged:  # "+health/rank": each run's last value of the metric, a column
        metrics = list(dict.fromkeys([*(metrics or []), by.key]))
    rules = [parse_rule(w) for w in where or []]
    reg = Registry(home)
    rows = []
    verdicts = verdicts_named(verdict) if verdict else None
    sweeps = reg.experiment_names()
    start, end, _ = period_bounds(period)
    every = by or rules  # a sort or a rule reads every run
    for run in reg.list(status=status, method=method, limit=100_000 if every else limit, owner=owner, tag=tag,
                        verdict=verdicts, experiment=experiment, created=(start, end),
                        dataset=dataset_spellings(reg, dataset) if dataset else None,
                        status_or_verdict=trouble() if in_trouble else None):
        if run.status in ("queued", "running"):
            run = reg.sync(run.id)
        used = {}
        p = reg.probe(run.id)
        info = {**run_row(run), "config": json.loads(run.config_json),
                "summary": read_json(RunFolder(run.run_dir).summary)} if rules or by_setting else {}
        if rules:
            measured = {"probe_acc": p.probe_acc if p else None, "knn_acc": p.knn_acc if p else None}
            used = {r.key: ({"how": "absent" if measured[RESULTS[r.key]] is None else "measured",
                             "value": measured[RESULTS[r.key]]} if r.key in RESULTS else setting(info, r.key))
                    for r in rules}
            if not all(used[r.key]["how"] != "absent" and r.holds(used[r.key]["value"]) for r in rules):
                continue
        if by_setting:
            used[by_setting] = setting(info, by_setting)
        values = {k: v["value"] for k, v in used.items()}
        if metrics:  # the registry's summary of each logged metric, kept in step with the run's folder by sync
            logged = reg.metrics(run.id)
            values.update({k: logged[k].last if k in logged else None for k in metrics})
        timed = {}
        if by and by.key in TIMED:
            summary = read_json(RunFolder(run.run_dir).summary) or {}
            timed = {k: summary.get(k) if isinstance(summary.get(k), (int, float)) else None for k in TIMED}
        rows.append({**run_row(run), "experiment": sweeps.get(run.experiment_id), "probe_acc": p.probe_acc if p else None,
                     "knn_acc": p.knn_acc if p else None, **timed,
                     **({"used": values} if values else {})})
    if by_setting and rows and all(r["used"][by_setting] is None for r in rows):
        raise ConfigError(f"no run here has a setting {by_setting!r}", field="sort",
                          fix="name a dotted setting the runs have, e.g. -optim.lr or +train.batch_size "
                              "(`sslpilot show RUN` lists a run's)")
    if by and by.logged and rows and all(r["used"][by.key] is None for r in rows):
        raise ConfigError(f"no run here has logged {by.key!r}", field="sort",
                          fix="name a metric the runs log, e.g. +health/rank or -loss (`sslpilot show RUN` lists a "
                              "run's metrics)")
    if by:
        sign = -1.0 if by.highest_first else 1.0  # stable: newest first among equals

        def value(r: dict):
            v = r["used"][by.key] if by_setting or by.logged else r[by.key]
            return v if isinstance(v, int | float) and not isinstance(v, bool) else None

        rows.sort(key=lambda r: (value(r) is None, sign * (value(r) or 0.0)))
    return rows[:limit]


def probe(home: Home, ref: str, device: str = "auto", eval_overrides: dict | None = None,
          sets: list[str] | None = None) -> dict:
    """Linear probe + kNN of a finished run (optionally with other retrieval or sampling settings: `eval_overrides`,
    or the CLI's `eval.key=value` pairs in `sets`); the registry is updated."""
    from ssl_runtime.probe import probe_run

    if sets:
        tree = parse_overrides(sets)
        other = sorted(k for k in tree if k != "eval")
        if other or not isinstance(tree.get("eval"), dict):
            raise ConfigError(f"a probe takes eval.* settings only, not {', '.join(other) or sets[0]}", field="--set",
                              fix="write e.g. --set eval.max_images=20000 or --set eval.time_budget_s=60")
        eval_overrides = {**(eval_overrides or {}), **tree["eval"]}
    access.require(home, "member", "probing a run")
    folder = find_run(home, ref)
    result = probe_run(folder.path, device=device, eval_overrides=eval_overrides or None)
    registry = Registry(home)
    if registry.find(folder.run_id):
        registry.sync(folder.run_id)
    return result


def result(run: Run) -> dict:
    """What a finished run produced: status, folder, summary.json with probe.json folded in."""
    folder = RunFolder(run.run_dir)
    summary = json.loads(folder.summary.read_text()) if folder.summary.exists() else {}
    if folder.probe.exists():
        summary["probe"] = json.loads(folder.probe.read_text())
    return {"run_id": run.id, "status": run.status, "run_dir": run.run_dir, "summary": summary}
