"""This machine: one worker process per run (torchrun for several GPUs) in its own session, output in the run
folder's stdout.log. The same interface as the cluster backends (submit, state, logs, cancel); the difference is
who decides where a run goes: here the dispatcher (tools/queue.py) picks this machine's devices and passes them to
`submit`, on a cluster the cluster's scheduler does. The handle's job id is the worker's process id (also its
session id, so a signal reaches torchrun's children too).

A single-process worker is forked by a warm launcher (ssl_runtime/warm.py) once one is ready: it has imported
torch and transformers already, so the run starts without those seconds. Until it is ready, or when it fails,
or for torchrun, or with SSLPILOT_WARM_WORKER=0, a fresh process is started as before."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil

from ssl_runtime import settings
from ssl_runtime.run_folder import RunFolder
from tools.backends import Handle, read_from

# what the run folder says once a worker has exited -> the job state (interrupted: stopped by a signal, as Slurm
# says CANCELLED; a worker that died without a word left `running`, which reads as failed)
ENDED = {"succeeded": "completed", "failed": "failed", "cancelled": "cancelled", "interrupted": "cancelled"}


def worker_command(run_dir: str, devices: list[str], resume: bool) -> list[str]:
    base = ["-m", "ssl_runtime", "run", run_dir] + (["--resume"] if resume else [])
    if devices != ["cpu"] and len(devices) > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                str(len(devices)), *base]
    return [sys.executable, *base]


def worker_env(devices: list[str], cpu_slots: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    if devices == ["cpu"]:
        env["CUDA_VISIBLE_DEVICES"] = ""
        env.pop("SSLPILOT_ASSIGNED_GPUS", None)
        # CPU workers share the cores: oversubscribed OpenMP threads spin and slow every run down badly
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, cpu_slots))))
    else:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
        env["SSLPILOT_ASSIGNED_GPUS"] = ",".join(devices)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def handle_of(run_dir: str, pid: int, host: str | None = None) -> Handle:
    """The handle of a run's local worker `pid`: its launch.json when that names this worker, else one made up from
    the registry (a run launched before handles were saved, or one whose launch.json is an earlier cluster job's)."""
    handle = Handle.load(run_dir)
    if handle is None or handle.kind != "local" or handle.job_id != str(pid):
        handle = Handle("local", "local", str(pid), info={"host": host, "run_dir": str(run_dir)})
    return handle


def started_at(pid: int) -> float | None:
    """When process `pid` started, on a clock that no step of the wall clock moves: seconds after boot, from
    /proc on Linux. psutil's create_time adds the boot time as read now, and that moves when a paused VM resumes or
    NTP steps the clock; a live warm worker then looked dead, and its run was started again beside it. Elsewhere,
    psutil's create_time. None when the process is gone."""
    if Path("/proc/self/stat").exists():  # Linux
        try:
            after_comm = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(after_comm[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime, in clock ticks after boot
        except (OSError, ValueError, IndexError):
            return None  # the process is gone
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


READY_WAIT_S = 30.0  # longer than the imports take even on a slow box; past it, a fresh process


class WarmLauncher:
    """This side of `python -m ssl_runtime.warm`: start it, wait for it in the background, ask it for workers."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="sslpilot-exits-", suffix=".jsonl")
        os.close(fd)
        self.exits = Path(name)
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.proc = subprocess.Popen([sys.executable, "-m", "ssl_runtime.warm", "--exits", str(self.exits)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"}, text=True, start_new_session=True,
                                     cwd=os.getcwd())
        threading.Thread(target=self._wait_ready, name="warm-launcher", daemon=True).start()

    def _wait_ready(self) -> None:
        line = self.proc.stdout.readline()
        if line and json.loads(line).get("ready"):
            self.ready.set()

    def fork(self, argv: list[str], env: dict[str, str], log: Path, wait_s: float = READY_WAIT_S) -> int | None:
        """A worker's pid, or None when the launcher could not fork (start one the usual way). A launcher still
        importing is waited for: a fresh process would pay the same imports, on the same cores, at the same time."""
        if self.proc.poll() is not None or not self.ready.wait(wait_s):
            return None
        with self._lock:
            try:
                self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log), "cwd": os.getcwd()})
                                      + "\n")
                self.proc.stdin.flush()
                reply = json.loads(self.proc.stdout.readline() or "{}")
            except (OSError, ValueError):
                return None
        return reply.get("pid")

    def exit_code(self, pid: int) -> int | None:
        if not self.exits.exists():
            return None
        for line in self.exits.read_text().splitlines():
            row = json.loads(line)
            if row["pid"] == pid:
                return row["code"]
        return None

    def close(self) -> None:
        """End the launcher (its workers carry on)."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.exits.unlink(missing_ok=True)


class LocalBackend:
    name = "local"

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}  # job id -> the worker this process started
        self.warm: WarmLauncher | None = None

    def prewarm(self) -> None:
        """Start the warm launcher (the queue daemon does when it starts; a one-off scheduler does not, since the
        launcher's imports would compete with its only run for the cores)."""
        if self.warm is None and settings.get("SSLPILOT_WARM_WORKER") != "0":
            self.warm = WarmLauncher()

    def submit(self, run_dir: str, run_id: str, nodes: int = 1, procs_per_node: int = 1, gpus_per_node: int = 0,
               time_limit_min: float | None = None, *, devices: list[str] | None = None, cpu_slots: int = 1,
               resume: bool = False) -> Handle:
        """Start the worker now on `devices` (the dispatcher's allocation; default the CPU). Local runs have no
        time limit (tools.runs.enqueue refuses one): steps and epochs bound them."""
        devices = devices or ["cpu"]
        command, env = worker_command(run_dir, devices, resume), worker_env(devices, cpu_slots)
        gpus = 0 if devices == ["cpu"] else len(devices)
        info = {"host": socket.gethostname(), "devices": devices, "run_dir": str(run_dir)}
        single = command[1:3] == ["-m", "ssl_runtime"]  # torchrun starts its own processes
        pid = self.warm.fork(command[3:], env, RunFolder(run_dir).stdout) if single and self.warm else None
        if pid is not None:  # None: it has already ended, and is still its handle
            return Handle(self.name, "local", str(pid), 1, max(1, gpus), gpus, {**info, "warm": True,
                                                                                 "started": started_at(pid)})
        with RunFolder(run_dir).stdout.open("ab") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True, cwd=os.getcwd())
        self.procs[str(proc.pid)] = proc
        return Handle(self.name, "local", str(proc.pid), 1, max(1, gpus), gpus, info)

    def check(self) -> list[str]:
        return [f"local: this machine ({socket.gethostname()})"]

    def alive(self, handle: Handle) -> bool:
        """The worker is running. Another host's worker is not ours to judge: taken as alive."""
        proc = self.procs.get(handle.job_id)
        if proc is not None:
            return proc.poll() is None
        if handle.info.get("host") not in (None, socket.gethostname()):
            return True
        try:
            p = psutil.Process(int(handle.job_id))
            if p.status() == psutil.STATUS_ZOMBIE:
                return False
            if handle.info.get("warm"):  # a fork has the launcher's command line: known by its start time instead
                if "started" in handle.info:
                    mark = started_at(p.pid)
                    return None not in (mark, handle.info["started"]) and abs(mark - handle.info["started"]) < 0.5
                return handle.info.get("created") is not None and abs(p.create_time() - handle.info["created"]) < 0.5
            return any(handle.info["run_dir"] in part for part in p.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    def exit_code(self, handle: Handle) -> int | None:
        proc = self.procs.get(handle.job_id)
        if proc is not None:
            return proc.poll()
        if handle.info.get("warm") and self.warm is not None:
            return self.warm.exit_code(int(handle.job_id))
        return None

    def forget(self, handle: Handle) -> None:
        self.procs.pop(handle.job_id, None)

    def state(self, handle: Handle) -> str:
        if handle.info.get("host") not in (None, socket.gethostname()):
            return "unknown"
        if self.alive(handle):
            return "running"
        return ENDED.get(RunFolder(handle.info["run_dir"]).status() or "", "failed")

    def logs(self, handle: Handle, offset: int = 0) -> tuple[str, int]:
        return read_from(RunFolder(handle.info["run_dir"]).stdout, offset)

    def cancel(self, handle: Handle, pending: bool = False) -> None:
        """SIGTERM to the worker's session: it checkpoints at the next step and stops."""
        self.signal(int(handle.job_id))

    @staticmethod
    def signal(pid: int, sig: int = signal.SIGTERM) -> bool:
        """Signal a worker's whole session (torchrun's children too); False when it is gone."""
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            os.kill(pid, sig)
        return True
