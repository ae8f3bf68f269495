"""`sslpilot rename | tag | note`: a run's name, tags and notes, kept in its folder (tools/run_notes.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


def _change(run: str, as_json: bool, **change) -> None:
    from tools.run_notes import Annotation, tags_of
    from tools.runs import annotate, run_row

    asked = Annotation(**change)
    r = annotate(the_home(), run, asked)
    tags = ", ".join(tags_of(r)) or "none"
    emit(run_row(r), as_json, f"run {r.id}: {asked.describe()} (name: {r.name or '-'}; tags: {tags})")


@app.command()
def rename(run: Annotated[str, typer.Argument(help="run id")], name: Annotated[str, typer.Argument(help="new name")],
           home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Give a run a name (shown beside its id; the chat finds runs by it)."""
    _change(run, as_json, name=name)


@app.command()
def tag(run: Annotated[str, typer.Argument(help="run id")],
        tags: Annotated[list[str], typer.Argument(help="one or more tags, e.g. baseline v2")],
        remove: Annotated[bool, typer.Option("--remove", help="take these tags off instead")] = False,
        home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Tag a run, to find it again with `sslpilot runs --tag TAG`."""
    _change(run, as_json, **{"remove_tags" if remove else "add_tags": tags})


@app.command()
def note(run: Annotated[str, typer.Argument(help="run id")],
         text: Annotated[list[str], typer.Argument(help="the note (the rest of the line)")],
         home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Add a note to a run: what it was for, what went wrong (notes are kept in order, newest last)."""
    _change(run, as_json, note=" ".join(text))
