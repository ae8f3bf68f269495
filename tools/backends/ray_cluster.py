"""Ray through its job submission client: submit, status, logs and stop of a Ray job whose entrypoint is
tools/backends/ray_driver.py (which places the ranks on the nodes and resumes after a lost node).

The job's submission id is derived from the run (`sslpilot-7-<digest of the run folder's path>`, then `-2`, `-3`
for later submissions of the same run after a `sslpilot resume`), so a submit retried after a crash finds the job it
already made instead of starting a second one. The cluster needs sslpilot installed on every node and the sslpilot home on storage
every node mounts at the same path; `check` (`sslpilot backend test`) verifies both.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shlex
import sys
import time
from pathlib import Path

from tools.backends import BackendError, Handle, RaySettings
from tools.home import Home

JOB_STATES = {"PENDING": "pending", "RUNNING": "running", "SUCCEEDED": "completed", "FAILED": "failed",
              "STOPPED": "cancelled"}


def _client(address: str):
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError:
        raise BackendError("the Ray backend needs ray's job submission client", field="backend",
                           fix="pip install 'sslpilot[ray]'") from None
    try:
        return JobSubmissionClient(address)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise BackendError(f"Ray address {address} is unreachable: {str(exc).splitlines()[0][:200]}",
                           field="address", fix="give the head's dashboard address (http://HEAD:8265), and check "
                           "that the dashboard is up (`ray status` on the head)") from None


def submission_id(run_id: str, run_dir: str, previous: Handle | None) -> tuple[str, int]:
    """The job id for this submission of the run, and its number. Several homes may share a cluster and each has
    a run 1, so the id carries a digest of the run folder's path; from the second submission on (after a resume)
    it carries the number too, since Ray never reuses a job id, even once the job ended."""
    digest = hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:8]
    number = previous.info.get("submission", 1) + 1 if previous is not None and previous.kind == "ray" else 1
    base = f"sslpilot-{run_id}-{digest}"
    return (base if number == 1 else f"{base}-{number}"), number


class RayBackend:
    def __init__(self, name: str, settings: RaySettings, home: Home):
        self.name, self.settings, self.home = name, settings, home

    def check(self, timeout_s: float = 180.0) -> list[str]:
        """What `sslpilot backend test` reports: the address answers, and every alive node sees the home."""
        client = _client(self.settings.address)
        marker = self.home.root / ".shared-storage-check"
        marker.write_text(secrets.token_hex(8))
        job = client.submit_job(entrypoint=shlex.join([self._python(), "-m", "tools.backends.ray_driver", "check",
                                                       str(self.home.root)]), runtime_env=self._runtime_env())
        try:
            state = self._wait(client, job, timeout_s)
            logs = client.get_job_logs(job)
        finally:
            marker.unlink(missing_ok=True)
        lines = [ln for ln in logs.splitlines() if ln.startswith("SSLPILOT-CHECK ")]
        if state != "SUCCEEDED" or not lines:
            raise BackendError(f"the check job ended {state}: {logs.strip()[-300:]}", field="python",
                               fix="install sslpilot on every node (`python` setting: the interpreter that has it)")
        nodes = json.loads(lines[-1].removeprefix("SSLPILOT-CHECK "))["nodes"]
        blind = [node[:12] for node, ok in nodes.items() if not ok]
        if blind:
            raise BackendError(f"{self.home.root} is not on shared storage: node(s) {', '.join(blind)} cannot see it",
                               field="home", fix="put the sslpilot home (SSLPILOT_HOME) on storage every node mounts "
                               "at the same path (NFS, Lustre, a cloud file system); checkpoints and metrics live there")
        return [f"address {self.settings.address}: {len(nodes)} node(s) alive, all see {self.home.root}"]

    @staticmethod
    def _wait(client, job: str, timeout_s: float) -> str:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            state = str(client.get_job_status(job)).split(".")[-1]
            if state in ("SUCCEEDED", "FAILED", "STOPPED"):
                return state
            time.sleep(1.0)
        client.stop_job(job)
        return "TIMEOUT"

    def _python(self) -> str:
        return self.settings.python or sys.executable

    def _runtime_env(self) -> dict:
        # Ray's job supervisor gives the driver RAY_JOB_STOP_WAIT_TIME_S after SIGTERM before SIGKILL: long
        # enough for the ranks to write their checkpoint
        return {"env_vars": {"PYTHONUNBUFFERED": "1", "RAY_JOB_STOP_WAIT_TIME_S": str(self.settings.stop_grace_s),
                             **self.settings.env}}

    def submit(self, run_dir: str, run_id: str, nodes: int = 1, procs_per_node: int = 1,
               gpus_per_node: int = 0, time_limit_min: float | None = None) -> Handle:
        s = self.settings
        client = _client(s.address)
        job_id, number = submission_id(run_id, run_dir, Handle.load(run_dir))
        entrypoint = shlex.join([self._python(), "-m", "tools.backends.ray_driver", "run", str(Path(run_dir)),
                                 "--nodes", str(nodes), "--procs-per-node", str(procs_per_node),
                                 "--gpus-per-node", str(gpus_per_node), "--cpus-per-proc", str(s.cpus_per_proc),
                                 "--max-failures", str(s.max_failures),
                                 "--placement-timeout-s", str(s.placement_timeout_s),
                                 *(["--time-limit-s", str(time_limit_min * 60)] if time_limit_min else [])])
        try:
            client.submit_job(entrypoint=entrypoint, submission_id=job_id, runtime_env=self._runtime_env(),
                              metadata={"sslpilot_run": run_id, "sslpilot_run_dir": str(Path(run_dir).resolve())})
        except RuntimeError as exc:
            if "already exists" not in str(exc):
                raise BackendError(f"Ray refused the job: {str(exc).splitlines()[0][:300]}", field="backend") from None
            # submitted before (a retry after a crash): the job id is this run's, so this is the same job
            made = client.get_job_info(job_id).metadata or {}
            if made.get("sslpilot_run_dir") != str(Path(run_dir).resolve()):
                raise BackendError(f"Ray job {job_id} exists and belongs to {made.get('sslpilot_run_dir')}",
                                   field="backend", fix="delete that job (`ray job delete`) or launch anew") from None
        return Handle(self.name, "ray", job_id, nodes, procs_per_node, gpus_per_node,
                      {"address": s.address, "submission": number})

    def state(self, handle: Handle) -> str:
        raw = str(_client(handle.info["address"]).get_job_status(handle.job_id)).split(".")[-1]
        return JOB_STATES.get(raw, "unknown")

    def logs(self, handle: Handle, offset: int = 0) -> tuple[str, int]:
        """The driver's log (placement, lost nodes, retries) after `offset`; the ranks write to the run folder."""
        data = _client(handle.info["address"]).get_job_logs(handle.job_id).encode()
        return data[offset:].decode(errors="replace"), len(data)

    def cancel(self, handle: Handle, pending: bool = False) -> None:
        """`ray job stop`: SIGTERM to the driver, which passes it to the ranks; they checkpoint and stop."""
        _client(handle.info["address"]).stop_job(handle.job_id)
