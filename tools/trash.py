"""Deleting runs, and getting them back: MLflow's `runs delete` / `runs restore` / `gc`, for a home.

A delete moves the run's folder into `<home>/trash/` and drops its registry rows and run-log chunks: it leaves
every list, ranking and search, and `restore` puts the folder back and indexes it again (the folder is the source
of truth, so nothing but stored diagnoses, which are recomputed, is lost). Only `empty_trash` frees the disk, and
it keeps an empty folder per id so that an id is never given to another run. A queued or running run is cancelled
first, never deleted from under its worker. Only its owner (or an admin) deletes, restores or empties a run.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ssl_runtime.errors import SSLPilotError, is_full_disk
from ssl_runtime.run_folder import RunFolder
from tools import access
from tools.home import Home, bytes_on_disk, bytes_text
from tools.records import Run
from tools.registry import ACTIVE, Registry, run_id_of

GONE = "DELETED"  # the one file an emptied id keeps: when, and by whom


def trash_dir(home: Home) -> Path:
    return home.root / "trash"


def deletable(home: Home, refs: list[str]) -> list[Run]:
    """The runs, each checked: yours (or you are an admin) and not queued or running."""
    reg = Registry(home)
    runs = [reg.sync(run_id_of(r)) for r in dict.fromkeys(refs)]
    for run in runs:
        access.require_owner(home, run, "deleting a run")
        if run.status in ACTIVE:
            raise SSLPilotError(f"run {run.id} is {run.status}: it cannot be deleted while its worker may use it",
                                field="run_ids", fix=f"cancel run {run.id} first (`sslpilot cancel {run.id}`)")
    return runs


def delete_runs(home: Home, refs: list[str]) -> dict:
    """Move each run to the trash; all are checked before any moves, so a refusal leaves every run as it was, and
    each move is whole or not at all: a registry that cannot drop the run's rows (a full disk) gets its folder back."""
    runs, reg = deletable(home, refs), Registry(home)
    actor = access.current(home)
    out = []
    for run in runs:
        folder = RunFolder(run.run_dir)
        target = trash_dir(home) / run.id
        if not folder.path.exists():  # moved or removed by hand, or a delete cut short: only the rows are left
            in_trash = _forget_folderless(home, reg, run.id, target, actor.name)
            out.append({"run_id": run.id, "method": run.method, "status": run.status,
                        "bytes": bytes_on_disk(target) if in_trash else 0, "folder_gone": not in_trash})
            continue
        size = bytes_on_disk(folder.path)
        _forget_logs(home, run.id)  # first: the index is derived, so a failure here leaves the run as it was
        target.parent.mkdir(parents=True, exist_ok=True)
        if (target / "config.yaml").exists():  # a deleted run of the same id, never overwritten
            raise SSLPilotError(f"the trash holds another run {run.id} already", field="run_ids",
                                fix=f"empty the trash (`sslpilot trash empty`) or move {target} away first")
        if target.exists():  # an emptied id's marker: the run it named is gone for good
            shutil.rmtree(target)
        shutil.move(str(folder.path), str(target))
        try:
            reg.forget(run.id)
        except Exception:
            shutil.move(str(target), str(folder.path))  # the registry still lists the run, so its folder stays
            raise
        _said_in_the_trash(RunFolder(target), "deleted",
                           f"deleted by {actor.name} (in the trash; `sslpilot restore {run.id}`)", actor.name)
        out.append({"run_id": run.id, "method": run.method, "status": run.status, "bytes": size})
    return {"deleted": out, "bytes": sum(r["bytes"] for r in out)}


def deleted_text(out: dict, restore: str) -> str:
    """delete_runs' result in a sentence, for the CLI and the chat (`restore`: how each says to bring one back)."""
    moved = [d["run_id"] for d in out["deleted"] if not d.get("folder_gone")]
    gone = [d["run_id"] for d in out["deleted"] if d.get("folder_gone")]
    said = []
    if moved:
        said.append(f"Moved {', '.join('run ' + r for r in moved)} to the trash ({bytes_text(out['bytes'])}; "
                    f"{restore} brings one back).")
    if gone:
        said.append(f"{', '.join('Run ' + r for r in gone)}: the folder was already gone, so only "
                    f"{'its' if len(gone) == 1 else 'their'} registry rows were dropped (nothing to restore).")
    return " ".join(said)


def _forget_folderless(home: Home, reg: Registry, run_id: str, target: Path, who: str) -> bool:
    """A run whose folder is gone: its rows go. True when the trash holds the folder (a delete that moved it and
    was cut short: restorable); else a marker keeps its id from being given to another run, as an emptied one does."""
    _forget_logs(home, run_id)
    reg.forget(run_id)
    if (target / "config.yaml").exists():
        return True
    target.mkdir(parents=True, exist_ok=True)
    (target / GONE).write_text(f"deleted by {who} at {time.ctime()}; its folder was already gone\n")
    return False


def _said_in_the_trash(folder: RunFolder, kind: str, message: str, who: str) -> None:
    """The trash's record of who deleted or restored a run and when; on a full disk the move has been made and
    stands without it (the trash lists such a run with no date)."""
    try:
        folder.event(kind, message, user=who)
    except OSError as exc:
        if not is_full_disk(exc):
            raise


def restore_run(home: Home, ref: str) -> dict:
    """Put a deleted run back where it was and index it again. Its stored verdict went with its rows: the chat's and
    the CLI's restore (`ToolBox.restore_run`) read it again (tools.diagnosis sits above this module)."""
    rid = run_id_of(ref)
    source = trash_dir(home) / rid
    if not (source / "config.yaml").exists():
        gone = (source / GONE).exists()
        raise SSLPilotError(f"run {rid} is {'gone: the trash was emptied' if gone else 'not in the trash'}",
                            field="run_id", fix="see `sslpilot trash` for the runs that can be restored")
    owner = access.owner_of(RunFolder(source).read_events())
    actor = access.current(home)
    if owner and not access.may_change(actor, owner):
        raise SSLPilotError(f"run {rid} is {owner}'s: only its owner or an admin restores it", field="run_id")
    target = home.runs / rid
    if target.exists():
        raise SSLPilotError(f"{target} exists already", field="run_id", fix="move it away, then restore")
    shutil.move(str(source), str(target))
    try:
        run = Registry(home).register_folder(RunFolder(target))
    except Exception:
        shutil.move(str(target), str(source))  # whole or not at all, as a delete
        raise
    _said_in_the_trash(RunFolder(target), "restored", f"restored by {actor.name}", actor.name)
    return {"run_id": run.id, "method": run.method, "status": run.status}


def trash_list(home: Home) -> list[dict]:
    """The runs that can be restored, most recently deleted first, with their size."""
    rows = []
    root = trash_dir(home)
    for path in root.iterdir() if root.exists() else []:
        if not (path / "config.yaml").exists():
            continue
        events = RunFolder(path).read_events()
        deleted = next((e for e in reversed(events) if e.get("type") == "deleted"), {})
        rows.append({"run_id": path.name, "deleted_at": deleted.get("time"), "by": deleted.get("user"),
                     "owner": access.owner_of(events), "bytes": bytes_on_disk(path)})
    return sorted(rows, key=lambda r: -(r["deleted_at"] or 0))


def empty_trash(home: Home, older_than_days: float | None = None) -> dict:
    """Delete for good the runs in the trash (those deleted more than `older_than_days` ago): each leaves only a
    marker, so its id is never reused. Admins empty everyone's; a member empties their own."""
    actor = access.current(home)
    cutoff = time.time() - 86400 * older_than_days if older_than_days is not None else None
    freed, ids = 0, []
    for row in trash_list(home):  # each folder's events read once, there
        path = trash_dir(home) / row["run_id"]
        too_recent = cutoff is not None and (row["deleted_at"] or 0) > cutoff
        if too_recent or (row["owner"] and not access.may_change(actor, row["owner"])):
            continue
        shutil.rmtree(path)
        path.mkdir()
        (path / GONE).write_text(f"emptied from the trash by {actor.name} at {time.ctime()}\n")
        freed += row["bytes"]
        ids.append(row["run_id"])
    return {"emptied": ids, "bytes": freed}


def taken_ids(home: Home) -> list[int]:
    """Ids the trash holds, restorable or emptied: never given to a new run."""
    root = trash_dir(home)
    return [int(p.name) for p in root.iterdir() if p.name.isdigit()] if root.exists() else []


def _forget_logs(home: Home, run_id: str) -> None:
    """Drop the run's chunks from the run-log search (a home that never built one has none)."""
    if not home.chroma.exists():
        return
    from tools.knowledge import get_store

    get_store(home).delete_where("run_logs", {"run_id": str(run_id)})
