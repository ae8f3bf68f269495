"""A run read from another tool's logs, written into the home as an ordinary run folder.

The folder is what every other part of sslpilot reads (the registry, the diagnosis, the UI), so an imported
run is compared, searched and diagnosed like one trained here. Its `config.yaml` holds what is known (the
method when it could be inferred, the foreign hyperparameters under `imported_params`), `metrics.jsonl`
the metrics under sslpilot's names, and an `import` event names the source format, origin and name map.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home
from tools.imports.names import STEP_KEYS, infer_embedding_dim, infer_method, map_names
from tools.records import Run
from tools.registry import Registry


@dataclass
class ForeignRun:
    source: str  # tensorboard | mlflow | csv | wandb
    origin: str  # the file, folder or URI it was read from
    name: str
    scalars: dict[str, list[tuple[int, float]]]  # foreign metric name -> (step, value)
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was skipped or damaged, said to the user


def rows_from_scalars(scalars: dict[str, list[tuple[int, float]]], names: dict[str, str]) -> list[dict]:
    """One metrics.jsonl row per step, sslpilot names, in step order (the last value wins within a step)."""
    by_step: dict[int, dict] = {}
    for foreign, points in scalars.items():
        key = names[foreign]
        for step, value in points:
            by_step.setdefault(int(step), {"step": int(step)})[key] = float(value)
    return [by_step[s] for s in sorted(by_step)]


def write_foreign_run(home: Home, run: ForeignRun, *, method: str | None = None, embedding_dim: int | None = None,
                      name: str | None = None) -> Run:
    """Create the run folder under a new id, register it, and return its registry row."""
    from tools.runs import new_folder_path

    if not any(run.scalars.values()):
        raise SSLPilotError(f"{run.origin} has no scalar metrics to import", field="path",
                            fix="point at the folder or file the training script logged its metrics to")
    scalars = {k: v for k, v in run.scalars.items() if k.strip().lower() not in STEP_KEYS}
    names = map_names(list(scalars))
    method = method or infer_method(run.params, list(scalars), run.name) or ""
    dim = embedding_dim or infer_embedding_dim(run.params)
    config = {"name": name or run.name, "method": method, "data": {"name": str(run.params.get("dataset", "")) or
                                                                   "unknown"},
              "imported_params": _plain(run.params)}
    rows = rows_from_scalars(scalars, names)
    folder = RunFolder(new_folder_path(home)).create()
    try:
        folder.config.write_text(yaml.safe_dump(config, sort_keys=False))
        with folder.metrics.open("w") as f:  # NaN and inf are written as the runtime writes them
            f.writelines(json.dumps(row) + "\n" for row in rows)
        mapped = {k: v for k, v in names.items() if k != v}
        folder.event("import", f"imported from {run.source}: {run.origin}", format=run.source, origin=run.origin,
                     mapped=mapped, notes=run.notes)
        from tools.access import current, record_owner

        record_owner(folder, current(home))
        last_loss = next((r["loss"] for r in reversed(rows) if "loss" in r), None)
        status = "diverged" if isinstance(last_loss, float) and not math.isfinite(last_loss) else "succeeded"
        folder.set_status(status, f"imported from {run.source}" + (" (its loss ended non-finite)"
                                                                   if status == "diverged" else ""))
        folder.write_summary({"status": status, "source": run.source, "origin": run.origin,
                              "embedding_dim": dim, "total_steps": rows[-1]["step"] if rows else 0,
                              "import": {"mapped": mapped, "kept": sorted(set(names.values()) - set(mapped.values())),
                                         "notes": run.notes, "method_inferred": method or None}})
        return Registry(home).register_folder(folder, tags=["imported", run.source], notes=f"imported from {run.origin}")
    except BaseException:
        shutil.rmtree(folder.path, ignore_errors=True)  # a half-written import leaves nothing behind
        raise


def _plain(params: dict) -> dict:
    """Hyperparameters as YAML-safe plain values."""
    out = {}
    for k, v in params.items():
        if isinstance(v, dict):
            out[str(k)] = _plain(v)
        elif isinstance(v, (str, int, float, bool)) or v is None:
            out[str(k)] = v
        else:
            out[str(k)] = str(v)
    return out


def expand(path: str | os.PathLike) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise SSLPilotError(f"{p} does not exist", field="path", fix="give the log folder or file to import")
    return p.resolve()
