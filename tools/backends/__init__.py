"""Where a run's worker processes run: `local` (this machine's queue), `slurm` (through submitit), `ray` (through
Ray's job submission client).

Cluster backends share one interface (`Backend`): submit a run (nodes x processes per node, GPUs per node)
and get a `Handle`; then state, incremental logs, cancel. A handle is kept in the registry (run.backend,
run.job_id) and in the run folder's launch.json, so a restarted sslpilot reattaches to it. The local queue
stays the dispatcher's own (it allocates this machine's devices): tools/backends/local.py starts and signals
its workers. The dispatcher submits a cluster run as soon as it is queued, then watches its job's state.
The run folder is the source of truth everywhere, so on a cluster it must be on storage every node sees.

Backends are named and configured in <home>/backends.yaml (`sslpilot backend add|ls|test`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ssl_runtime.errors import SSLPilotError
from tools.home import Home

# what a backend's state() says about a job: pending, running, completed, failed, cancelled, requeued, unknown


class BackendError(SSLPilotError):
    """A backend cannot be used: a missing command, an unknown partition, an unreachable address."""


class SlurmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a Ray option given to a Slurm backend is a mistake to name
    kind: str = "slurm"
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time_min: int = Field(60, ge=1, description="time limit per job, minutes (a requeue starts a new one)")
    constraint: str | None = None
    cpus_per_task: int | None = Field(None, ge=1)
    mem: str | None = None
    extra: dict[str, str] = Field(default_factory=dict, description="more sbatch options, e.g. {'exclusive': ''}")
    setup: list[str] = Field(default_factory=list, description="shell lines run before the worker (module load ...)")
    python: str | None = Field(None, description="the Python the job runs (default: this one)")


class RaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = "ray"
    address: str = Field(..., description="the head's dashboard address, e.g. http://head:8265 (what RAY_ADDRESS "
                                          "is for `ray job submit`)")
    cpus_per_proc: float = Field(1.0, gt=0, description="CPUs reserved per rank (its data loader threads)")
    max_failures: int = Field(3, ge=0, description="resumes from the last checkpoint after a lost node")
    placement_timeout_s: float = Field(600.0, gt=0, description="how long a run waits for its nodes to be free")
    stop_grace_s: int = Field(60, ge=1, description="how long a stopped job has to checkpoint before SIGKILL")
    env: dict[str, str] = Field(default_factory=dict, description="environment variables for the job's processes")
    python: str | None = Field(None, description="the Python on the nodes that has sslpilot (default: this one)")


SETTINGS = {"slurm": SlurmSettings, "ray": RaySettings}


@dataclass
class Handle:
    backend: str  # the configured name (e.g. "cluster")
    kind: str  # local | slurm | ray
    job_id: str
    nodes: int = 1
    procs_per_node: int = 1
    gpus_per_node: int = 0
    info: dict = field(default_factory=dict)

    def save(self, run_dir: str | Path) -> None:
        (Path(run_dir) / "launch.json").write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, run_dir: str | Path) -> Handle | None:
        path = Path(run_dir) / "launch.json"
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


class Backend(Protocol):
    name: str

    def check(self) -> list[str]: ...  # what `sslpilot backend test` reports; raises BackendError when unusable

    def submit(self, run_dir: str, run_id: str, nodes: int, procs_per_node: int, gpus_per_node: int,
               time_limit_min: float | None = None) -> Handle: ...

    def state(self, handle: Handle) -> str: ...

    def logs(self, handle: Handle, offset: int = 0) -> tuple[str, int]: ...

    def cancel(self, handle: Handle, pending: bool = False) -> None: ...


def read_from(path: Path, offset: int) -> tuple[str, int]:
    """A log's text after `offset`, and the offset to read from next time (incremental logs)."""
    if not path.is_file():
        return "", offset
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read()
    return data.decode(errors="replace"), offset + len(data)


def _path(home: Home) -> Path:
    return home.root / "backends.yaml"


def configured(home: Home) -> dict[str, dict]:
    path = _path(home)
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def add(home: Home, name: str, kind: str, **settings) -> dict:
    from tools.access import require

    require(home, "admin", "adding a backend")
    if kind not in SETTINGS:
        raise BackendError(f"unknown backend kind {kind!r}", field="kind", fix="use slurm or ray (local is built in)")
    if name == "local" or not name.replace("-", "").replace("_", "").isalnum():
        raise BackendError(f"{name!r} cannot name a backend", field="name", fix="use letters, digits, - and _")
    try:
        valid = SETTINGS[kind](kind=kind, **{k: v for k, v in settings.items() if v is not None})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(map(str, first["loc"]))
        message = {"extra_forbidden": f"{where} is not a {kind} setting",
                   "missing": f"a {kind} backend needs {where}"}.get(first["type"], first["msg"])
        raise BackendError(message, field=where, fix=f"see `sslpilot backend add --help` for the {kind} options"
                           ) from None
    all_ = configured(home)
    all_[name] = valid.model_dump(exclude_none=True)
    tmp = _path(home).with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(all_, sort_keys=True))
    tmp.replace(_path(home))
    return all_[name]


def get(home: Home, name: str) -> Backend:
    if name == "local":
        from tools.backends.local import LocalBackend

        return LocalBackend()
    all_ = configured(home)
    if name not in all_:
        raise BackendError(f"no backend named {name!r}", field="backend",
                           fix=f"add it with `sslpilot backend add {name} --kind slurm ...` (configured: "
                               f"{', '.join(all_) or 'none'})")
    spec = dict(all_[name])
    kind = spec.pop("kind")
    if kind == "slurm":
        from tools.backends.slurm import SlurmBackend

        return SlurmBackend(name, SlurmSettings(**spec), home)
    if kind == "ray":
        from tools.backends.ray_cluster import RayBackend

        return RayBackend(name, RaySettings(**spec), home)
    raise BackendError(f"backend {name!r} has an unknown kind {kind!r}", field="backend")
