"""`sslpilot export RUN --to tensorboard|mlflow`: a run's metrics.jsonl written out after the fact.

Runs log live to both while they train (ssl_runtime/sinks.py, when the packages are installed); this is for
runs trained before that, imported runs, or another MLflow server. The same sink classes write both ways.
"""

from __future__ import annotations

import os
from pathlib import Path

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home
from tools.registry import Registry, run_id_of

TARGETS = ("tensorboard", "mlflow")


def export_run(home: Home, run_ref: str, to: str, uri: str | None = None, out: str | None = None,
               experiment: str = "sslpilot") -> dict:
    from ssl_runtime.sinks import MLflowSink, TensorBoardSink

    if to not in TARGETS:
        raise SSLPilotError(f"cannot export to {to!r}", field="to", fix="use --to tensorboard or --to mlflow")
    run = Registry(home).sync(run_id_of(run_ref))
    folder = RunFolder(run.run_dir)
    rows = folder.read_metrics()
    if not rows:
        raise SSLPilotError(f"run {run.id} has no metrics to export", field="run")
    config = folder.read_config()
    try:
        if to == "tensorboard":
            target = Path(out).expanduser() if out else folder.path / "tensorboard-export"
            if target.exists() and any(".tfevents." in p.name for p in target.iterdir()):
                raise SSLPilotError(f"{target} already holds event files", field="out",
                                    fix="pass --out to another folder, or remove that one first")
            sink = TensorBoardSink(target)
        else:
            uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
            if not uri:
                raise SSLPilotError("no MLflow tracking URI", field="uri",
                                    fix="pass --uri (e.g. sqlite:///mlflow.db or http://127.0.0.1:5000) or set "
                                        "MLFLOW_TRACKING_URI")
            sink = MLflowSink(folder, uri, experiment, run.name or f"sslpilot run {run.id}", continue_run=False)
            target = f"{uri}#{sink.run_id}"
    except ImportError as exc:
        raise SSLPilotError(f"exporting to {to} needs the {exc.name} package", field="to",
                            fix=f"pip install 'sslpilot[{to}]'") from None
    sink.params(config)
    for row in rows:
        sink.log({k: v for k, v in row.items() if k != "epoch"})
    sink.close(run.status)
    folder.event("export", f"metrics exported to {to}: {target}", to=to, target=str(target), rows=len(rows))
    return {"run_id": run.id, "to": to, "target": str(target), "rows": len(rows),
            "metrics": sorted({k for r in rows for k in r if k not in ("step", "epoch")})}
