"""The `sslpilot` command line (typer). Every command with --json prints exactly one JSON object on stdout;
errors exit non-zero with a one-line reason on stderr and no traceback."""

from __future__ import annotations

import functools
import json
import sys
from typing import Annotated

import typer

from ssl_runtime.errors import SSLPilotError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="sslpilot: pretrain, probe and diagnose SSL encoders.")

HomeOpt = Annotated[str | None, typer.Option("--home", help="home folder (default $SSLPILOT_HOME or ./.sslpilot)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def _emit(obj: dict, as_json: bool, human: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(obj, default=str) + "\n")
    else:
        typer.echo(human if human is not None else json.dumps(obj, indent=1, default=str))


def cli_errors(fn):
    """SSLPilotError -> 'error: ...' on stderr, exit 2. Anything else -> one line, exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SSLPilotError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
            typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


class _Progress:
    """Rich progress bar on a terminal, plain lines otherwise (on stderr when stdout carries JSON)."""

    def __init__(self, total_hint: int | None, quiet_stdout: bool):
        self.rich = sys.stderr.isatty() and not quiet_stdout
        self.err = quiet_stdout
        self._bar = None
        self._task = None

    def __enter__(self):
        if self.rich:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
            self._bar.__enter__()
        return self

    def __call__(self, row: dict) -> None:
        info = " ".join(f"{k}={v:.4g}" for k, v in row.items()
                        if k in ("loss", "health/std", "health/rank", "samples_per_s") and isinstance(v, float))
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("training", total=row["total_steps"], info="")
            self._bar.update(self._task, completed=row["step"], info=info)
        else:
            typer.echo(f"step {row['step']}/{row['total_steps']} {info}", err=self.err)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)


@app.command()
@cli_errors
def pretrain(
    method: Annotated[str | None, typer.Option(help="simclr, moco, byol, simsiam, dino, barlow_twins, vicreg, mae")] = None,
    data: Annotated[str | None, typer.Option(help="built-in name (digits, shapes) or a folder path")] = None,
    epochs: Annotated[int | None, typer.Option(help="epochs (or --steps)")] = None,
    steps: Annotated[int | None, typer.Option(help="optimiser steps (or --epochs)")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML/JSON config file")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. optim.lr=0.001")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
    probe: Annotated[bool, typer.Option(help="run the linear probe when the run ends")] = True,
) -> None:
    """Pretrain an encoder and (for labelled data) probe it."""
    from ssl_runtime.config import resolve_config
    from tools.home import Home
    from tools.runs import new_run_folder, train_in_process

    fields = {"method": method, "train.epochs": epochs, "train.steps": steps, "train.batch_size": batch_size}
    if data is not None:
        fields["data.name" if data in ("digits", "shapes") else "data.path"] = data
    if steps is not None:
        fields["train.epochs"] = None
    cfg = resolve_config(config, set_ or [], **fields)
    folder = new_run_folder(Home.resolve(home), cfg)
    if not as_json:
        typer.echo(f"run {folder.run_id}: {cfg.method} on {cfg.data.name or cfg.data.path} -> {folder.path}", err=True)
    with _Progress(None, quiet_stdout=as_json) as progress:
        summary = train_in_process(folder, progress=progress, probe=probe)
    out = {"run_id": folder.run_id, "status": summary["status"], "run_dir": str(folder.path), "summary": summary}
    human = _pretrain_text(out)
    _emit(out, as_json, human)
    if summary["status"] != "succeeded":
        raise typer.Exit(3)


def _pretrain_text(out: dict) -> str:
    s = out["summary"]
    lines = [f"run {out['run_id']} {s['status']}: {s.get('message', '')} ({s.get('steps')} steps, "
             f"{s.get('wall_time_s', 0):.1f}s, {s.get('samples_per_s', 0):.0f} img/s on {s.get('device')})"]
    final = s.get("final", {})
    if "health/std" in final:
        lines.append(f"  health: std {final['health/std']:.4f} (healthy ~{1 / (s['embedding_dim'] ** 0.5):.4f}), "
                     f"RankMe {final.get('health/rank', 0):.1f} of {s['embedding_dim']}")
    p = s.get("probe")
    if p:
        b = p.get("baseline", {})
        lines.append(f"  linear probe {p['probe/acc']:.3f} (random init {b.get('probe/acc', float('nan')):.3f}), "
                     f"kNN {p['knn/acc']:.3f} (random init {b.get('knn/acc', float('nan')):.3f})")
    lines.append(f"  folder: {out['run_dir']}")
    return "\n".join(lines)


@app.command("probe")
@cli_errors
def probe_cmd(run: Annotated[str, typer.Argument(help="run id or run folder")], home: HomeOpt = None,
              as_json: JsonOpt = False,
              device: Annotated[str, typer.Option(help="auto, cpu, cuda")] = "auto") -> None:
    """Linear probe and kNN of a finished run's encoder, with a random-init baseline."""
    from ssl_runtime.probe import probe_run
    from tools.home import Home
    from tools.runs import find_run

    folder = find_run(Home.resolve(home), run)
    result = probe_run(folder.path, device=device)
    b = result["baseline"]
    _emit(result, as_json, f"run {folder.run_id}: linear probe {result['probe/acc']:.3f} "
          f"(random init {b['probe/acc']:.3f}), kNN {result['knn/acc']:.3f} (random init {b['knn/acc']:.3f}), "
          f"recall@5 {result['knn/recall@5']:.3f}")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
