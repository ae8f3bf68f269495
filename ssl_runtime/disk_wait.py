"""Waiting out a full disk: a run that cannot write its metrics or its encoder pauses for space instead of
losing what it trained. Checkpoints do not wait (training goes on, the last good one is kept: trainer.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ssl_runtime import settings
from ssl_runtime.errors import is_full_disk
from ssl_runtime.run_folder import RunFolder

T = TypeVar("T")
RETRY_EVERY_S = 10.0


def when_space(folder: RunFolder, what: str, write: Callable[..., T], *args: Any, wait_s: float | None = None,
               retry_every_s: float | None = None) -> T:
    """`write(*args)`, tried again every `retry_every_s` while its disk is full, for up to `wait_s` (default
    SSLPILOT_FULL_DISK_WAIT_S); then the full-disk error is raised and the run fails with it (worker.py). Any
    other error is raised at once. The wait is said once, where it can be: an event, else stderr."""
    wait_s = settings.get_float("SSLPILOT_FULL_DISK_WAIT_S") if wait_s is None else wait_s
    retry_every_s = RETRY_EVERY_S if retry_every_s is None else retry_every_s
    deadline = time.monotonic() + wait_s
    said = False
    while True:
        try:
            return write(*args)
        except Exception as exc:
            if not is_full_disk(exc) or time.monotonic() >= deadline:
                raise
            if not said:
                said = True
                up_to = f"{wait_s / 60:.0f} min" if wait_s >= 120 else f"{wait_s:g} s"
                note = (f"the disk holding {folder.path} is full: {what} not written; waiting up to {up_to} for "
                        "space (free some and the run goes on)")
                try:
                    folder.event("warning", note, kind="disk_full_wait")
                except OSError:
                    print(f"warning: {note}", file=sys.stderr, flush=True)
            time.sleep(min(retry_every_s, max(0.0, deadline - time.monotonic())))
