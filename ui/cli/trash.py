"""`sslpilot rm | restore | trash [empty]`: delete runs into the trash, bring them back, free the disk."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent.trash_words import KINDS, of_kind
from ssl_runtime.errors import SSLPilotError
from tools.home import bytes_text
from tools.trash import deleted_text
from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()  # rm and restore, at the top level
trash_app = typer.Typer(invoke_without_command=True)  # `sslpilot trash`, `sslpilot trash empty`


@app.command("rm")
def rm_cmd(runs: Annotated[list[str] | None, typer.Argument(help="run ids")] = None,
           kind: Annotated[str | None, typer.Option(help=f"instead of ids, every run of a kind: {', '.join(KINDS)}")]
           = None,
           older_than: Annotated[float | None, typer.Option(help="with --kind, only runs that ended more than this "
                                                             "many days ago")] = None,
           yes: Annotated[bool, typer.Option("--yes", help="with --kind, move them (without it, only list them)")]
           = False,
           home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Move finished runs to the trash (out of every list, ranking and search); `sslpilot restore N` undoes it."""
    from tools.trash import delete_runs

    h = the_home()
    if kind is not None:
        runs = _of_kind(h, kind, older_than, runs)
        if not runs or not yes:
            aged = f" ended more than {older_than:g} day{'s' if older_than != 1 else ''} ago" if older_than else ""
            found = f"run {', '.join(runs)} of kind {kind}{aged}; add --yes to move them to the trash" if runs else \
                f"no run of kind {kind}{aged}"
            emit({"run_ids": runs, "deleted": []}, as_json, found)
            return
    elif not runs:
        raise SSLPilotError("no runs named", field="runs", fix="name run ids, or choose them with --kind (and "
                            "--older-than DAYS)")
    elif older_than is not None:
        raise SSLPilotError("--older-than without --kind", field="--older-than", fix="add --kind, e.g. --kind failed")
    out = delete_runs(h, runs)
    emit(out, as_json, deleted_text(out, "`sslpilot restore N`"))


def _of_kind(home, kind: str, older_than: float | None, ids: list[str] | None) -> list[str]:
    """Your runs of the kind (an admin's: everyone's), as the chat's "delete the failed runs older than a week"."""
    from agent.planner import world_of
    from tools import access
    from tools.registry import Registry

    if ids:
        raise SSLPilotError("run ids and --kind together", field="runs", fix="give ids, or --kind, not both")
    if kind not in KINDS:
        raise SSLPilotError(f"kind {kind!r}", field="--kind", fix=f"one of {', '.join(KINDS)}")
    if older_than is not None and older_than <= 0:
        raise SSLPilotError(f"--older-than {older_than}", field="--older-than", fix="a number of days above 0")
    actor = access.current(home)
    owners = {r.id: r.owner for r in Registry(home).list(limit=100_000)}  # one query, not one a run
    chosen = of_kind(world_of(home), kind, older_than * 86400 if older_than else None)
    return [i for i in chosen if access.may_change(actor, owners.get(i))]


@app.command("restore")
def restore_cmd(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
                as_json: JsonOpt = False) -> None:
    """Bring a deleted run back from the trash."""
    from tools.agent_tools import ToolBox

    out = ToolBox(the_home()).restore_run(run)  # the chat's restore: the run back, its verdict read again
    emit(out, as_json, f"run {out['run_id']} ({out['method']}, {out['status']}) is back")


@trash_app.callback()
def trash_ls(ctx: typer.Context, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The deleted runs that can be restored, with their size."""
    if ctx.invoked_subcommand:
        return
    from tools.trash import trash_list

    rows = trash_list(the_home())
    lines = [f"run {r['run_id']}: {bytes_text(r['bytes'])}, deleted by {r['by'] or '?'}" for r in rows]
    emit({"trash": rows}, as_json, "\n".join(lines) or "the trash is empty")


@trash_app.command("empty")
def trash_empty(older_than: Annotated[float | None, typer.Option(help="only runs deleted more than this many days "
                                                                       "ago")] = None,
                yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False, home: HomeOpt = None,
                as_json: JsonOpt = False) -> None:
    """Delete the trash's runs for good, freeing the disk (their ids stay taken)."""
    from ssl_runtime.errors import SSLPilotError
    from tools.trash import empty_trash

    if not yes:
        if not sys.stdin.isatty():
            raise SSLPilotError("emptying the trash deletes runs for good", field="--yes",
                                fix="add --yes to confirm")
        typer.confirm("Delete the runs in the trash for good?", abort=True)
    out = empty_trash(the_home(), older_than)
    emit(out, as_json, f"emptied {len(out['emptied'])} run(s) from the trash ({bytes_text(out['bytes'])} freed)")
