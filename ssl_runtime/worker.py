"""One run's whole life in one process: train, export, probe. `python -m ssl_runtime run RUN_DIR`."""

from __future__ import annotations

import contextlib
import time
import traceback
from pathlib import Path

from ssl_runtime.errors import SSLPilotError, is_full_disk
from ssl_runtime.run_folder import RunFolder


def run_worker(run_dir: str | Path, resume: bool = False, progress=None, probe: bool = True) -> dict:
    """Train then probe. User errors end the run as `failed` with a one-line reason; nothing is raised past here
    except that reason (as SSLPilotError) so callers can print it."""
    from ssl_runtime.distributed import lost_a_peer, rank
    from ssl_runtime.probe import probe_run
    from ssl_runtime.trainer import train

    folder = RunFolder(run_dir)
    try:
        summary = train(folder.path, resume=resume, progress=progress)
    except SSLPilotError as exc:
        _fail(folder, str(exc), kind="user_error")
        raise
    except Exception as exc:
        if lost_a_peer(exc):
            if rank() == 0:
                folder.set_status("interrupted", f"lost another rank ({str(exc).splitlines()[0][:200]}); resumes "
                                  "from the last checkpoint", kind="peer_lost")
        elif is_full_disk(exc):
            _fail(folder, _full_disk_message(folder, exc), kind="disk_full", traceback=traceback.format_exc())
        else:
            _fail(folder, f"{type(exc).__name__}: {exc}", kind="crash", traceback=traceback.format_exc())
        raise
    main = rank() == 0  # asked before leaving: outside the group every process is rank 0
    _leave_process_group()  # every rank is past its last collective; the probe and summary are rank 0's alone
    # the run's status is final here; what follows only adds views of the finished encoder
    if summary["status"] == "succeeded" and probe and main:
        t0 = time.perf_counter()
        try:
            summary["probe"] = probe_run(folder.path, device=summary.get("device", "auto"))
        except SSLPilotError as exc:
            folder.event("warning", f"probe skipped: {exc}", kind="probe_skipped")
        summary.setdefault("phases", {})["evaluation_s"] = round(time.perf_counter() - t0, 3)
    if main and summary.get("phases"):
        folder.event("info", "phases: " + ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v:.1f} s"
                                                     for k, v in summary["phases"].items()),
                     kind="phases", **summary["phases"])
        folder.write_summary({k: v for k, v in summary.items() if k != "probe"})  # probe.json holds the probe
    return summary


def _leave_process_group() -> None:
    """Leave together, then tear down. Twice in the suite rank 1 aborted ("terminate called without an active exception")
    after leaving while rank 0 still wrote its last checkpoint; why inside torch is not known, and leaving together
    closes that window. Leaving right after training keeps rank 0's probe, which may outlast the group's timeout,
    out of the others' wait."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _full_disk_message(folder: RunFolder, exc: Exception) -> str:
    """What a run that stopped on a full disk needs said: which disk, and what freeing it gets back."""
    then = ("then resume the run: it continues from its last checkpoint" if folder.has_checkpoint() else
            "then launch it again: no checkpoint was written, so a resume has nothing to continue from")
    said = getattr(exc, "strerror", None) or str(exc)
    return f"the disk holding {folder.path} is full ({said}); free space there, {then}"


def _fail(folder: RunFolder, message: str, **data) -> None:
    """Record the failure. On a full disk any write may fail, and the short status line that ends the run is the one
    that must land: the error event (with its traceback, or without it when that does not fit) and the summary's
    copy are best effort before it."""
    from ssl_runtime.distributed import rank

    if rank() != 0:
        return
    try:
        folder.event("error", message, **data)
    except OSError:
        with contextlib.suppress(OSError):
            folder.event("error", message, kind=data.get("kind"))
    with contextlib.suppress(OSError):
        folder.write_summary({"run_id": folder.run_id, "status": "failed", "message": message})
    folder.set_status("failed", message)
