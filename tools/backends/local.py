"""This machine: one worker process per run (torchrun for several GPUs) in its own session, output in the run
folder's stdout.log. The dispatcher (tools/queue.py) picks the devices, starts runs through `start`, watches
the processes and reaps them; cancels go through `signal`. (Cluster backends implement tools.backends.Backend:
local runs are not submitted through that interface, since the dispatcher allocates their devices itself.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from ssl_runtime.run_folder import RunFolder


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
