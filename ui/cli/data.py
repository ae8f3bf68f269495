"""`sslpilot data prepare | ls | show | rm`: dataset caches, decoded once and reused by every run."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tools.home import bytes_text
from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


class _BuildProgress:
    """A rich bar on a terminal; otherwise a line every 10% on stderr."""

    def __init__(self):
        self.bar = self.task = None
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            if self.bar is None:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

                self.bar = Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
                self.bar.start()
                self.task = self.bar.add_task("caching", total=total)
            self.bar.update(self.task, completed=done)
            if done >= total:
                self.bar.stop()
        elif done * 10 // max(total, 1) != self.last:
            self.last = done * 10 // max(total, 1)
            typer.echo(f"caching: {done}/{total} images", err=True)


@app.command("prepare")
def data_prepare(path: Annotated[str, typer.Argument(help="image folder, datasets folder, .tar shard(s) or .csv/.jsonl")],
                 max_side: Annotated[int, typer.Option("--max-side", help="longest side kept (aspect kept)")] = 256,
                 fmt: Annotated[str, typer.Option("--format", help="auto (raw up to 64 px, else jpeg), raw, jpeg")] = "auto",
                 workers: Annotated[int | None, typer.Option(help="decoding processes (default: all cores)")] = None,
                 home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Build the dataset cache for PATH now, so the first run starts at once (runs build it on first use too)."""
    from tools import datasets

    out = datasets.prepare(the_home(), path, max_side, fmt, workers, progress=_BuildProgress(),
                           log=lambda m: typer.echo(m, err=True))
    emit(out, as_json, f"{out['message']}\n  {out['images']} images, {bytes_text(out['bytes'])} "
          f"({out['bytes_per_image'] / 1e3:.1f} kB per image; source {bytes_text(out['source_bytes'])})")


@app.command("ls")
def data_ls(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List the dataset caches in the home."""
    from tools import datasets

    rows = datasets.list_caches(the_home())
    human = "\n".join(f"{r['name']}  {r['images']} images  {r['format']} <= {r['max_side']} px  {bytes_text(r['bytes'])}"
                      f"  {r['source']}" for r in rows) or "no dataset caches yet (`sslpilot data prepare PATH`)"
    emit({"datasets": rows}, as_json, human)


@app.command("show")
def data_show(name: Annotated[str, typer.Argument(help="cache name from `sslpilot data ls`")], home: HomeOpt = None,
              as_json: JsonOpt = False) -> None:
    """One cache: source, settings, classes, unreadable files and the runs that used it."""
    from tools import datasets

    emit(datasets.show(the_home(), name), as_json)


@app.command("rm")
def data_rm(name: Annotated[str, typer.Argument(help="cache name from `sslpilot data ls`")], home: HomeOpt = None,
            force: Annotated[bool, typer.Option("--force", help="even if a queued or running run reads it")] = False,
            as_json: JsonOpt = False) -> None:
    """Remove a cache (finished runs keep their results; the next run on that data rebuilds it)."""
    from tools import datasets

    out = datasets.remove(the_home(), name, force)
    emit(out, as_json, f"removed {name} ({bytes_text(out['bytes'])})")
