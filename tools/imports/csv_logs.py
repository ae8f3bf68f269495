"""Metric tables: Lightning's CSVLogger `metrics.csv`, a W&B history export, or any CSV with a step column.

Rows are sparse (a column is empty where that metric was not logged at that step). The step is the first of
`step`, `_step` (W&B), `global_step`, `trainer/global_step`; without one, the row number is used and said.
Lightning's `hparams.yaml` beside the file gives the hyperparameters.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from ssl_runtime.errors import SSLPilotError
from tools.imports.foreign import ForeignRun
from tools.imports.names import SKIP, STEP_KEYS


def read(path: Path) -> list[ForeignRun]:
    source = "wandb" if _looks_like_wandb(path) else "csv"
    notes: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            step_key = next((k for k in header if k.strip().lower() in STEP_KEYS), None)
            if step_key is None:
                notes.append("no step column: the row number is used as the step")
            scalars: dict[str, list[tuple[int, float]]] = {}
            bad = 0
            for i, row in enumerate(reader):
                try:
                    step = int(float(row[step_key])) if step_key else i
                except (TypeError, ValueError):
                    bad += 1
                    continue
                for key, raw in row.items():
                    if key is None or key == step_key or key.strip().lower() in SKIP or raw in (None, ""):
                        continue
                    try:
                        value = float(raw)
                    except ValueError:
                        continue  # a text column (a name, a path): not a metric
                    scalars.setdefault(key, []).append((step, value))
    except csv.Error as exc:
        raise SSLPilotError(f"{path} is not a readable CSV ({exc})", field="path") from None
    except UnicodeDecodeError:
        raise SSLPilotError(f"{path} is not a text CSV", field="path") from None
    if bad:
        notes.append(f"{bad} rows without a readable step were skipped")
    params: dict = {}
    hparams = path.parent / "hparams.yaml"
    if hparams.exists():
        try:
            params = yaml.safe_load(hparams.read_text()) or {}
        except yaml.YAMLError as exc:
            notes.append(f"hparams.yaml unreadable: {exc}")
    name = path.parent.name if path.name == "metrics.csv" else path.stem
    return [ForeignRun(source, str(path), name, scalars, params if isinstance(params, dict) else {}, notes)]


def _looks_like_wandb(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as f:
        header = f.readline()
    return "_step" in header.split(",") or '"_step"' in header
