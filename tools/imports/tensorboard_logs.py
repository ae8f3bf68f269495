"""TensorBoard event files, read with tensorboard's own reader (the `sslpilot[tensorboard]` extra).

A log folder can hold several runs (Lightning's `lightning_logs/version_N/`, one folder per run): each
folder holding event files is one run, and folders nested inside a run (the ones `add_hparams` writes) are
read into it. Hyperparameters come from the hparams plugin, or from Lightning's `hparams.yaml` beside the
events.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ssl_runtime.errors import SSLPilotError
from tools.imports.foreign import ForeignRun


def event_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root] if ".tfevents." in root.name else []
    return sorted(p for p in root.rglob("*") if p.is_file() and ".tfevents." in p.name)


def run_dirs(root: Path) -> list[Path]:
    """The outermost folders holding event files: one run each."""
    dirs = sorted({p.parent for p in event_files(root)}, key=lambda d: len(d.parts))
    outer: list[Path] = []
    for d in dirs:
        if not any(d == o or o in d.parents for o in outer):
            outer.append(d)
    return outer


def read(root: Path) -> list[ForeignRun]:
    try:
        from tensorboard.backend.event_processing.event_accumulator import SCALARS, TENSORS, EventAccumulator
    except ImportError:
        raise SSLPilotError("reading TensorBoard logs needs the tensorboard package", field="path",
                            fix="pip install 'sslpilot[tensorboard]'") from None
    if root.is_file():
        roots = [root]
    else:
        roots = run_dirs(root)
    runs = []
    for run_root in roots:
        scalars: dict[str, list[tuple[int, float]]] = {}
        params: dict = {}
        notes: list[str] = []
        files = event_files(run_root)
        for f in files:
            acc = EventAccumulator(str(f), size_guidance={SCALARS: 0, TENSORS: 0})
            try:
                acc.Reload()
            except Exception as exc:  # noqa: BLE001 - a damaged file: keep what was read, say so
                notes.append(f"{f.name}: stopped reading ({type(exc).__name__}: {exc})")
            tags = acc.Tags()
            for tag in tags.get("scalars", []):
                scalars.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
            for tag in tags.get("tensors", []):  # TF2-style summaries store scalars as 0-d tensors
                points = []
                for e in acc.Tensors(tag):
                    try:
                        from tensorboard.util import tensor_util

                        value = tensor_util.make_ndarray(e.tensor_proto)
                    except Exception:  # noqa: BLE001 - not a numeric tensor
                        break
                    if value.size == 1:
                        points.append((e.step, float(value.reshape(-1)[0])))
                if points:
                    scalars.setdefault(tag, []).extend(points)
            params.update(_hparams(acc))
        lightning = run_root / "hparams.yaml"
        if lightning.exists():
            try:
                params.update(yaml.safe_load(lightning.read_text()) or {})
            except yaml.YAMLError as exc:
                notes.append(f"hparams.yaml unreadable: {exc}")
        name = run_root.name if run_root.is_dir() else run_root.parent.name
        runs.append(ForeignRun("tensorboard", str(run_root), name, scalars, params, notes))
    return runs


def _hparams(acc) -> dict:
    """Hyperparameters written with SummaryWriter.add_hparams (or Keras's HParams callback)."""
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2

        content = acc.PluginTagToContent("hparams")
    except (KeyError, ImportError):
        return {}
    out: dict = {}
    for blob in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(blob)
        if data.HasField("session_start_info"):
            for key, value in data.session_start_info.hparams.items():
                kind = value.WhichOneof("kind")
                out[key] = getattr(value, kind) if kind else None
    return out
