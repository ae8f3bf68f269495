"""The `sslpilot` command line (typer), one module per command group. Every command with --json prints exactly
one JSON object on stdout; any error becomes one line on stderr (exit 2 for input the user can fix, 1 otherwise)
in `main`, once for all commands."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from ssl_runtime.errors import SSLPilotError
from ui.cli import (
    annotate,
    backend,
    data,
    elsewhere,
    front,
    judge,
    knowledge,
    queue,
    registry,
    runs,
    trash,
    users,
)
from ui.cli.common import HomeOpt

app = typer.Typer(add_completion=False, no_args_is_help=True, help="sslpilot: pretrain, probe and diagnose SSL encoders.")


@app.callback()
def _root(home: HomeOpt = None) -> None:
    """sslpilot: pretrain, probe and diagnose SSL encoders."""


for group in (runs, annotate, trash, elsewhere, judge, knowledge, front, queue):  # commands at the top level
    app.registered_commands.extend(group.app.registered_commands)
app.add_typer(registry.app, name="registry", help="registry maintenance")
app.add_typer(backend.app, name="backend", help="cluster backends: where runs go besides this machine's queue")
app.add_typer(users.auth_app, name="auth", help="how the UI signs people in: OIDC")
app.add_typer(users.app, name="user", help="accounts on a shared home: roles, passwords, queue limits")
app.registered_commands.append(next(c for c in users.app.registered_commands if c.name == "whoami"))
app.add_typer(trash.trash_app, name="trash", help="deleted runs: list them, or empty the trash to free the disk")
app.add_typer(data.app, name="data", help="dataset caches: decode a folder once, reuse it in every run")


def main() -> None:
    """The console entry point: the app, with every error turned into one line."""
    try:
        app()
    except SSLPilotError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:  # a tool's arguments checked by its model: the field and what it takes
        first = exc.errors()[0]
        typer.echo(f"error: {'.'.join(map(str, first['loc'])) or exc.title}: {first['msg']}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
