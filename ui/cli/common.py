"""What every command shares: the home (resolved once per invocation), JSON or human output, and markdown."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tools.home import Home


_invocation: dict = {}  # this process's one command line: the --home given, and the Home once resolved


def _remember_home(value: str | None) -> str | None:
    """`--home` is accepted before or after the command name; the last one given wins."""
    if value is not None:
        _invocation["home_arg"] = value
        _invocation.pop("home", None)
    return value


HomeOpt = Annotated[str | None, typer.Option("--home", callback=_remember_home, expose_value=False,
                                             help="home folder (wins over $SSLPILOT_HOME; default ./.sslpilot)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def the_home() -> Home:
    """This invocation's home: --home, else $SSLPILOT_HOME, else ./.sslpilot; resolved on first use, then kept."""
    from tools.home import Home

    if "home" not in _invocation:
        _invocation["home"] = Home.resolve(_invocation.get("home_arg"))
    return _invocation["home"]


def emit(obj: dict, as_json: bool, human: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(obj, default=str) + "\n")
    else:
        typer.echo(human if human is not None else json.dumps(obj, indent=1, default=str))


def echo_markdown(text: str) -> None:
    """Answers are markdown (shared with the chat): rendered on a terminal, plain when piped."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        typer.echo(text)
