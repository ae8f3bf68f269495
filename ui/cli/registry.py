"""`sslpilot registry rebuild`."""

from __future__ import annotations

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


@app.command("rebuild")
def registry_rebuild(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Recreate the registry's rows from the run folders (nothing is deleted)."""
    from tools.access import require
    from tools.registry import Registry

    require(the_home(), "admin", "rebuilding the registry")
    rebuilt = Registry(the_home()).rebuild()
    emit({"runs": [r.id for r in rebuilt]}, as_json, f"rebuilt {len(rebuilt)} runs")
