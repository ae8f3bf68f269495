"""`sslpilot import PATH`: runs trained elsewhere, brought into the registry.

Formats, detected from what is at PATH (or named with `fmt`):
- `sslpilot`: a run folder made by sslpilot elsewhere (copied as it is);
- `tensorboard`: event files (`events.out.tfevents.*`), one run per folder holding them;
- `mlflow`: an `mlruns` folder, an `mlflow.db`, or a tracking URI (every run, or `run_id`);
- `csv`: Lightning's `metrics.csv` or any CSV with a step column; `wandb` for a W&B history export;
- `wandb`: a W&B offline run folder (`wandb/offline-run-*`).
"""

from __future__ import annotations

from ssl_runtime.catalogue import check_method
from ssl_runtime.errors import SSLPilotError
from tools.home import Home
from tools.imports.foreign import ForeignRun, expand, write_foreign_run
from tools.records import Run

FORMATS = ("sslpilot", "tensorboard", "mlflow", "csv", "wandb")


def detect(target: str) -> str:
    """The format at `target`, or an error that lists what was looked for."""
    from tools.imports import mlflow_runs, tensorboard_logs, wandb_offline

    if "://" in target:
        return "mlflow"
    p = expand(target)
    if p.is_dir() and (p / "config.yaml").exists() and (p / "events.jsonl").exists():
        return "sslpilot"
    if mlflow_runs.looks_like_mlruns(p):
        return "mlflow"
    if tensorboard_logs.event_files(p):
        return "tensorboard"
    if wandb_offline.run_files(p):
        return "wandb"
    if p.is_file() and p.suffix.lower() == ".csv":
        return "csv"
    if p.is_dir() and (p / "metrics.csv").exists():
        return "csv"
    raise SSLPilotError(f"{p} holds no run logs sslpilot can read", field="path",
                        fix="give an sslpilot run folder, TensorBoard event files, an mlruns folder or MLflow "
                            "URI, a Lightning metrics.csv or W&B history CSV, or a W&B offline run folder")


def read(target: str, fmt: str | None = None, run_id: str | None = None) -> list[ForeignRun]:
    from tools.imports import csv_logs, mlflow_runs, tensorboard_logs, wandb_offline

    fmt = fmt or detect(target)
    if fmt == "mlflow":
        return mlflow_runs.read(target, run_id)
    p = expand(target)
    if fmt == "tensorboard":
        runs = tensorboard_logs.read(p)
    elif fmt == "wandb" and (p.is_dir() or p.suffix == ".wandb"):
        runs = wandb_offline.read(p)
    elif fmt in ("csv", "wandb"):
        runs = csv_logs.read(p / "metrics.csv" if p.is_dir() else p)
    else:
        raise SSLPilotError(f"unknown import format {fmt!r}", field="format", fix=f"use one of {', '.join(FORMATS)}")
    if not runs:
        raise SSLPilotError(f"{p} holds no {fmt} runs", field="path")
    return runs


def import_path(home: Home, target: str, *, fmt: str | None = None, run_id: str | None = None,
                method: str | None = None, embedding_dim: int | None = None, name: str | None = None) -> list[Run]:
    """Import every run found at `target`; returns their registry rows (new ids, status from the logs)."""
    from tools.access import require

    require(home, "member", "importing runs")
    if method is not None:
        check_method(method)
    fmt = fmt or detect(target)
    from tools.diagnosis import diagnose_on_arrival

    if fmt == "sslpilot":
        from tools.runs import import_run

        return diagnose_on_arrival(home, [import_run(home, target)])
    runs = read(target, fmt, run_id)  # an unknown format is refused there
    return diagnose_on_arrival(home, [write_foreign_run(home, r, method=method, embedding_dim=embedding_dim,
                                                        name=name if len(runs) == 1 else None) for r in runs])
