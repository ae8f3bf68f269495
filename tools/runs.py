"""Run folders in the home: new ids, lookup by id or path, and running a worker in this process."""

from __future__ import annotations

import os
from pathlib import Path

from ssl_runtime.config import RunConfig, save_config
from ssl_runtime.data import preflight
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home


def new_run_folder(home: Home, cfg: RunConfig) -> RunFolder:
    """Short sequential ids ("run 17"), claimed with an atomic mkdir so concurrent launches never collide."""
    preflight(cfg.data)
    existing = [int(p.name) for p in home.runs.iterdir() if p.name.isdigit()]
    n = max(existing, default=0) + 1
    while True:
        path = home.runs / str(n)
        try:
            os.mkdir(path)
            break
        except FileExistsError:
            n += 1
    folder = RunFolder(path).create()
    save_config(cfg, folder.config)
    folder.set_status("queued", "created")
    return folder


def find_run(home: Home, ref: str | int) -> RunFolder:
    """A run by id ("17", "run 17", "#17") or by folder path."""
    text = str(ref).strip().removeprefix("run").strip().lstrip("#").strip()
    candidate = home.runs / text
    if candidate.is_dir():
        return RunFolder(candidate)
    path = Path(str(ref)).expanduser()
    if (path / "config.yaml").exists():
        return RunFolder(path)
    raise SSLPilotError(f"no run {ref!r} in {home.runs}", field="run", fix="see `sslpilot runs` for the ids")


def train_in_process(folder: RunFolder, resume: bool = False, progress=None, probe: bool = True) -> dict:
    """Foreground training and, when the data has labels, the probe: what a worker process does."""
    from ssl_runtime.worker import run_worker

    return run_worker(folder.path, resume=resume, progress=progress, probe=probe)
