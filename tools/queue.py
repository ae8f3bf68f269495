"""The dispatcher: starts queued runs on free devices, watches workers, cancels, reaps and retries.

Each run is a separate worker process (`python -m ssl_runtime run DIR`, or torchrun for several GPUs)
in its own session, with stdout/stderr in the run folder, so killing the scheduler never kills a run and
a new scheduler adopts the workers it finds alive.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ssl_runtime.run_folder import RunFolder
from tools.backends.local import LocalBackend, handle_of
from tools.gpus import Allocator, Request, device_keys
from tools.pruning import prune_sweeps
from tools.records import Run, now
from tools.registry import TERMINAL, UNSUCCESSFUL, Registry
from tools.runs import runs_named


@dataclass
class QueuePolicy:
    cancel_grace_s: float = 30.0  # SIGTERM first (checkpoint), SIGKILL after this long
    max_retries: int = 2  # a dead worker is resumed from its last checkpoint this many times


@dataclass
class Dispatcher:
    registry: Registry
    allocator: Allocator
    policy: QueuePolicy = field(default_factory=QueuePolicy)
    local: LocalBackend = field(default_factory=LocalBackend)  # keeps the workers this dispatcher started
    on_ended: list[Callable[[str], None]] = field(default_factory=list)  # run id, once its worker or job is over

    def tick(self) -> None:
        """One pass: reap finished or dead workers, escalate cancels, start what fits, refresh indexes, stop sweeps'
        weak runs at their rungs."""
        self.reap()
        self.escalate_cancels()
        waiting = self.hold_waiting()
        self.submit_cluster_runs(waiting)
        self.watch_cluster_runs()
        self.dispatch(waiting)
        for run in self.registry.list(status="running"):
            self.registry.sync(run.id)
        prune_sweeps(self.registry)  # a sweep's weak runs stopped at their rungs (tools/pruning.py)

    # ---- starting -------------------------------------------------------------------------------
    def busy(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for run in self.registry.with_workers():  # a finished run may still be probing on its device
            for key in device_keys(run.device):
                counts[key] = counts.get(key, 0) + 1
        return counts

    # ---- cluster backends (tools/backends) -----------------------------------------------------------
    def submit_cluster_runs(self, waiting: set[str] | None = None) -> list[str]:
        """Queued runs bound for a cluster go to its scheduler at once: its queue, not ours, decides when."""
        import json

        from ssl_runtime.errors import SSLPilotError
        from tools.backends import get

        submitted = []
        waiting = self.hold_waiting() if waiting is None else waiting
        for run in self.registry.queued():
            if not run.backend or run.job_id or run.id in waiting:
                continue
            folder = RunFolder(run.run_dir)
            place = json.loads((folder.path / "placement.json").read_text())
            try:
                handle = get(self.registry.home, run.backend).submit(
                    run.run_dir, run.id, place["nodes"], place["procs_per_node"], place["gpus_per_node"],
                    time_limit_min=place.get("time_limit_min"))
            except SSLPilotError as exc:
                folder.set_status("failed", f"could not submit to {run.backend}: {exc}")
                self.registry.sync(run.id)
                continue
            handle.save(run.run_dir)
            folder.event("submitted", f"submitted to {run.backend} as job {handle.job_id} ({handle.nodes} node(s) x "
                         f"{handle.procs_per_node} process(es))", backend=run.backend, job_id=handle.job_id)
            self.registry.update(run.id, job_id=handle.job_id, job_state="pending", nodes=handle.nodes,
                                 host=run.backend, device=f"{run.backend}:{handle.job_id}")
            submitted.append(run.id)
        return submitted

    def watch_cluster_runs(self) -> None:
        """Read each cluster run's folder and its job's state; a job that ended without the worker saying so
        (killed, out of time without a requeue, a node lost) leaves the run interrupted, as a dead local
        worker does. A preempted job the cluster requeued stays ours to wait for."""
        from tools.backends import Handle, get

        for run in self.registry.cluster_runs():
            handle = Handle.load(run.run_dir)
            if handle is None:
                continue
            try:
                state = get(self.registry.home, run.backend).state(handle)
            except Exception as exc:  # noqa: BLE001 - sacct down for a moment: try again next tick
                RunFolder(run.run_dir).event("warning", f"job state unknown: {exc}", kind="backend_unreachable")
                continue
            run = self.registry.sync(run.id)
            changed = state != run.job_state
            if changed:
                self.registry.update(run.id, job_state=state)
            if state not in ("completed", "failed", "cancelled"):
                continue
            if changed:
                self._ended(run.id)
            folder = RunFolder(run.run_dir)
            cancelled = run.cancel_requested_at is not None or state == "cancelled"
            if run.status in ("queued", "running") or (run.status == "interrupted" and cancelled):
                if cancelled:  # the worker stopped on our SIGTERM (interrupted), or never got to say
                    folder.set_status("cancelled", f"job {handle.job_id} {state}: cancelled by request")
                else:
                    folder.set_status("interrupted", f"job {handle.job_id} ended ({state}) without the worker "
                                      "finishing; `sslpilot resume` continues from the last checkpoint")
                self.registry.sync(run.id)

    def dispatch(self, waiting: set[str] | None = None) -> list[str]:
        """Start what fits, in the fair order (tools/fairshare.py): a user at their GPU limit is passed over; the
        run whose turn it is waits for its devices rather than being overtaken. Every run left waiting gets its
        reason (`wait_reason`, shown in `sslpilot runs` and the UI)."""
        from tools import fairshare

        waiting = self.hold_waiting() if waiting is None else waiting  # once per tick (tick passes it)
        queued = [r for r in self.registry.queued() if not r.backend and r.id not in waiting]  # a cluster's queue
        if not queued:  # runs the others
            return []
        several = len({r.owner for r in queued}) > 1  # one user's queue needs no usage history
        usage = fairshare.recent_usage(self.registry.device_use(fairshare.usage_since())) if several else {}
        fair = fairshare.FairQueue(queued, self.registry.with_workers(), usage)
        reasons: dict[str, str | None] = {}
        started: list[str] = []
        blocked: Run | None = None
        while (run := fair.next()) is not None:
            asked = fairshare.gpus_asked(run, bool(self.allocator.gpus))
            limit = fairshare.limits_of(self.registry.home, run.owner, self.registry).max_gpus
            held = fair.held_gpus.get(run.owner or "", 0)
            if limit is not None and asked and held + asked > limit:
                for r in fair.held_back(run):
                    reasons[r.id] = fairshare.limit_reason(held, limit)
                continue
            devices = self.allocator.assign(Request.from_config(_config(run)), self.busy())
            if devices is None:
                blocked = run
                break
            self.launch(run, devices)
            fair.started(run, self.registry.get(run.id).device)
            reasons[run.id] = None
            started.append(run.id)
        if blocked is not None:
            need = fairshare.gpus_asked(blocked, bool(self.allocator.gpus))
            reasons[blocked.id] = (f"waiting for {need} free GPU{'s' if need != 1 else ''}" if need
                                   else "waiting for a free CPU slot")
            for r in queued:
                if r.id not in reasons:
                    reasons[r.id] = f"waiting: run {blocked.id} goes first (fair order)"
        for r in queued:
            if r.id in reasons and reasons[r.id] != r.wait_reason:
                self.registry.update(r.id, wait_reason=reasons[r.id])
        return started

    def hold_waiting(self) -> set[str]:
        """The queued runs still waiting on other runs (`waits_for`), each with its reason. A run whose awaited runs
        all succeeded waits no longer; one of them failed, diverged or cancelled cancels it (Slurm would leave it
        pending for ever); an interrupted one may yet be resumed, so its waiters wait and say so. A run waiting for
        any ending (`after_any`, Slurm's afterany) waits until every awaited run has ended, interrupted included."""
        held: set[str] = set()
        for run in self.registry.queued():
            if not run.waits_for or run.job_id:
                continue
            found = {rid: self.registry.find(rid) for rid in run.waits_for}
            status = {rid: r.status if r is not None else "missing" for rid, r in found.items()}
            if run.after_any:
                going = [rid for rid, s in status.items() if s not in (*TERMINAL, "missing")]
                reason = f"waiting for {runs_named(going)} to end" if going else None
            else:
                ended = next(((rid, s) for rid, s in status.items()
                              if s in UNSUCCESSFUL and s != "interrupted" or s == "missing"), None)
                if ended is not None:
                    RunFolder(run.run_dir).set_status("cancelled", f"run {ended[0]}, which it waited for, ended "
                                                      f"{ended[1]}")
                    self.registry.sync(run.id)
                    continue
                going = [rid for rid, s in status.items() if s != "succeeded"]
                stuck = [rid for rid in going if status[rid] == "interrupted"]
                reason = (f"waiting for {runs_named(stuck)} (interrupted: resume it, or cancel this run)" if stuck
                          else f"waiting for {runs_named(going)} to succeed" if going else None)
            if reason is None:
                continue
            held.add(run.id)
            if run.wait_reason != reason:
                self.registry.update(run.id, wait_reason=reason)
        return held

    def launch(self, run: Run, devices: list[str]) -> None:
        folder = RunFolder(run.run_dir)
        device = "cpu" if devices == ["cpu"] else "cuda:" + ",".join(devices)
        handle = self.local.submit(run.run_dir, run.id, devices=devices, cpu_slots=self.allocator.cpu_slots,
                                   resume=run.resume_requested)
        handle.save(run.run_dir)
        pid = int(handle.job_id)
        folder.set_status("running", f"launched worker pid {pid} on {device}", pid=pid, device=device)
        self.registry.update(run.id, status="running", pid=pid, host=socket.gethostname(), device=device,
                             started_at=now(), ended_at=None, resume_requested=False, cancel_requested_at=None)
        self.registry.sync(run.id)

    # ---- watching -------------------------------------------------------------------------------
    def is_alive(self, run: Run) -> bool:
        return bool(run.pid) and self.local.alive(handle_of(run.run_dir, run.pid, run.host))

    def reap(self) -> None:
        """Close every launched worker that has exited; a run it left `running` died and is `interrupted`."""
        for run in self.registry.with_workers():
            handle = handle_of(run.run_dir, run.pid, run.host)
            if self.local.alive(handle):
                continue
            code = self.local.exit_code(handle)
            self.local.forget(handle)
            run = self.registry.sync(run.id)
            folder = RunFolder(run.run_dir)
            # died without saying how (killed, OOM, power): asked of the folder too, as the registry lags behind it
            # while its disk is full (Registry.sync answers from the stored row then)
            if run.status in ("running", "queued") and folder.last_status() in ("running", "queued", None):
                folder.set_status("interrupted", f"worker pid {run.pid} died (exit code {code})", exit_code=code)
                run = self.registry.sync(run.id)
            run = self.registry.update(run.id, pid=None)
            if run.status == "interrupted":
                self._after_interruption(run, folder)
            self._ended(run.id)

    def _ended(self, run_id: str) -> None:
        for listener in self.on_ended:
            listener(run_id)

    def _after_interruption(self, run: Run, folder: RunFolder) -> None:
        if run.cancel_requested_at is not None:
            folder.set_status("cancelled", "cancelled by request")
            self.registry.sync(run.id)
            return
        if run.retries >= self.policy.max_retries:
            folder.event("warning", f"not retried: {run.retries} retries already", kind="retry_exhausted")
            self.registry.sync(run.id)
            return
        resume = folder.has_checkpoint()
        note = "resuming from its last checkpoint" if resume else "restarting (no checkpoint yet)"
        folder.event("retry", f"retry {run.retries + 1}/{self.policy.max_retries}: {note}")
        folder.set_status("queued", f"requeued after interruption, {note}")
        self.registry.sync(run.id)
        self.registry.update(run.id, retries=run.retries + 1, resume_requested=resume, pid=None, device=None)

    # ---- cancelling -----------------------------------------------------------------------------
    def signal_run(self, run: Run, sig: int) -> bool:
        if not run.pid or not self.is_alive(run):
            return False
        return LocalBackend.signal(run.pid, sig)

    def escalate_cancels(self) -> None:
        for run in self.registry.list(status="running"):
            if run.cancel_requested_at and time.time() - run.cancel_requested_at > self.policy.cancel_grace_s:
                if self.signal_run(run, signal.SIGKILL):
                    RunFolder(run.run_dir).event("warning", f"worker ignored SIGTERM for {self.policy.cancel_grace_s}s;"
                                                 " killed", kind="cancel_escalated")


def _config(run: Run) -> dict:
    import json

    return json.loads(run.config_json or "{}")
