"""The experiment registry: the only module that talks SQL.

SQLite in the home folder by default (WAL, busy timeout, retries on lock), any SQLAlchemy URL through
SSLPILOT_DB_URL. Rows index the run folders, which stay the source of truth: `sync` reads a folder
incrementally and `rebuild` recreates every row from the folders.
"""

from __future__ import annotations

import fcntl
import functools
import json
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, event, inspect, make_url, or_, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

from ssl_runtime.errors import SSLPilotError, is_full_disk
from ssl_runtime.run_folder import RunFolder
from tools import run_notes
from tools.home import Home
from tools.records import (
    SCHEMA_VERSION,
    Artifact,
    Diagnosis,
    Event,
    Experiment,
    MetricSummary,
    ProbeResult,
    Run,
    SchedulerState,
    SchemaInfo,
    now,
)
from tools.spells import spells_of

TERMINAL = ("succeeded", "failed", "diverged", "cancelled", "interrupted")
UNSUCCESSFUL = tuple(s for s in TERMINAL if s != "succeeded")  # a run waiting on one of these would never start
ACTIVE = ("queued", "running")
T = TypeVar("T")

# Each step upgrades the schema by one version; steps only add, never drop.
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE run ADD COLUMN verdict VARCHAR"],
    3: ["ALTER TABLE run ADD COLUMN dataset_cache VARCHAR"],
    4: ["ALTER TABLE run ADD COLUMN source VARCHAR"],
    5: ["ALTER TABLE run ADD COLUMN backend VARCHAR", "ALTER TABLE run ADD COLUMN job_id VARCHAR",
        "ALTER TABLE run ADD COLUMN job_state VARCHAR", "ALTER TABLE run ADD COLUMN nodes INTEGER"],
    6: ["ALTER TABLE run ADD COLUMN owner VARCHAR", "ALTER TABLE run ADD COLUMN wait_reason VARCHAR",
        "CREATE INDEX IF NOT EXISTS ix_run_owner ON run (owner)"],
    7: ["ALTER TABLE run ADD COLUMN earlier_use_json VARCHAR"],
    8: ["ALTER TABLE run ADD COLUMN after_id VARCHAR"],
    9: ["ALTER TABLE run ADD COLUMN after_any BOOLEAN"],
}


class RegistryError(SSLPilotError):
    """The database cannot be used (locked, read-only, newer schema)."""


class DiskFullError(RegistryError):
    """The disk under the database is full: nothing can be written until space is freed, and reads of what is
    stored still work (see Registry.sync)."""


# how SQLite ("database or disk is full") and PostgreSQL ("could not extend file ...: No space left on device")
# say it; SQLite says only "disk I/O error" when its shared-memory file cannot grow, so that one counts when the
# disk has under FULL_BELOW_BYTES free
DISK_FULL_WORDS = ("disk is full", "no space left", "could not extend file", "disk quota exceeded")
FULL_BELOW_BYTES = 1 << 20


def _retry_locked(fn: Callable[..., T]) -> Callable[..., T]:
    """SQLite answers 'database is locked' when a write lock cannot be upgraded; back off and retry."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        delay = 0.02
        for attempt in range(12):
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                msg = str(exc).lower()
                if "readonly" in msg or "read-only" in msg:
                    raise RegistryError("the database is read-only", field="SSLPILOT_DB_URL",
                                        fix="make the home folder and sslpilot.db writable, or point "
                                            "SSLPILOT_HOME at a writable folder") from None
                if "locked" not in msg and "busy" not in msg:
                    raise
                if attempt == 11:
                    raise RegistryError("the database stayed locked for too long", field="SSLPILOT_DB_URL",
                                        fix="stop other processes holding sslpilot.db, then retry") from None
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    return wrapper


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Registry:
    def __init__(self, home: Home, url: str | None = None):
        self.home = home
        self.url = url or home.db_url
        is_sqlite = self.url.startswith("sqlite")
        connect_args = {"timeout": 30, "check_same_thread": False} if is_sqlite else {}
        self.engine = create_engine(self.url, connect_args=connect_args)
        self.on_status_change: list[Callable[[str, str], None]] = []  # (run_id, new status)
        if is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "handle_error", self._full_disk)
        self.full: DiskFullError | None = None  # set while the database is open read-only for want of space
        try:
            self._ensure_schema()
        except DiskFullError as exc:
            self._read_only_while_full(exc)

    def _full_disk(self, context) -> None:
        """Every statement's error passes here: a full disk becomes one line naming the disk and what frees it,
        wherever the write was (a run's row, a diagnosis, a scheduled job), in place of SQLAlchemy's."""
        error = self.full or full_disk_error(str(context.original_exception), self._database_folder(), "the registry")
        if error is not None:
            raise error from None

    def _read_only_while_full(self, full: DiskFullError) -> None:
        """SQLite cannot even open a WAL database whose -shm file it cannot create, so on a full disk nothing would
        answer, not even the commands that free space (`trash empty`, `data rm`, which only read who you are). The
        file is read as it is instead (`immutable`: no -shm needed); every write raises `full`. A database server,
        or a schema this sslpilot would have to migrate, stays the error."""
        db = self._database_file()
        if db is None:
            raise full
        self.engine.dispose()
        self.engine = create_engine(f"sqlite:///file:{db}?mode=ro&immutable=1&uri=true",
                                    connect_args={"check_same_thread": False})
        self.full = full
        event.listen(self.engine, "handle_error", self._full_disk)
        try:
            version = self.schema_version()
        except Exception:  # noqa: BLE001 - not even readable: the full disk is the answer
            raise full from None
        if version != SCHEMA_VERSION:
            raise full

    def _database_file(self) -> Path | None:
        """The SQLite database file; None for a server (or SQLite in memory)."""
        url = make_url(self.url)
        if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database).expanduser().resolve()

    def _database_folder(self) -> Path | None:
        db = self._database_file()
        return db.parent if db is not None else None

    # ---- schema -------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        """Create or migrate under an exclusive file lock, so processes starting together do it once."""
        lock_path = self.home.root / ".schema.lock"
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._create_or_migrate()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @_retry_locked
    def _create_or_migrate(self) -> None:
        try:
            existing = set(inspect(self.engine).get_table_names())
        except OperationalError as exc:
            raise RegistryError(f"cannot open the database: {exc.orig}", field="SSLPILOT_DB_URL") from None
        if "run" not in existing:
            SQLModel.metadata.create_all(self.engine)
            with Session(self.engine) as s:
                s.merge(SchemaInfo(id=1, version=SCHEMA_VERSION))
                s.commit()
            return
        version = 1  # the first databases had no schema_info table
        if SchemaInfo.__tablename__ in existing:
            with Session(self.engine) as s:
                info = s.get(SchemaInfo, 1)
                version = info.version if info else 1
        if version > SCHEMA_VERSION:
            raise RegistryError(f"the database has schema v{version}, newer than this sslpilot (v{SCHEMA_VERSION})",
                                field="SSLPILOT_DB_URL", fix="upgrade sslpilot")
        if version == SCHEMA_VERSION and existing >= set(SQLModel.metadata.tables):
            return  # the common case, every tool call: two reads and no write (a write on each open took the lock)
        SQLModel.metadata.create_all(self.engine)  # new tables only; existing ones are left as they are
        with Session(self.engine) as s:
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS.get(v, []):
                    s.exec(text(stmt))
            s.merge(SchemaInfo(id=1, version=SCHEMA_VERSION))
            s.commit()

    def schema_version(self) -> int:
        with Session(self.engine) as s:
            return s.get(SchemaInfo, 1).version

    # ---- runs ---------------------------------------------------------------------------------
    @_retry_locked
    def add_run(self, folder: RunFolder, config: dict, *, priority: int = 0, experiment: str | None = None,
                parent_id: str | None = None, recommendation: dict | None = None, status: str = "queued") -> Run:
        """Index a new run folder. Its name, tags and notes come from the folder's events (tools/run_notes.py)."""
        data = config.get("data", {})
        with Session(self.engine) as s:
            exp_id = self._experiment_id(s, experiment) if experiment else None
            run = Run(id=folder.run_id, name=config.get("name"), method=config.get("method", ""),
                      dataset=str(data.get("name") or data.get("path") or ""), config_json=_dumps(config),
                      status=status, priority=priority, gpus_requested=config.get("train", {}).get("num_gpus", 1),
                      run_dir=str(folder.path), parent_id=parent_id, experiment_id=exp_id,
                      recommendation_json=_dumps(recommendation) if recommendation else None,
                      source="sslpilot")
            s.merge(run)
            s.commit()
            return s.get(Run, folder.run_id)

    def _experiment_id(self, s: Session, name: str) -> int:
        exp = s.exec(select(Experiment).where(Experiment.name == name)).first()
        if exp is None:
            exp = Experiment(name=name)
            s.add(exp)
            s.flush()
        return exp.id

    def experiment_names(self) -> dict[int, str]:
        """Each experiment's (sweep's) id and name."""
        with Session(self.engine) as s:
            return {e.id: e.name for e in s.exec(select(Experiment))}

    def datasets(self) -> list[str]:
        """Every dataset a run here trained on, as its config wrote it."""
        with Session(self.engine) as s:
            return sorted(set(s.exec(select(Run.dataset).distinct())))

    def get(self, run_id: str) -> Run:
        with Session(self.engine) as s:
            run = s.get(Run, str(run_id))
        if run is None:
            raise SSLPilotError(f"no run {run_id!r} in the registry", field="run",
                                fix="see `sslpilot runs` for the ids, or `sslpilot registry rebuild`")
        return run

    def find(self, run_id: str) -> Run | None:
        with Session(self.engine) as s:
            return s.get(Run, str(run_id))

    def forget(self, run_id: str) -> None:
        """Drop a run's rows from every table (tools/trash.py: its folder has moved to the trash)."""
        with Session(self.engine) as s:
            for table in (MetricSummary, ProbeResult, Event, Artifact, Diagnosis):
                s.exec(delete(table).where(table.run_id == str(run_id)))
            s.exec(delete(Run).where(Run.id == str(run_id)))
            s.commit()

    def list(self, status: str | Iterable[str] | None = None, method: str | None = None,
             experiment: str | None = None, limit: int = 200, owner: str | None = None,
             tag: str | None = None, verdict: Iterable[str] | None = None,
             created: tuple[float | None, float] | None = None, dataset: Iterable[str] | None = None,
             status_or_verdict: tuple[Iterable[str], Iterable[str]] | None = None) -> list[Run]:
        """Runs newest first; `created` = (start, end) keeps those created in [start, end) (start None: no bound);
        `dataset`: those whose data is one of these (a built-in's name, or a folder as its config wrote it);
        `status_or_verdict` = (statuses, verdicts): those with either (the runs in trouble: tools.runs.trouble)."""
        with Session(self.engine) as s:
            q = select(Run)
            if status_or_verdict is not None:
                statuses, verdicts = status_or_verdict
                q = q.where(or_(Run.status.in_(list(statuses)), Run.verdict.in_(list(verdicts))))
            if dataset is not None:
                q = q.where(Run.dataset.in_(list(dataset)))
            if created and created[0] is not None:
                q = q.where(Run.created_at >= created[0], Run.created_at < created[1])
            if status:
                q = q.where(Run.status.in_([status] if isinstance(status, str) else list(status)))
            if verdict:
                q = q.where(Run.verdict.in_(list(verdict)))
            if method:
                q = q.where(Run.method == method)
            if owner:
                q = q.where(Run.owner == owner)
            if tag:  # tags are stored as a JSON list of quoted words (tools/run_notes.py), so this matches whole tags
                q = q.where(Run.tags_json.contains(json.dumps(run_notes.clean_tag(tag)), autoescape=True))  # _ is no wildcard
            if experiment:
                q = q.where(Run.experiment_id == self._experiment_id(s, experiment))
            q = q.order_by(Run.created_at.desc()).limit(limit)
            return list(s.exec(q))

    def sweep(self, name: str, field: str = "sweep") -> list[Run]:
        """Every run launched in the sweep (experiment) `name`, oldest first; an error naming `field` (the argument
        that named it) when there is none."""
        runs = self.list(experiment=name, limit=10_000)
        if not runs:
            raise SSLPilotError(f"no runs in a sweep named {name!r}", field=field,
                                fix="see `sslpilot runs` for the sweep names (its `sweep` column)")
        return sorted(runs, key=lambda r: (r.created_at or 0, int(r.id) if r.id.isdigit() else 0))

    def device_use(self, since: float) -> list[tuple]:
        """(owner, device, started_at, ended_at, earlier_use_json) of the runs that held a device after `since`: only
        the columns the fair order reads, since the history is long and the queue reads it every pass."""
        with Session(self.engine) as s:
            q = select(Run.owner, Run.device, Run.started_at, Run.ended_at, Run.earlier_use_json)
            q = q.where(Run.started_at.is_not(None))
            q = q.where(Run.device.is_not(None) | (Run.earlier_use_json.is_not(None) & (Run.earlier_use_json != "[]")))
            q = q.where((Run.ended_at.is_(None)) | (Run.ended_at > since))
            return list(s.exec(q))

    def with_workers(self) -> list[Run]:
        """Runs whose worker was launched and not yet seen to exit (pid set)."""
        with Session(self.engine) as s:
            return list(s.exec(select(Run).where(Run.pid.is_not(None))))

    def cluster_runs(self) -> list[Run]:
        """Runs submitted to a cluster backend whose job has not been seen to end."""
        done = ("completed", "failed", "cancelled")
        with Session(self.engine) as s:
            q = select(Run).where(Run.job_id.is_not(None)).where(Run.backend.is_not(None))
            return [r for r in s.exec(q) if r.job_state not in done or r.status in ACTIVE]

    def queued(self) -> list[Run]:
        """The queue: highest priority first, then first come first served."""
        with Session(self.engine) as s:
            q = select(Run).where(Run.status == "queued").order_by(Run.priority.desc(), Run.created_at.asc())
            return list(s.exec(q))

    @_retry_locked
    def update(self, run_id: str, **fields: Any) -> Run:
        with Session(self.engine) as s:
            run = s.get(Run, str(run_id))
            if run is None:
                raise SSLPilotError(f"no run {run_id!r} in the registry", field="run")
            for k, v in fields.items():
                setattr(run, k, v)
            s.add(run)
            s.commit()
            s.refresh(run)
            return run

    def children(self, run_id: str) -> list[Run]:
        with Session(self.engine) as s:
            return list(s.exec(select(Run).where(Run.parent_id == str(run_id)).order_by(Run.created_at)))

    def metrics(self, run_id: str) -> dict[str, MetricSummary]:
        with Session(self.engine) as s:
            return {m.key: m for m in s.exec(select(MetricSummary).where(MetricSummary.run_id == str(run_id)))}

    def probe(self, run_id: str) -> ProbeResult | None:
        with Session(self.engine) as s:
            return s.get(ProbeResult, str(run_id))

    def events(self, run_id: str, types: Iterable[str] | None = None) -> list[Event]:
        with Session(self.engine) as s:
            q = select(Event).where(Event.run_id == str(run_id))
            if types:
                q = q.where(Event.type.in_(list(types)))
            return list(s.exec(q.order_by(Event.seq)))

    def artifacts(self, run_id: str) -> list[Artifact]:
        with Session(self.engine) as s:
            return list(s.exec(select(Artifact).where(Artifact.run_id == str(run_id))))

    # ---- diagnoses ----------------------------------------------------------------------------
    @_retry_locked
    def add_diagnosis(self, run_id: str, kind: str, verdict: str, result: dict) -> None:
        with Session(self.engine) as s:
            s.add(Diagnosis(run_id=str(run_id), kind=kind, verdict=verdict, result_json=_dumps(result)))
            if kind == "diagnosis":
                run = s.get(Run, str(run_id))
                if run is not None:
                    run.verdict = verdict
                    s.add(run)
            s.commit()

    def diagnoses(self, run_id: str, kind: str | None = None) -> list[Diagnosis]:
        with Session(self.engine) as s:
            q = select(Diagnosis).where(Diagnosis.run_id == str(run_id))
            if kind:
                q = q.where(Diagnosis.kind == kind)
            return list(s.exec(q.order_by(Diagnosis.id)))

    # ---- scheduler heartbeat ------------------------------------------------------------------
    @_retry_locked
    def scheduler_beat(self, pid: int | None, slots: dict | None = None) -> None:
        with Session(self.engine) as s:
            s.merge(SchedulerState(id=1, pid=pid, host=socket.gethostname(), heartbeat_at=now() if pid else None,
                                   slots_json=_dumps(slots or {})))
            s.commit()

    def scheduler_state(self) -> SchedulerState | None:
        with Session(self.engine) as s:
            return s.get(SchedulerState, 1)

    def scheduler_alive(self, within_s: float = 10.0) -> bool:
        st = self.scheduler_state()
        return bool(st and st.pid and st.heartbeat_at and now() - st.heartbeat_at < within_s)

    # ---- indexing run folders -----------------------------------------------------------------
    def sync(self, run_id: str) -> Run:
        """Bring the run's rows up to date with its folder (incrementally; idempotent). Two processes may index the
        same new lines at once (the worker and the queue's monitor writing events): the later insert then breaks
        the (run, seq) key, and a second pass finds those lines indexed and goes on from there."""
        try:
            for attempt in range(2):
                try:
                    return self._sync_once(run_id)
                except IntegrityError:
                    time.sleep(0.05 * (attempt + 1))
            return self._sync_once(run_id)
        except DiskFullError:
            return self._as_last_recorded(run_id)

    def _as_last_recorded(self, run_id: str) -> Run:
        """On a full disk a read still answers, from the stored row, and says it may be behind: the folder keeps
        what happened, and the first sync after space is freed catches up from where this one stopped."""
        run = self.get(run_id)  # detached: the note below is never written
        run.message = f"{run.message} (as last recorded: the registry's disk is full)".strip()
        return run

    @_retry_locked
    def _sync_once(self, run_id: str) -> Run:
        run = self.get(run_id)
        folder = RunFolder(run.run_dir)
        if not folder.path.exists():
            fields: dict[str, Any] = {"message": f"run folder missing: {folder.path}"}
            if run.status in ACTIVE:
                fields.update(status="failed", ended_at=now())
            return self.update(run.id, **fields)
        with Session(self.engine) as s:
            run = s.get(Run, run.id)
            before = run.status
            reset = self._sync_events(s, run, folder)
            self._sync_metrics(s, run, folder, reset)
            self._sync_probe(s, run, folder)
            self._sync_summary_and_artifacts(s, run, folder)
            s.add(run)
            s.commit()
            s.refresh(run)
        if run.status != before:
            for listener in self.on_status_change:
                listener(run.id, run.status)
        return run

    def _sync_events(self, s: Session, run: Run, folder: RunFolder) -> bool:
        events = folder.read_events()
        if len(events) < run.events_count:  # the folder was replaced (import, rebuild): start over
            for e in s.exec(select(Event).where(Event.run_id == run.id)):
                s.delete(e)
            run.events_count = 0
        reset = False
        if run.events_count == 0 and any(e.get("type") == "annotate" for e in events):
            run_notes.reset(run)  # replayed from the start: the folder's annotate events decide
        for seq, e in enumerate(events[run.events_count:], start=run.events_count):
            data = {k: v for k, v in e.items() if k not in ("time", "type", "message")}
            s.merge(Event(run_id=run.id, seq=seq, time=float(e.get("time", 0)), type=str(e.get("type", "")),
                          message=str(e.get("message", ""))[:2000], data_json=_dumps(data)))
            if e.get("type") in ("resume", "restart"):
                reset = True
            if e.get("type") == "owner" and e.get("user"):
                run.owner = str(e["user"])
            if e.get("type") == "after" and e.get("after_id"):
                run.after_id, run.after_any = str(e["after_id"]), bool(e.get("after_any"))
            if e.get("type") in ("diagnosis", "alert") and e.get("verdict"):  # the folder keeps the verdict too
                run.verdict = str(e["verdict"])
            if e.get("type") in ("import", "audit") and e.get("format"):
                run.source = str(e["format"])
            if e.get("type") == "status":
                self._apply_status(run, e)
            if e.get("type") == "annotate":
                run_notes.apply(run, e)
        run.events_count = len(events)
        run.earlier_use_json = _dumps([[sp.start, sp.end, sp.gpus] for sp in spells_of(events)])  # 0: a CPU slot
        return reset

    @staticmethod
    def _apply_status(run: Run, e: dict) -> None:
        status = e.get("status")
        run.status = status
        run.message = str(e.get("message", ""))[:500]
        t = float(e.get("time", now()))
        if status == "running" and (run.started_at is None or run.ended_at is not None):
            run.started_at, run.ended_at = t, None
        if status in TERMINAL:
            run.ended_at = t
        if e.get("total_steps"):
            run.total_steps = int(e["total_steps"])
        if isinstance(e.get("data"), dict) and e["data"].get("cache"):
            run.dataset_cache = str(e["data"]["cache"])

    def _sync_metrics(self, s: Session, run: Run, folder: RunFolder, reset: bool) -> None:
        path = folder.metrics
        if not path.exists():
            return
        size = path.stat().st_size
        if reset or size < run.metrics_offset:
            for m in s.exec(select(MetricSummary).where(MetricSummary.run_id == run.id)):
                s.delete(m)
            s.flush()
            run.metrics_offset = 0
        with path.open("rb") as f:
            f.seek(run.metrics_offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # only complete lines; a line being written is read next time
        rows = [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]
        run.metrics_offset += end
        if not rows:
            return
        current = {m.key: m for m in s.exec(select(MetricSummary).where(MetricSummary.run_id == run.id))}
        for row in rows:
            step = row.get("step")
            for key, value in row.items():
                v = _float(value)
                if key in ("step", "epoch") or v is None:
                    continue
                m = current.get(key)
                if m is None:
                    m = current[key] = MetricSummary(run_id=run.id, key=key, first=v, min=v, max=v)
                m.last, m.last_step, m.count = v, step, m.count + 1
                if v == v:  # NaN never becomes min or max
                    m.min = v if m.min is None or m.min != m.min else min(m.min, v)
                    m.max = v if m.max is None or m.max != m.max else max(m.max, v)
            if isinstance(step, int):
                run.steps = max(run.steps or 0, step)
        for m in current.values():
            s.merge(m)

    def _sync_probe(self, s: Session, run: Run, folder: RunFolder) -> None:
        if not folder.probe.exists():
            return
        try:
            p = json.loads(folder.probe.read_text())
        except json.JSONDecodeError:
            return
        base = p.get("baseline", {})
        s.merge(ProbeResult(run_id=run.id, probe_acc=p.get("probe/acc"), knn_acc=p.get("knn/acc"),
                            recall_at_5=p.get("knn/recall@5"), baseline_probe_acc=base.get("probe/acc"),
                            baseline_knn_acc=base.get("knn/acc"), result_json=_dumps(p)))

    def _sync_summary_and_artifacts(self, s: Session, run: Run, folder: RunFolder) -> None:
        if folder.summary.exists():
            try:
                summ = json.loads(folder.summary.read_text())
                run.total_steps = summ.get("total_steps", run.total_steps)
            except json.JSONDecodeError:
                pass
        mtimes = [p.stat().st_mtime for p in (folder.metrics, folder.events) if p.exists()]
        if mtimes:
            run.heartbeat_at = max(mtimes)
        for old in s.exec(select(Artifact).where(Artifact.run_id == run.id)):
            s.delete(old)
        s.flush()
        if folder.checkpoints.exists():
            for ck in folder.checkpoints.glob("*.pt"):
                step = int(ck.stem.split("_")[1]) if ck.stem.startswith("step_") else None
                s.add(Artifact(run_id=run.id, path=str(ck), kind="checkpoint", step=step,
                               size_bytes=ck.stat().st_size))
        if (folder.encoder / "config.json").exists():
            size = sum(p.stat().st_size for p in folder.encoder.iterdir() if p.is_file())
            s.add(Artifact(run_id=run.id, path=str(folder.encoder), kind="encoder", size_bytes=size))

    def register_folder(self, folder: RunFolder, tags: Iterable[str] = (), notes: str = "", **kwargs: Any) -> Run:
        """Index a folder that has a config.yaml (rebuild, import). Status comes from its events; `tags` and `notes`
        are written into a new folder's events, so a rebuild keeps them."""
        import yaml

        try:
            config = yaml.safe_load(folder.config.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SSLPilotError(f"{folder.path} has no readable config.yaml ({exc})", field="path") from None
        existing = self.find(folder.run_id)
        if existing is not None:
            self.update(folder.run_id, events_count=0, metrics_offset=0, run_dir=str(folder.path))
        else:
            run_notes.record_initial(folder, tags, notes)
            self.add_run(folder, config, status="queued", **kwargs)
            first = next((e["time"] for e in folder.read_events() if isinstance(e.get("time"), int | float)), None)
            if first is not None:  # when it was queued, not when it was indexed again (a rebuild, a restore)
                self.update(folder.run_id, created_at=first)
        return self.sync(folder.run_id)

    def rebuild(self) -> list[Run]:
        """Recreate every run's rows from the folders under home/runs (nothing is deleted). Admins only: the CLI
        checks (tools/access.py sits above this module)."""
        out = []
        for path in sorted(self.home.runs.iterdir(), key=lambda p: (len(p.name), p.name)):
            if (path / "config.yaml").exists():
                out.append(self.register_folder(RunFolder(path)))
        return out


@contextmanager
def full_disk_said_plainly(where: Path | None, what: str) -> Iterator[None]:
    """A full disk in a driver's own words (sqlite3's for the chat's history, Chroma's for the knowledge store) or as
    a file write's OSError becomes full_disk_error's one line; anything else is raised as it was."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as exc:
        error = full_disk_error("no space left" if is_full_disk(exc) else str(exc), where, what)
        if error is None:
            raise
        raise error from None


def full_disk_error(said: str, where: Path | None, what: str) -> DiskFullError | None:
    """The error for a database whose disk is full, or None when `said` (its driver's words) is about
    something else. `where`: the database file's folder (None for a server); `what`: whose database."""
    said = said.lower()
    free = shutil.disk_usage(where).free if where is not None and where.exists() else None
    if not (any(w in said for w in DISK_FULL_WORDS) or ("disk i/o error" in said and free is not None
                                                         and free < FULL_BELOW_BYTES)):
        return None
    if where is None:  # a database server: its disk is its administrator's to free, not the home's
        return DiskFullError(f"the database server's disk is full, so {what} cannot be written",
                             field="SSLPILOT_DB_URL", fix="free space on the database server, then retry")
    room = f" ({free / 1e6:.1f} MB free)" if free is not None else ""
    return DiskFullError(f"the disk holding {where} is full{room}, so {what} cannot be written", field="SSLPILOT_HOME",
                         fix="free space there (`sslpilot usage --disk` shows what the runs, the trash and the "
                             "dataset caches take; `sslpilot trash empty` and `sslpilot data rm NAME` free it), "
                             "then retry")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except Exception:  # noqa: BLE001 - a read-only database cannot switch mode; reads still work
        pass
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


def run_id_of(ref: str | int) -> str:
    """"17", "run 17", "#17" -> "17"."""
    return str(ref).strip().removeprefix("run").strip().lstrip("#").strip()
