"""Slurm through submitit: sbatch with nodes x tasks, one worker per task under srun, with the
torch.distributed environment taken from the job (rank, world size, master address from the node list).

Logs are submitit's per-task files in <run>/slurm/; status comes from sacct (through submitit); cancel is
scancel. On preemption or a time limit, submitit calls `WorkerTask.checkpoint` on rank 0: the worker is
told to stop (SIGTERM: it checkpoints at the next step boundary, the same path as a local cancel) and the
job is requeued; the requeued job resumes from that checkpoint on the runtime's exact-resume path.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ssl_runtime.run_folder import RunFolder
from tools.backends import BackendError, Handle, SlurmSettings, read_from
from tools.home import Home

SACCT_STATES = {"PENDING": "pending", "REQUEUED": "requeued", "RUNNING": "running", "COMPLETING": "running",
                "COMPLETED": "completed", "CANCELLED": "cancelled", "FAILED": "failed", "TIMEOUT": "failed",
                "NODE_FAIL": "failed", "OUT_OF_MEMORY": "failed", "PREEMPTED": "requeued", "BOOT_FAIL": "failed",
                "DEADLINE": "failed", "SUSPENDED": "pending", "RESIZING": "running", "REQUEUE_HOLD": "pending",
                "REQUEUE_FED": "requeued", "UNKNOWN": "unknown"}


def _submitit():
    try:
        import submitit
    except ImportError:
        raise BackendError("the Slurm backend needs submitit", field="backend",
                           fix="pip install 'sslpilot[slurm]'") from None
    return submitit


class WorkerTask:
    """What each Slurm task runs: the sslpilot worker as a child process, with torch.distributed's variables.
    Checkpointable (submitit calls `checkpoint` on preemption): pickled into the job folder."""

    def __init__(self, run_dir: str, python: str):
        self.run_dir, self.python = run_dir, python
        self.proc: subprocess.Popen | None = None

    def __call__(self) -> int:
        submitit = _submitit()
        env_info = submitit.JobEnvironment()
        env = dict(os.environ)
        if env_info.num_tasks > 1:
            env.update(RANK=str(env_info.global_rank), WORLD_SIZE=str(env_info.num_tasks),
                       LOCAL_RANK=str(env_info.local_rank), MASTER_ADDR=env_info.hostnames[0],
                       MASTER_PORT=str(20000 + int(str(env_info.job_id).split("_")[0]) % 20000))
        folder = RunFolder(self.run_dir)
        resume = folder.has_checkpoint()
        cmd = [self.python, "-m", "ssl_runtime", "run", self.run_dir, *(["--resume"] if resume else [])]
        # output to the run folder, not srun's pipe: a signalled step may stop reading it, and a worker blocked
        # on a full pipe would never reach its checkpoint
        log = folder.stdout if env_info.global_rank == 0 else folder.path / f"stdout.rank{env_info.global_rank}.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        code = self.proc.wait()
        if code != 0:
            raise RuntimeError(f"the sslpilot worker exited with code {code} (see {self.run_dir}/events.jsonl)")
        return code

    def checkpoint(self, *args, **kwargs):
        """Preempted or out of time: let the worker checkpoint and stop, then ask for a requeue."""
        submitit = _submitit()
        if self.proc is not None:
            try:
                self.proc.send_signal(signal.SIGTERM)  # Slurm signals the worker too; this covers other setups
            except ProcessLookupError:
                pass
            _wait_exit(self.proc, 300)
        RunFolder(self.run_dir).event("preempted", "Slurm preempted the job: checkpointed, requeued",
                                      kind="requeue")
        return submitit.helpers.DelayedSubmission(WorkerTask(self.run_dir, self.python))


def _wait_exit(proc: subprocess.Popen, timeout: float) -> None:
    """Wait for the worker from inside a signal handler. Popen.wait cannot be used here: the handler interrupted
    __call__'s own Popen.wait, which holds the lock a second wait needs, so it would spin until the timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return
        time.sleep(0.2)
    proc.kill()


def sbatch_parameters(s: SlurmSettings, run_id: str, nodes: int = 1, procs_per_node: int = 1,
                      gpus_per_node: int = 0, time_limit_min: float | None = None) -> dict:
    """submitit's SlurmExecutor parameters for one run: the backend's settings, the run's shape, `--requeue` (a
    preempted job comes back) and the user's `extra` sbatch options, which may override any of these. An option
    without a value (`--sbatch exclusive`) is a flag: submitit writes it bare only when its value is True."""
    extra = {key: True if value == "" else value for key, value in s.extra.items()}
    minutes = math.ceil(time_limit_min) if time_limit_min else s.time_min  # Slurm counts whole minutes
    params = dict(nodes=nodes, ntasks_per_node=procs_per_node, time=minutes, job_name=f"sslpilot-{run_id}",
                  signal_delay_s=min(60, minutes * 15),  # the time-limit warning fits inside short limits
                  setup=list(s.setup), additional_parameters={"requeue": True, **extra}, stderr_to_stdout=True)
    if gpus_per_node:
        params["gpus_per_node"] = gpus_per_node
    for key in ("partition", "account", "qos", "constraint", "cpus_per_task", "mem"):
        if getattr(s, key) is not None:
            params[key] = getattr(s, key)
    return params


class SlurmBackend:
    def __init__(self, name: str, settings: SlurmSettings, home: Home):
        self.name, self.settings, self.home = name, settings, home

    def _executor(self, run_dir: str):
        submitit = _submitit()
        ex = submitit.SlurmExecutor(folder=str(Path(run_dir) / "slurm"), python=self.settings.python or sys.executable)
        return ex

    def check(self) -> list[str]:
        """What `sslpilot backend test` reports; raises BackendError on what makes submitting impossible."""
        _submitit()
        for cmd in ("sbatch", "sacct", "scancel", "squeue", "sinfo"):
            if shutil.which(cmd) is None:
                raise BackendError(f"{cmd} not found on PATH", field="backend",
                                   fix="run sslpilot on a Slurm login node, or put the Slurm client tools on PATH")
        said = []
        parts = subprocess.run(["sinfo", "-h", "-o", "%R"], capture_output=True, text=True, timeout=60)
        if parts.returncode != 0:
            raise BackendError(f"sinfo failed: {parts.stderr.strip()[:200]}", field="backend",
                               fix="check that slurmctld is reachable (SLURM_CONF)")
        names = sorted({p.strip().rstrip("*") for p in parts.stdout.split()})
        if self.settings.partition and self.settings.partition not in names:
            raise BackendError(f"unknown partition {self.settings.partition!r}", field="partition",
                               fix=f"use one of {', '.join(names)}")
        said.append(f"partitions: {', '.join(names)}")
        return said

    def submit(self, run_dir: str, run_id: str, nodes: int = 1, procs_per_node: int = 1,
               gpus_per_node: int = 0, time_limit_min: float | None = None) -> Handle:
        ex = self._executor(run_dir)
        ex.update_parameters(**sbatch_parameters(self.settings, run_id, nodes, procs_per_node, gpus_per_node,
                                                 time_limit_min))
        job = ex.submit(WorkerTask(run_dir, self.settings.python or sys.executable))
        return Handle(self.name, "slurm", str(job.job_id), nodes, procs_per_node, gpus_per_node,
                      {"folder": str(Path(run_dir) / "slurm")})

    def _job(self, handle: Handle):
        submitit = _submitit()
        return submitit.SlurmJob(folder=handle.info["folder"], job_id=handle.job_id, tasks=tuple(
            range(handle.nodes * handle.procs_per_node)))

    def state(self, handle: Handle) -> str:
        job = self._job(handle)
        job.watcher.update()  # sacct now, not the 600-s cached answer
        raw = job.state.split()[0] if job.state else "UNKNOWN"
        return SACCT_STATES.get(raw.rstrip("+"), "unknown")

    def logs(self, handle: Handle, offset: int = 0) -> tuple[str, int]:
        path = self._job(handle).paths.stdout
        return read_from(path, offset)

    def cancel(self, handle: Handle, pending: bool = False) -> None:
        """A running job: SIGTERM to its tasks (the worker checkpoints and stops; the job then ends). A job
        still pending: scancel."""
        cmd = ["scancel", handle.job_id] if pending else ["scancel", "--signal=TERM", handle.job_id]
        subprocess.run(cmd, capture_output=True, timeout=60)
