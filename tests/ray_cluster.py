"""A local Ray cluster for the Ray backend tests: a head (no CPUs, so no rank lands on it: it runs the job drivers)
and worker nodes of one CPU each, every one a real `ray start` with its own raylet, all in one temporary folder.

`kill_node(node_id)` SIGKILLs a worker node's raylet (a lost machine, as far as the cluster can tell);
`add_worker()` joins a replacement, as an autoscaler would. `stop()` ends every process of this cluster and no
other Ray on the machine (it does not call `ray stop`, which would).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("aiohttp_cors") is None:
        return "Ray with its dashboard is not installed (pip install 'sslpilot[ray]', which the dev extra includes)"
    if not sys.platform.startswith("linux"):
        return "the Ray tests kill raylets by process id and use prctl: Linux only"
    return None


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RayCluster:
    workers: int = 2
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sslray-", dir="/tmp")))
    env: dict[str, str] = field(default_factory=dict)
    gcs: str = ""
    dashboard: str = ""

    def _ray(self, *args: str, env: dict | None = None, prefix: tuple[str, ...] = ()) -> None:
        ray_cli = str(Path(sys.executable).parent / "ray")
        done = subprocess.run([*prefix, ray_cli, "start", *args, "--disable-usage-stats",
                               "--object-store-memory=80000000"],
                              env=env or self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"ray start failed: {done.stderr[-2000:]}")

    def start(self, env: dict[str, str]) -> str:
        """Start the head and the workers with `env` (the jobs inherit it); returns the dashboard address."""
        gcs_port, dash_port = _port(), _port()
        # a raylet killed without a word is declared dead after about 3 s instead of 30
        self.env = {**env, "RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3",
                    "RAY_USAGE_STATS_ENABLED": "0"}
        self._ray("--head", f"--port={gcs_port}", "--num-cpus=0", "--dashboard-host=127.0.0.1",
                  f"--dashboard-port={dash_port}", f"--temp-dir={self.root}", "--include-dashboard=true")
        self.gcs, self.dashboard = f"127.0.0.1:{gcs_port}", f"http://127.0.0.1:{dash_port}"
        for _ in range(self.workers):
            self.add_worker()
        return self.dashboard

    def add_worker(self, prefix: tuple[str, ...] = ()) -> None:
        """Join one more worker node (`prefix`: e.g. unshare, to give it another view of the file system)."""
        self._ray(f"--address={self.gcs}", "--num-cpus=1", prefix=prefix)

    def raylets(self) -> dict[str, psutil.Process]:
        """node id -> raylet process, for this cluster's nodes."""
        out = {}
        for p in psutil.process_iter(["name", "cmdline"]):
            cmd = p.info["cmdline"] or []
            if p.info["name"] == "raylet" and any(str(self.root) in part for part in cmd):
                node = next((c.split("=", 1)[1] for c in cmd if c.startswith("--node_id=")), None)
                if node:
                    out[node] = p
        return out

    def kill_node(self, node_id: str, wait_s: float = 0.0) -> None:
        """SIGKILL the node's raylet; with wait_s, until the cluster has marked the node dead."""
        self.raylets()[node_id].send_signal(signal.SIGKILL)
        from ray.util.state import list_nodes

        deadline = time.time() + wait_s
        while time.time() < deadline:
            if all(n.state == "DEAD" for n in list_nodes(address=self.dashboard) if n.node_id == node_id):
                return
            time.sleep(0.5)

    def alive_workers(self) -> int:
        from ray.util.state import list_nodes

        return sum(1 for n in list_nodes(address=self.dashboard) if n.state == "ALIVE" and not n.is_head_node)

    def stop(self) -> None:
        mine = [p for p in psutil.process_iter(["cmdline"])
                if any(str(self.root) in part for part in (p.info["cmdline"] or []))]
        for p in list(mine):  # the agents and workers rename themselves (ray::...): found as children
            try:
                mine += p.children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        for p in mine:
            try:
                p.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(mine, timeout=10)
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)
        os.environ.pop("RAY_ADDRESS", None)
