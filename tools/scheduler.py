"""The scheduler daemon (`sslpilot serve`): APScheduler drives the dispatcher and fires scheduled launches.

Scheduled launches (a date or a cron expression) live in APScheduler's SQLAlchemy job store inside the
registry database, so they survive restarts. One scheduler per home, guarded by a lock file; its
heartbeat in the registry tells clients whether one is running.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from ssl_runtime import settings
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.gpus import Allocator
from tools.home import Home
from tools.queue import Dispatcher, QueuePolicy
from tools.records import Run
from tools.registry import TERMINAL, Registry

logging.getLogger("apscheduler").setLevel(logging.ERROR)  # a skipped overlapping tick is not news


class SchedulerBusy(SSLPilotError):
    """Another scheduler holds this home's lock."""


def _job_stores(registry: Registry) -> dict:
    return {"default": SQLAlchemyJobStore(engine=registry.engine, tablename="apscheduler_jobs"),
            "local": MemoryJobStore()}


class Scheduler:
    def __init__(self, home: Home, tick_s: float = 1.0, allocator: Allocator | None = None,
                 policy: QueuePolicy | None = None, monitor_s: float = 0.0, stop_collapsed: bool = False,
                 index_runs: bool = True, warm: bool = False):
        self.home = home
        self.warm = warm  # a long-lived daemon keeps a warm launcher; a one-off scheduler would only pay for it
        self.registry = Registry(home)
        self.allocator = allocator or Allocator()
        self.dispatcher = Dispatcher(self.registry, self.allocator, policy or QueuePolicy())
        self.index_runs = index_runs and settings.get("SSLPILOT_INDEX_RUNS") != "0"
        if self.index_runs:
            self.registry.on_status_change.append(self._index_run)
        self.dispatcher.on_ended.append(self._diagnose_ended)
        self.tick_s = tick_s
        self.monitor_s = monitor_s
        self.stop_collapsed = stop_collapsed
        self._lock_file = None
        self._stop = threading.Event()
        self._failing: dict[str, str | None] = {}  # what failed at its last try, and how (see _say_failed)
        self.aps: BackgroundScheduler | None = None

    def acquire(self) -> None:
        path = self.home.root / "scheduler.lock"
        f = path.open("a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            st = self.registry.scheduler_state()
            raise SchedulerBusy(f"a scheduler already runs for {self.home.root} (pid {st.pid if st else '?'})",
                                field="serve") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._lock_file = f

    def _index_run(self, run_id: str, status: str) -> None:
        """Keep run_logs current: index a run whenever its status changes (never fatal)."""
        try:
            from tools.knowledge import index_run

            index_run(self.home, run_id)
        except Exception as exc:  # noqa: BLE001
            print(f"run_logs indexing of run {run_id} failed: {exc}", file=sys.stderr, flush=True)

    def _diagnose_ended(self, run_id: str) -> None:
        from tools.diagnosis import diagnose_ended

        diagnose_ended(self.home, run_id, index=self.index_runs)

    def _tick(self) -> None:
        try:
            self.dispatcher.tick()
            self.registry.scheduler_beat(os.getpid(), self.allocator.inventory())
        except Exception as exc:  # noqa: BLE001 - one bad tick must not stop the daemon
            self._say_failed("scheduler tick", exc)
        else:
            self._say_failed("scheduler tick", None)

    def _say_failed(self, what: str, exc: Exception | None) -> None:
        """A failure once, not once a second: a full disk fails every tick until space is freed. Its end is said
        too, so a log that shows the failure also shows that it passed."""
        said = f"{type(exc).__name__}: {exc}" if exc is not None else None
        before = self._failing.get(what)
        if said is not None and said != before:
            print(f"{what} failed: {said}" + (" (said once while it lasts)" if before is None else ""),
                  file=sys.stderr, flush=True)
        elif said is None and before is not None:
            print(f"{what} works again", file=sys.stderr, flush=True)
        self._failing[what] = said

    def start(self) -> None:
        self.acquire()
        if self.warm:
            self.dispatcher.local.prewarm()  # imports torch once in the background; later launches fork from it
        self.aps = BackgroundScheduler(jobstores=_job_stores(self.registry),
                                       job_defaults={"coalesce": True, "misfire_grace_time": 24 * 3600})
        self.aps.add_job(self._tick, "interval", seconds=self.tick_s, id="dispatch", jobstore="local",
                         max_instances=1, next_run_time=datetime.now())
        if self.monitor_s > 0:
            self.aps.add_job(self._monitor, "interval", seconds=self.monitor_s, id="monitor", jobstore="local",
                             max_instances=1)
        self.aps.start()

    def _monitor(self) -> None:
        from tools.access import SYSTEM, acting_as
        from tools.diagnosis import STOP_VERDICTS, monitor_tick

        try:
            with acting_as(SYSTEM):
                alerts = list(monitor_tick(self.home, stop_on=STOP_VERDICTS if self.stop_collapsed else ()))
            for alert in alerts:
                print(f"alert: run {alert['run_id']} {alert['verdict']}", file=sys.stderr, flush=True)
        except Exception as exc:  # noqa: BLE001
            self._say_failed("monitor", exc)
        else:
            self._say_failed("monitor", None)

    def stop(self) -> None:
        self._stop.set()
        if self.aps is not None:
            self.aps.shutdown(wait=True)  # let a running tick finish, so its heartbeat cannot follow ours
            self.aps = None
            try:  # a worker that exited since the last tick is closed now (`pretrain --wait` stops right after it)
                self.dispatcher.reap()
            except Exception as exc:  # noqa: BLE001
                print(f"final reap failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        self.registry.scheduler_beat(None)
        for proc in self.dispatcher.local.procs.values():
            proc.poll()  # collect exit codes of finished workers (no zombies); live ones keep running
        if self.dispatcher.local.warm is not None:
            self.dispatcher.local.warm.close()
            self.dispatcher.local.warm = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def serve(self, until: Callable[[], bool] | None = None) -> None:
        """Run until SIGTERM/SIGINT (daemon), or until `until()` is true (inline, for `pretrain --wait`)."""
        self.start()
        if until is None and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self._stop.set())
        try:
            while not self._stop.is_set():
                if until is not None and until():
                    break
                self._stop.wait(0.2)
        finally:
            self.stop()


# ---- starting the daemon and following runs --------------------------------------------------------

def start_scheduler_if_needed(home: Home) -> None:
    """Queued work needs the daemon; start it unless one is alive or SSLPILOT_AUTOSTART=0 (you run
    `sslpilot serve` yourself, e.g. under systemd)."""
    if settings.get("SSLPILOT_AUTOSTART") == "0" or Registry(home).scheduler_alive():
        return
    spawn_daemon(home)


REAP_GRACE_S = 10.0


def wait(home: Home, run_id: str, progress: Callable[[dict], None] | None = None, poll_s: float = 0.5,
         timeout_s: float | None = None) -> Run:
    """Follow a run to its end. Runs the scheduler inline when none is running for this home."""
    registry = Registry(home)
    run = registry.get(run_id)
    folder = RunFolder(run.run_dir)
    state = {"offset": 0}
    started = time.time()

    def finished() -> bool:
        if progress is not None:
            _tail_metrics(folder, state, progress)
        if timeout_s is not None and time.time() - started > timeout_s:
            raise SSLPilotError(f"run {run_id} did not finish within {timeout_s}s", field="--wait")
        r = registry.get(run_id)
        if r.status not in TERMINAL:
            return False
        if not r.pid:  # reaped: the scheduler closed its worker (and stored the run's verdict)
            return True
        if _worker_alive(r):
            state.pop("gone", None)
            return False
        # the worker is gone: a scheduler reaps it within a tick; past the grace nobody will, so stop waiting
        return time.time() - state.setdefault("gone", time.time()) > REAP_GRACE_S

    if not registry.scheduler_alive():
        try:
            # inline: no run_logs indexing here (it would slow the command); searches index what they miss
            # its monitor too: a run's stop on a failure (monitor.on_failure, "stop it if it collapses") holds here
            Scheduler(home, tick_s=poll_s, index_runs=False,
                      monitor_s=settings.get_float("SSLPILOT_MONITOR_S")).serve(until=finished)
        except SchedulerBusy:
            pass
    while not finished():
        time.sleep(poll_s)
    return registry.sync(run_id)


def _worker_alive(run: Run) -> bool:
    """The worker may still be probing or exporting after its final status."""
    import psutil

    if not run.pid:
        return False
    try:
        p = psutil.Process(run.pid)
        return p.status() != psutil.STATUS_ZOMBIE and any(run.run_dir in part for part in p.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _tail_metrics(folder: RunFolder, state: dict, progress: Callable[[dict], None]) -> None:
    if not folder.metrics.exists():
        return
    with folder.metrics.open("rb") as f:
        f.seek(state["offset"])
        chunk = f.read()
    end = chunk.rfind(b"\n") + 1
    if not end:
        return
    state["offset"] += end
    if not state.get("total"):  # read events.jsonl once it is known, not on every poll
        state["total"] = next((e["total_steps"] for e in reversed(folder.read_events()) if e.get("total_steps")), None)
    total = state["total"]
    for line in chunk[:end].splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "loss" in row or "health/std" in row:
            progress({**row, "total_steps": total or row.get("step", 0)})


# ---- scheduled launches (the job store keeps them across restarts) ---------------------------------

def fire_scheduled_launch(home_root: str, config: dict, priority: int = 0, experiment: str | None = None,
                          tags: list[str] | None = None, owner: str | None = None) -> str:
    """Called by APScheduler at the scheduled time: enqueue the run as the user who scheduled it (their role is
    checked again now: a removed or demoted user's schedule launches nothing)."""
    from tools.access import Actor, acting_as, local_actor
    from tools.accounts import Accounts
    from tools.runs import enqueue

    home = Home.resolve(home_root)
    accounts = Accounts(home)
    if owner is None or not accounts.any():
        actor = local_actor(home) if owner is None else Actor(owner, "admin", "open")
    else:
        user = accounts.get(owner)
        actor = Actor(owner, user.role if user else "viewer", "system")
    with acting_as(actor):
        run = enqueue(home, config, priority=priority, experiment=experiment, tags=[*(tags or []), "scheduled"])
    return run.id


CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab's order: 0 (and 7) is Sunday


def cron_trigger(cron: str) -> CronTrigger:
    """A crontab line as cron reads it. APScheduler 3's `from_crontab` passes the day-of-week field through to its own
    numbering, where 0 is Monday, so "0 3 * * 1" (Mondays, to cron) fired on Tuesdays and "1-5" on Tuesday to
    Saturday; the days are written out by name first ("mon", "mon,tue,wed,thu,fri"), which both read alike."""
    fields = cron.split()
    if len(fields) == 5 and fields[4] != "*":
        fields[4] = ",".join(CRON_DAYS[d] for d in sorted(_cron_days(fields[4])))
    return CronTrigger.from_crontab(" ".join(fields))


def _cron_days(field: str) -> set[int]:
    """The days (0 = Sunday) a crontab day-of-week field names: numbers 0-7 or names, lists, ranges and steps."""
    def day(word: str) -> int:
        word = word.lower()[:3]
        if word.isdigit() and 0 <= int(word) <= 7:
            return int(word) % 7
        if word in CRON_DAYS:
            return CRON_DAYS.index(word)
        raise ValueError(f"day of week {word!r}: give 0-7 or mon..sun")

    out: set[int] = set()
    for item in field.split(","):
        span, _, step = item.partition("/")
        first, _, last = span.partition("-")
        lo, hi = (0, 6) if span == "*" else (day(first), day(last) if last else day(first))
        if last and last.isdigit() and int(last) == 7:
            hi = 7  # "5-7": Friday to Sunday
        out |= {d % 7 for d in range(lo, hi + 1, int(step) if step else 1)}
    return out


def launch_time(text: str) -> datetime:
    """A scheduled launch's time as the user wrote it (ISO, local time unless it names a zone), refused when it
    cannot be read or has passed: a past time would be fired at once or dropped, neither what was asked."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SSLPilotError(f"cannot read the time {text!r}", field="at",
                            fix="give an ISO time, e.g. 2026-12-01T02:00 (local) or 2026-12-01T02:00+00:00") from None
    return not_passed(at)


def not_passed(at: datetime) -> datetime:
    """`at`, if it is still to come (a time without a zone is this machine's local time, as APScheduler reads it)."""
    now = datetime.now(at.tzinfo) if at.tzinfo else datetime.now()
    if at <= now:
        raise SSLPilotError(f"{at.isoformat(timespec='minutes')} has already passed (it is now "
                            f"{now.isoformat(timespec='minutes')})", field="at",
                            fix="give a time still to come, or launch now")
    return at


def add_scheduled_launch(home: Home, config: dict, at: datetime | None = None, cron: str | None = None,
                         priority: int = 0, experiment: str | None = None, tags: list[str] | None = None) -> dict:
    from tools.access import require

    actor = require(home, "member", "scheduling a run")
    if (at is None) == (cron is None):
        raise SSLPilotError("give a time or a cron expression", field="schedule",
                            fix="e.g. --at 2026-12-01T02:00 or --cron '0 2 * * *'")
    if at is not None:
        not_passed(at)
    try:
        trigger = DateTrigger(run_date=at) if at else cron_trigger(cron)
    except ValueError as exc:
        raise SSLPilotError(f"bad schedule: {exc}", field="cron" if cron else "at") from None
    registry = Registry(home)
    aps = BackgroundScheduler(jobstores=_job_stores(registry))
    aps.start(paused=True)  # paused: the job is written to the store, nothing runs here
    try:
        job = aps.add_job("tools.scheduler:fire_scheduled_launch", trigger,
                          args=[str(home.root), config, priority, experiment, list(tags or []) or None, actor.name],
                          name=f"launch {config.get('method')} for {actor.name}",
                          misfire_grace_time=24 * 3600, coalesce=True)
        out = {"job_id": job.id, "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
               "trigger": str(trigger)}
    finally:
        aps.shutdown(wait=False)
    return out


def list_scheduled(home: Home) -> list[dict]:
    registry = Registry(home)
    store = SQLAlchemyJobStore(engine=registry.engine, tablename="apscheduler_jobs")
    aps = BackgroundScheduler(jobstores={"default": store})
    aps.start(paused=True)
    try:
        return [{"job_id": j.id, "name": j.name, "next_run_time": j.next_run_time.isoformat() if j.next_run_time
                 else None, "trigger": str(j.trigger)} for j in aps.get_jobs(jobstore="default")]
    finally:
        aps.shutdown(wait=False)


def spawn_daemon(home: Home) -> int:
    """Start `python -m tools.scheduler` detached, logging to home/scheduler.log; returns its pid."""
    log = (home.root / "scheduler.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "tools.scheduler", "--home", str(home.root)], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                            cwd=os.getcwd())
    registry = Registry(home)
    deadline = time.time() + 20
    while time.time() < deadline and not registry.scheduler_alive():
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    return proc.pid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.scheduler")
    ap.add_argument("--home", default=None)
    ap.add_argument("--tick", type=float, default=settings.get_float("SSLPILOT_TICK_S"))
    ap.add_argument("--monitor", type=float, default=settings.get_float("SSLPILOT_MONITOR_S"))
    ap.add_argument("--stop-collapsed", action="store_true")
    args = ap.parse_args(argv)
    try:
        sched = Scheduler(Home.resolve(args.home), tick_s=args.tick, monitor_s=args.monitor, warm=True,
                          stop_collapsed=args.stop_collapsed)
        print(json.dumps({"event": "scheduler_start", "pid": os.getpid(), "home": str(sched.home.root),
                          "devices": sched.allocator.inventory()}), flush=True)
        sched.serve()
    except SSLPilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

