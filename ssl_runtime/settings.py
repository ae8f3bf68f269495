"""Every `SSLPILOT_*` environment variable, read here and nowhere else (docs/configuration.md lists them).

Plain standard library, so every layer may read it (tests/test_layering.py allows it, like the catalogue).
Values are read at call time, not import time: a test or a launcher that sets a variable sees it at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    doc: str


VARIABLES: dict[str, Variable] = {v.name: v for v in (
    # where things live
    Variable("SSLPILOT_HOME", "", "home folder when --home is not given (default ./.sslpilot)"),
    Variable("SSLPILOT_DB_URL", "", "registry database as an SQLAlchemy URL (default: sqlite in the home)"),
    Variable("SSLPILOT_CACHE", "", "per-user cache of derived files, e.g. the ONNX text embedder "
                                   "(default $XDG_CACHE_HOME/sslpilot or ~/.cache/sslpilot)"),
    # the queue and the GPUs
    Variable("SSLPILOT_GPUS", "", "comma-separated GPU indices the queue may use (default: all)"),
    Variable("SSLPILOT_CPU_SLOTS", "1", "runs at once on a machine without GPUs"),
    Variable("SSLPILOT_RUNS_PER_GPU", "1", "runs that may share one GPU"),
    Variable("SSLPILOT_MIN_FREE_MB", "0", "a GPU with less free memory than this is skipped"),
    Variable("SSLPILOT_AUTOSTART", "1", "0: launching a run does not start the queue daemon"),
    Variable("SSLPILOT_TICK_S", "1.0", "seconds between the daemon's queue passes"),
    Variable("SSLPILOT_MONITOR_S", "30", "the daemon diagnoses running runs every N seconds: alerts, and early "
                                         "stops for runs with monitor.on_failure=stop (0 = off)"),
    Variable("SSLPILOT_WARM_WORKER", "1", "0: every local run starts a fresh Python (no warm launcher that has "
                                          "imported torch and transformers already)"),
    Variable("SSLPILOT_INDEX_RUNS", "1", "0: finished runs are not indexed into the run-log store"),
    Variable("SSLPILOT_USER_MAX_GPUS", "0", "GPUs one user's runs may hold at once (0 = no limit; "
                                            "`sslpilot user limit` sets it per user)"),
    Variable("SSLPILOT_USER_MAX_QUEUED", "0", "runs one user may have waiting at once (0 = no limit)"),
    Variable("SSLPILOT_FAIRSHARE_HALF_LIFE_H", "168", "half-life in hours of the GPU-hours the fair order "
                                                     "counts against a user (Slurm's default: 7 days)"),
    Variable("SSLPILOT_ASSIGNED_GPUS", "", "set by the queue for a worker: the physical GPUs it was given"),
    Variable("SSLPILOT_FULL_DISK_WAIT_S", "900", "a run whose metrics or encoder cannot be written for want of "
                                                 "space waits this long for space (trying every 10 s) before it "
                                                 "fails"),
    # the chat
    Variable("SSLPILOT_LLM", "offline", "planner: offline, openai:MODEL, anthropic:MODEL or ollama:MODEL"),
    Variable("SSLPILOT_LLM_BASE_URL", "", "an OpenAI-compatible server for SSLPILOT_LLM=openai:..."),
    Variable("SSLPILOT_MAX_MODEL_CALLS", "6", "LLM calls per chat turn"),
    Variable("SSLPILOT_MAX_LAUNCHES", "20", "launches per conversation"),
    Variable("SSLPILOT_MAX_GPU_HOURS", "100", "estimated GPU-hours per conversation"),
    Variable("SSLPILOT_CONFIRM_MINUTES", "30", "a yes that comes more than this many minutes after the chat's last "
                                              "turn shows the waiting action again, as it stands now, instead of "
                                              "acting on it"),
    Variable("SSLPILOT_ASSUMED_IMG_PER_S", "2000", "throughput the GPU-hour estimate assumes"),
    # the knowledge store
    Variable("SSLPILOT_EMBEDDINGS", "minilm", "text embedder: minilm (offline) or openai:MODEL"),
    Variable("SSLPILOT_EMBED_RUNTIME", "onnx", "onnx (fast cold start) or torch for MiniLM"),
    # the UI
    Variable("SSLPILOT_SESSION_HOURS", "12", "a browser login with a local account lasts this long"),
    Variable("SSLPILOT_OIDC_ROLE", "viewer", "role of someone who signs in by OIDC and has no account here"),
    Variable("SSLPILOT_UI_AUTH", "", "set by `sslpilot ui`: off (--no-auth) or empty (log in when accounts or "
                                     "OIDC are configured)"),
    Variable("SSLPILOT_UI_PORT", "8501", "port of `bash scripts/dev.sh demo` (the CLI takes --port)"),
)}


def get(name: str) -> str:
    """The variable's value, or its default; an undeclared name is a KeyError (declare it above first)."""
    return os.environ.get(name) or VARIABLES[name].default


def get_int(name: str) -> int:
    return int(get(name))


def get_float(name: str) -> float:
    return float(get(name))


def get_if_set(name: str) -> str | None:
    """The value when the variable is present (even empty: SSLPILOT_GPUS= means no GPU), else None."""
    assert name in VARIABLES, name
    return os.environ.get(name)
