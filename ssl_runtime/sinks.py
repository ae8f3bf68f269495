"""Where metric rows go besides metrics.jsonl: TensorBoard event files in the run folder, and an MLflow run.

metrics.jsonl stays the source of truth; these mirror it for the dashboards people already use. Both are
optional: TensorBoard needs the `tensorboard` package, MLflow the `mlflow` package and a tracking URI
(`train.mlflow_uri`, or MLFLOW_TRACKING_URI). Rows arrive only at logging steps, where the trainer has
already synchronised with the device, so the per-step path is untouched. A sink that fails (a full disk,
an unreachable server) is dropped with a warning in the run's events; training goes on.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from ssl_runtime.config import flatten_dotted
from ssl_runtime.run_folder import RunFolder

MLFLOW_KEY = re.compile(r"[^\w./\- :]")  # MLflow's allowed metric-name characters


def mlflow_key(name: str) -> str:
    return MLFLOW_KEY.sub("_", name)


class TensorBoardSink:
    """Event files under <run>/tensorboard/. On a resume, `purge_step` hides the steps being replayed."""

    def __init__(self, log_dir: Path, purge_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self.writer = SummaryWriter(str(log_dir), purge_step=purge_step)

    def log(self, row: dict) -> None:
        step = int(row["step"])
        for key, value in row.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(key, float(value), step)

    def params(self, params: dict) -> None:
        self.writer.add_text("config", "```\n" + json.dumps(params, indent=1, default=str) + "\n```", 0)

    def close(self, status: str = "succeeded") -> None:
        self.writer.close()


class MLflowSink:
    """One MLflow run per sslpilot run; its id is kept in <run>/mlflow.json so a resume continues it."""

    def __init__(self, folder: RunFolder, uri: str, experiment: str, run_name: str, continue_run: bool = True):
        from mlflow.tracking import MlflowClient

        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # a plain mlruns folder is a fine target
        self.client = MlflowClient(tracking_uri=uri)
        marker = folder.path / "mlflow.json"
        known = json.loads(marker.read_text()) if marker.exists() else {}
        if continue_run and known.get("uri") == uri and known.get("run_id"):
            self.run_id = known["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
        else:
            exp = self.client.get_experiment_by_name(experiment)
            exp_id = exp.experiment_id if exp else self.client.create_experiment(experiment)
            self.run_id = self.client.create_run(exp_id, run_name=run_name,
                                                 tags={"sslpilot.run_id": folder.run_id}).info.run_id
            if not known:
                marker.write_text(json.dumps({"uri": uri, "run_id": self.run_id, "experiment": experiment}))

    def log(self, row: dict) -> None:
        from mlflow.entities import Metric

        step, now = int(row["step"]), int(time.time() * 1000)
        metrics = [Metric(mlflow_key(k), float(v), now, step) for k, v in row.items()
                   if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)]
        for start in range(0, len(metrics), 1000):  # MLflow's batch limit
            self.client.log_batch(self.run_id, metrics=metrics[start:start + 1000])

    def params(self, params: dict) -> None:
        from mlflow.entities import Param

        flat = flatten_dotted(params)
        items = [Param(k[:250], str(v)[:6000]) for k, v in flat.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[start:start + 100])

    def close(self, status: str = "succeeded") -> None:
        self.client.set_terminated(self.run_id, status="FINISHED" if status == "succeeded" else
                                   "KILLED" if status in ("cancelled", "interrupted") else "FAILED")


class MetricSinks:
    """The sinks a run's config asks for; each failure drops only that sink."""

    def __init__(self, folder: RunFolder, tensorboard: bool, mlflow_uri: str | None, experiment: str,
                 run_name: str, params: dict | None = None, purge_step: int | None = None):
        self.folder, self.sinks = folder, []
        if tensorboard:
            self._open("tensorboard", lambda: TensorBoardSink(folder.path / "tensorboard", purge_step), params)
        uri = mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if uri:
            self._open("mlflow", lambda: MLflowSink(folder, uri, experiment, run_name), params)

    def _open(self, name: str, make, params: dict | None) -> None:
        try:
            sink = make()
            if params and not self._resumed(name):
                sink.params(params)
            self.sinks.append((name, sink))
        except ImportError as exc:
            self.folder.event("info", f"{name} logging skipped: {exc.name or exc} is not installed "
                              f"(pip install 'sslpilot[{name}]')", kind="sink_unavailable", sink=name)
        except Exception as exc:  # noqa: BLE001 - a dashboard must never stop training
            self.folder.event("warning", f"{name} logging off: {type(exc).__name__}: {exc}", kind="sink_failed",
                              sink=name)

    def _resumed(self, name: str) -> bool:
        return name == "mlflow" and any(e.get("type") == "resume" for e in self.folder.read_events())

    def log(self, row: dict) -> None:
        for name, sink in list(self.sinks):
            try:
                sink.log(row)
            except Exception as exc:  # noqa: BLE001
                self.sinks.remove((name, sink))
                self.folder.event("warning", f"{name} logging off: {type(exc).__name__}: {exc}", kind="sink_failed",
                                  sink=name)

    def close(self, status: str = "succeeded") -> None:
        for _, sink in self.sinks:
            try:
                sink.close(status)
            except Exception:  # noqa: BLE001, S110 - closing is best effort
                pass
        self.sinks = []
