"""`sslpilot registry rebuild`."""

from __future__ import annotations

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


@app.command("rebuild")
def registry_rebuild(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Recreate the registry's rows from the run folders (nothing is deleted)."""
    from tools.access import require
    from tools.diagnosis import verdicts_read_again
    from tools.registry import Registry

    require(the_home(), "admin", "rebuilding the registry")
    rebuilt = Registry(the_home()).rebuild()
    read = verdicts_read_again(the_home(), rebuilt)  # folders without a kept verdict event (older runs) are read again
    emit({"runs": [r.id for r in rebuilt], "verdicts_read": read}, as_json,
         f"rebuilt {len(rebuilt)} runs" + (f" ({read} verdicts read again from their metrics)" if read else ""))
