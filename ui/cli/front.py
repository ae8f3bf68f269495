"""`sslpilot chat | ui`: the conversation in a terminal, and the Streamlit app."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()
LEAVE = ("exit", "quit", "/exit", "/quit", "bye")
"""What ends the terminal chat besides Ctrl-D, as in Python's and most chat REPLs ("quit" was read as a request
and answered with an offer to cancel the last run)."""


@app.command()
def chat(message: Annotated[str | None, typer.Option("--message", "-m", help="one turn, then exit")] = None,
         thread: Annotated[str | None, typer.Option("--thread", help="conversation id to continue")] = None,
         home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Talk to sslpilot: launch, diagnose, compare and search in plain words."""
    from agent.backends import describe
    from agent.session import Agent

    agent = Agent(the_home())
    if message is not None:
        out = agent.chat(message, thread)
        emit(out, as_json, out["answer"])
        return
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    thread = thread or __import__("uuid").uuid4().hex[:12]
    console.print(f"[bold]sslpilot[/bold] ({describe()}), thread {thread}. Ctrl-D or \"exit\" to leave.")
    while True:
        try:
            text = console.input("[bold cyan]you> [/bold cyan]")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return _print_unsaved(agent, thread, console)
        if not text.strip():
            continue
        if text.strip().lower().rstrip(".!") in LEAVE:
            return _print_unsaved(agent, thread, console)
        for ev in agent.stream(text, thread):  # printed as it happens
            if ev["event"] == "tool_call":
                console.print(f"[dim]-> {ev['name']} {ev['args']}[/dim]")
            elif ev["event"] == "tool_result":
                console.print(f"[dim]<- {ev['name']}: {ev['status']}[/dim]")
            elif ev["event"] == "answer":
                console.print(Markdown(ev["text"]))


def _print_unsaved(agent, thread: str, console) -> None:
    """A conversation the full disk still holds in memory only, printed as the chat closes: the process ending is
    otherwise the end of it (agent/history.py)."""
    turns = agent.unsaved(thread)
    if not turns:
        return
    console.print(f"This conversation could not be saved: {agent.checkpointer.held_because(thread)}. The chat is "
                  "closing, so here it is, to keep:", markup=False, style="bold yellow")
    for turn in turns:
        console.print(f"{'you' if turn['role'] == 'user' else 'sslpilot'}> {turn['content']}", markup=False)


@app.command()
def ui(home: HomeOpt = None, port: Annotated[int, typer.Option(help="port to listen on")] = 8501,
       host: Annotated[str, typer.Option(help="address to bind; 0.0.0.0 exposes it to your network")] = "127.0.0.1",
       open_browser: Annotated[bool, typer.Option("--open/--no-open", help="open a browser tab")] = False,
       no_auth: Annotated[bool, typer.Option("--no-auth", help="no login, even with accounts: anyone who reaches "
                                             "the port acts as this server's OS user")] = False) -> None:
    """Start the chat and dashboards (Streamlit) on http://127.0.0.1:PORT. With accounts (`sslpilot user add`) or
    OIDC (`sslpilot auth oidc`) it asks people to sign in, and may listen beyond this machine."""
    import os
    from pathlib import Path

    from tools.accounts import Accounts

    h = the_home()
    oidc = h.root / "auth" / "secrets.toml"
    configured = Accounts(h).any() or oidc.exists()
    if not _loopback(host) and not configured and not no_auth:
        typer.echo(f"error: host: {host} would let anyone who can reach port {port} launch, cancel and read runs "
                   "without signing in. Fix: add accounts first (`sslpilot user add NAME --role admin`, then members)"
                   " or OIDC (`sslpilot auth oidc --metadata-url URL --client-id ID`); or keep 127.0.0.1 and use a "
                   f"tunnel (ssh -L {port}:127.0.0.1:{port} this-machine); or pass --no-auth to share it open.",
                   err=True)
        raise typer.Exit(2)

    app_file = Path(__file__).parents[1] / "app.py"
    env = {**os.environ, "SSLPILOT_HOME": str(h.root), "SSLPILOT_UI_AUTH": "off" if no_auth else ""}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.address", host,
           "--server.port", str(port), "--server.headless", str(not open_browser).lower(),
           "--browser.gatherUsageStats", "false", "--server.maxUploadSize", "10",
           "--client.toolbarMode", "minimal"]
    if oidc.exists() and not no_auth:
        cmd += ["--secrets.files", str(oidc)]
    typer.echo(f"sslpilot UI on http://{host}:{port} (home {h.root}); Ctrl-C to stop", err=True)
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)  # become the server, so signals reach it directly


def _loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: only this machine can connect."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
