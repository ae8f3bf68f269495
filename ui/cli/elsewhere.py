"""`sslpilot import | audit | export`: runs trained elsewhere, and ours written out."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


@app.command("import")
def import_cmd(path: Annotated[str, typer.Argument(help="run logs made elsewhere: an sslpilot run folder, TensorBoard "
                                                        "event files, an mlruns folder or MLflow URI, a metrics.csv, "
                                                        "a W&B offline run folder or history CSV")],
               fmt: Annotated[str | None, typer.Option("--format", help="sslpilot|tensorboard|mlflow|csv|wandb "
                                                                        "(detected when left out)")] = None,
               run_id: Annotated[str | None, typer.Option("--run-id", help="one MLflow run")] = None,
               method: Annotated[str | None, typer.Option(help="the SSL method, where the logs do not say")] = None,
               embedding_dim: Annotated[int | None, typer.Option("--embedding-dim", help="the projection width d "
                                                                 "the logged z-std was measured on")] = None,
               name: Annotated[str | None, typer.Option(help="a name for the imported run")] = None,
               home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Register runs trained elsewhere, so they can be compared and diagnosed."""
    from tools.imports import import_path
    from tools.runs import run_row

    runs = import_path(the_home(), path, fmt=fmt, run_id=run_id, method=method, embedding_dim=embedding_dim,
                       name=name)
    lines = [f"imported as run {r.id} ({r.source or 'sslpilot'}, {r.method or 'method unknown'}, {r.status})"
             for r in runs]
    emit({"runs": [run_row(r) for r in runs]}, as_json, "\n".join(lines))


@app.command("audit")
def audit_cmd(checkpoints: Annotated[list[str], typer.Argument(help="checkpoints of one encoder: Lightning .ckpt, "
                                                                     ".pt/.pth/.safetensors state dicts, TorchScript "
                                                                     "files or transformers folders")],
              data: Annotated[str, typer.Option(help="held-out images (class subfolders give kNN and a probe), or "
                                                     "digits/shapes")],
              arch: Annotated[str | None, typer.Option(help="resnet18|resnet34|resnet50|resnet101|small_cnn, when "
                                                            "the keys do not say")] = None,
              method: Annotated[str | None, typer.Option(help="the SSL method it was trained with")] = None,
              image_size: Annotated[int | None, typer.Option("--image-size", help="input side (default: from the "
                                                             "architecture, 224 or 32 for CIFAR stems)")] = None,
              allow_pickle: Annotated[bool, typer.Option("--allow-pickle", help="load checkpoints that need a full "
                                                         "unpickle (runs code: only for files you trust)")] = False,
              name: Annotated[str | None, typer.Option(help="a name for the audit run")] = None,
              home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Measure encoders trained anywhere (health, kNN, linear probe); the result is a run you can diagnose."""
    from tools.audit import audit
    from tools.runs import run_row

    r = audit(the_home(), checkpoints, data, arch=arch, method=method, name=name, image_size=image_size,
              allow_pickle=allow_pickle)
    emit(run_row(r), as_json, f"audit run {r.id}: {len(checkpoints)} checkpoint(s) measured; "
                               f"`sslpilot diagnose {r.id}` reads it")


@app.command("export")
def export_cmd(run: Annotated[str, typer.Argument(help="run id")],
               to: Annotated[str, typer.Option(help="tensorboard or mlflow")],
               uri: Annotated[str | None, typer.Option(help="MLflow tracking URI (default MLFLOW_TRACKING_URI)")] = None,
               out: Annotated[str | None, typer.Option(help="TensorBoard log folder (default <run>/tensorboard-export)")]
               = None,
               home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Write a run's metrics to TensorBoard event files or an MLflow run (runs also log to both live)."""
    from tools.exports import export_run

    out_ = export_run(the_home(), run, to, uri=uri, out=out)
    emit(out_, as_json, f"run {out_['run_id']}: {out_['rows']} rows exported to {out_['target']}")
