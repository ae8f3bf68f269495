"""The registry's tables (sqlmodel). JSON payloads are stored as text so SQLite and PostgreSQL behave alike.

The run folder is the source of truth; these rows index it (see tools/registry.py).
"""

from __future__ import annotations

import time

from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 9


def now() -> float:
    return time.time()


class SchemaInfo(SQLModel, table=True):
    __tablename__ = "schema_info"
    id: int = Field(default=1, primary_key=True)
    version: int


class Experiment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    created_at: float = Field(default_factory=now)


class Run(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str | None = None
    experiment_id: int | None = Field(default=None, foreign_key="experiment.id")
    method: str = Field(index=True)
    dataset: str = ""
    config_json: str = "{}"
    status: str = Field(index=True, default="queued")
    priority: int = 0
    gpus_requested: int = 1
    device: str | None = None  # assignment: "cpu", "cuda:0", "cuda:0,1"
    pid: int | None = None
    host: str | None = None
    run_dir: str = ""
    created_at: float = Field(default_factory=now, index=True)
    started_at: float | None = None
    ended_at: float | None = None
    heartbeat_at: float | None = None
    parent_id: str | None = Field(default=None, index=True)
    recommendation_json: str | None = None
    tags_json: str = "[]"
    notes: str = ""
    resume_requested: bool = False
    cancel_requested_at: float | None = None
    retries: int = 0
    message: str = ""
    steps: int | None = None
    total_steps: int | None = None
    metrics_offset: int = 0
    events_count: int = 0
    # schema v2
    verdict: str | None = None
    # schema v3: the dataset cache the run read (`sslpilot data ls`)
    dataset_cache: str | None = None
    # where the run was trained: sslpilot, or an import (tensorboard, mlflow, csv, wandb) or an audit
    source: str | None = None
    # schema v5: where the worker runs (a configured backend name; None = this machine's queue)
    backend: str | None = None
    job_id: str | None = None
    job_state: str | None = None
    nodes: int | None = None
    # schema v6: who launched it (tools/access.py), and why a queued run waits (tools/fairshare.py)
    owner: str | None = Field(default=None, index=True)
    wait_reason: str | None = None
    # schema v7: the run's ended device spells from its status events, [[start, end, gpus], ...] (0: a CPU slot): a
    # resumed run's earlier time, which started_at (reset by the resume) no longer covers, still counts in the fair
    # order
    earlier_use_json: str | None = None
    # schema v8: the runs this one waits on, their ids joined by "," (Slurm's afterok): queued until they have all
    # succeeded, from its folder's "after" event (tools/runs.enqueue; tools/queue.Dispatcher.hold_waiting)
    after_id: str | None = None
    # schema v9: waits until they have ended however they ended (Slurm's afterany), not until they succeeded
    after_any: bool | None = None

    @property
    def waits_for(self) -> list[str]:
        """The ids of the runs this one waits on (after_id), none when it waits for none."""
        return [i for i in (self.after_id or "").split(",") if i]


class MetricSummary(SQLModel, table=True):
    __tablename__ = "metric_summary"
    run_id: str = Field(primary_key=True, foreign_key="run.id")
    key: str = Field(primary_key=True)
    first: float | None = None
    last: float | None = None
    min: float | None = None
    max: float | None = None
    last_step: int | None = None
    count: int = 0


class ProbeResult(SQLModel, table=True):
    __tablename__ = "probe_result"
    run_id: str = Field(primary_key=True, foreign_key="run.id")
    probe_acc: float | None = None
    knn_acc: float | None = None
    recall_at_5: float | None = None
    baseline_probe_acc: float | None = None
    baseline_knn_acc: float | None = None
    result_json: str = "{}"
    created_at: float = Field(default_factory=now)


class Event(SQLModel, table=True):
    run_id: str = Field(primary_key=True, foreign_key="run.id")
    seq: int = Field(primary_key=True)
    time: float = 0.0
    type: str = Field(index=True, default="")
    message: str = ""
    data_json: str = "{}"


class Artifact(SQLModel, table=True):
    run_id: str = Field(primary_key=True, foreign_key="run.id")
    path: str = Field(primary_key=True)
    kind: str = ""  # checkpoint, encoder
    step: int | None = None
    size_bytes: int = 0


class Diagnosis(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="run.id")
    kind: str = "diagnosis"  # diagnosis | recommendation
    verdict: str = ""
    result_json: str = "{}"
    created_at: float = Field(default_factory=now)


class SchedulerState(SQLModel, table=True):
    __tablename__ = "scheduler_state"
    id: int = Field(default=1, primary_key=True)
    pid: int | None = None
    host: str | None = None
    heartbeat_at: float | None = None
    slots_json: str = "{}"


class User(SQLModel, table=True):
    """An account on a shared home (tools/accounts.py). No password hash for accounts that sign in by OIDC."""

    __tablename__ = "sslpilot_user"
    name: str = Field(primary_key=True)
    role: str = "viewer"  # viewer | member | admin (tools/access.py)
    password_hash: str | None = None  # argon2id, never the password
    max_gpus: int | None = None  # GPUs at once (None: SSLPILOT_USER_MAX_GPUS)
    max_queued: int | None = None  # runs waiting at once (None: SSLPILOT_USER_MAX_QUEUED)
    failed_logins: int = 0
    locked_until: float = 0.0
    created_at: float = Field(default_factory=now)
    updated_at: float = Field(default_factory=now)


class LoginSession(SQLModel, table=True):
    """A signed-in browser: only the token's SHA-256 is stored, so a copy of the database logs nobody in."""

    __tablename__ = "login_session"
    token_hash: str = Field(primary_key=True)
    user_name: str = Field(index=True)
    created_at: float = Field(default_factory=now)
    expires_at: float = 0.0
    closed: bool = False


class Conversation(SQLModel, table=True):
    """A chat thread and the user it belongs to: another user's `?thread=` link does not open it."""

    thread_id: str = Field(primary_key=True)
    owner: str = Field(index=True)
    created_at: float = Field(default_factory=now)
