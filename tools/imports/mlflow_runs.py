"""MLflow runs, read with MLflow's own client (the `sslpilot[mlflow]` extra), from an `mlruns` folder, an
`mlflow.db` file, or any tracking URI (`sqlite:///...`, `http://host:5000`).

MLflow 3 refuses file stores unless `MLFLOW_ALLOW_FILE_STORE=true`; reading someone's existing `mlruns`
folder is exactly the case that opt-out is for, so it is set for the read.
"""

from __future__ import annotations

import os
from pathlib import Path

from ssl_runtime.errors import SSLPilotError
from tools.imports.foreign import ForeignRun


def tracking_uri(target: str) -> str:
    if "://" in target:
        return target
    p = Path(target).expanduser().resolve()
    if p.is_file():
        return f"sqlite:///{p}"
    return p.as_uri()


def looks_like_mlruns(p: Path) -> bool:
    """An `mlruns` folder (experiment folders holding meta.yaml), one experiment folder, or an mlflow.db."""
    if p.is_file():
        return p.suffix == ".db" and "mlflow" in p.name
    return (p / "0" / "meta.yaml").exists() or any(p.glob("*/meta.yaml")) or (
        (p / "meta.yaml").exists() and (p / "metrics").is_dir())


def read(target: str, run_id: str | None = None) -> list[ForeignRun]:
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise SSLPilotError("reading MLflow runs needs the mlflow package", field="path",
                            fix="pip install 'sslpilot[mlflow]'") from None
    path = Path(target).expanduser()
    if "://" not in target and path.is_dir() and (path / "meta.yaml").exists() and (path / "metrics").is_dir():
        run_id = run_id or path.name  # one run's folder inside mlruns/<experiment>/
        target = str(path.parent.parent)
    uri = tracking_uri(target)
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        client = MlflowClient(tracking_uri=uri)
        if run_id:
            runs = [client.get_run(run_id)]
        else:
            experiments = client.search_experiments()
            runs = client.search_runs([e.experiment_id for e in experiments], max_results=10_000) if experiments else []
    except MlflowException as exc:
        raise SSLPilotError(f"MLflow could not read {uri}: {exc.message.splitlines()[0]}", field="path",
                            fix="give an mlruns folder, an mlflow.db file or a tracking URI, and --run-id if needed") from None
    out = []
    for run in runs:
        scalars: dict[str, list[tuple[int, float]]] = {}
        for key in run.data.metrics:
            history = client.get_metric_history(run.info.run_id, key)
            scalars[key] = [(m.step, m.value) for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
        params: dict = dict(run.data.params)
        name = run.info.run_name or run.info.run_id
        notes = [] if run.info.status == "FINISHED" else [f"MLflow status {run.info.status}"]
        out.append(ForeignRun("mlflow", f"{uri}#{run.info.run_id}", name, scalars, params, notes))
    if not out:
        raise SSLPilotError(f"{uri} holds no MLflow runs", field="path")
    return out
