"""This machine: one worker process per run (torchrun for several GPUs) in its own session, output in the run
folder's stdout.log. The dispatcher (tools/queue.py) picks the devices and starts runs through `start`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from ssl_runtime.run_folder import RunFolder
from tools.backends import Handle, read_from


def worker_command(run, devices: list[str]) -> list[str]:
    base = ["-m", "ssl_runtime", "run", run.run_dir] + (["--resume"] if run.resume_requested else [])
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


class LocalBackend:
    name = "local"

    def start(self, run_dir: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with RunFolder(run_dir).stdout.open("ab") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True, cwd=os.getcwd())

    def submit(self, run_dir: str, run_id: str, nodes: int = 1, procs_per_node: int = 1,
               gpus_per_node: int = 0) -> Handle:
        devices = [str(i) for i in range(gpus_per_node)] or ["cpu"]
        cmd = [sys.executable, "-m", "ssl_runtime", "run", run_dir]
        if len(devices) > 1:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                   str(len(devices)), *cmd[1:]]
        proc = self.start(run_dir, cmd, worker_env(devices))
        return Handle("local", "local", str(proc.pid), 1, max(1, gpus_per_node), gpus_per_node)

    def state(self, handle: Handle) -> str:
        try:
            p = psutil.Process(int(handle.job_id))
            return "failed" if p.status() == psutil.STATUS_ZOMBIE else "running"
        except psutil.NoSuchProcess:
            return "completed"

    def logs(self, handle: Handle, offset: int = 0, run_dir: str | None = None) -> tuple[str, int]:
        path = RunFolder(run_dir).stdout if run_dir else Path(handle.info.get("stdout", ""))
        return read_from(path, offset)

    def cancel(self, handle: Handle, pending: bool = False) -> None:
        try:
            os.killpg(int(handle.job_id), signal.SIGTERM)  # the worker leads its session: torchrun's children too
        except ProcessLookupError:
            pass
