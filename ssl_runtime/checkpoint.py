"""Checkpoints that restore a run exactly: weights, optimiser, schedule, scaler, teacher, queues, RNG, step."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ssl_runtime.device import rng_state, set_rng_state
from ssl_runtime.errors import CheckpointError
from ssl_runtime.run_folder import RunFolder


class UnreadableCheckpoint(CheckpointError):
    """The file is there but cannot be read as a checkpoint (cut short, damaged): an older one may still be."""


def save_checkpoint(path: Path, *, method_name: str, step: int, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler, scaler, keep_copy: bool = False,
                    keep_last: int = 0, every: int = 1, trained_s: float = 0.0) -> None:
    """Written to a temporary file then renamed, so a crash or a full disk never leaves a torn last.pt. With
    keep_copy, the step is also kept as step_<n>.pt (a hard link) and the kept ones are thinned by spread_out."""
    state = {
        "format": 1,
        "method": method_name,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": rng_state(),
        "trained_s": trained_s,  # training time so far, so a resumed run's time limit counts what it already used
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        _write(state, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if keep_copy and keep_last > 0:
        step_path = path.with_name(f"step_{step}.pt")
        os.link(path, step_path) if not step_path.exists() else None
        kept = {int(p.stem.split("_")[1]): p for p in path.parent.glob("step_*.pt")}
        for dropped in spread_out(sorted(kept), keep_last, every):
            kept[dropped].unlink(missing_ok=True)


def _write(state: dict, path: Path) -> None:
    """torch.save through a Python file, so that a failed write surfaces as the OSError it is (a full disk: ENOSPC),
    which the trainer meets by training on; given a path, torch's writer raises a RuntimeError naming no cause."""
    try:
        with open(path, "wb") as f:
            torch.save(state, f)
    except RuntimeError as exc:
        cause = exc.__context__
        while cause is not None and not isinstance(cause, OSError):
            cause = cause.__context__
        if cause is None:
            raise
        raise cause from exc


def spread_out(steps: list[int], keep: int, every: int) -> list[int]:
    """The steps to drop so that at most `keep` remain spread over the run: the newest always stays, and the
    others are the multiples of every x 2^k for the smallest k that fits (checkpoints saved every 100 steps,
    keep 5: 100..500, then 200, 400, 600, then ... 200, 400, 600, 800, 1000), so a run of any length keeps
    early, middle and late checkpoints rather than only its last few."""
    if not steps:
        return []
    newest, spacing = max(steps), max(1, every)
    while True:
        kept = {s for s in steps if s % spacing == 0} | {newest}
        if len(kept) <= max(keep, 1):
            break
        spacing *= 2
    return sorted(s for s in steps if s not in kept) if keep > 0 else sorted(steps)


def _read(path: Path, method_name: str, map_location, field: str, missing: str) -> dict:
    """A checkpoint's state, written by the same method; any problem is a CheckpointError naming `field`."""
    if not path.exists():
        raise CheckpointError(missing, field=field, fix="start a new run, or set train.checkpoint_every lower next time")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a corrupt checkpoint
        raise UnreadableCheckpoint(f"checkpoint {path.name} is unreadable ({type(exc).__name__})",
                                   field=field) from None
    if state.get("method") != method_name:
        raise CheckpointError(
            f"checkpoint was written by method {state.get('method')!r} but the config says {method_name!r}",
            field="method", fix="use the run's own method and backbone",
        )
    return state


def _load_model(model: torch.nn.Module, state: dict) -> None:
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint does not fit the model: {str(exc).splitlines()[0]}", field="backbone",
                              fix="use the run's own config.yaml (same backbone, heads and method settings)") from None


def load_checkpoint(path: Path, *, method_name: str, model: torch.nn.Module, optimizer, scheduler,
                    scaler, map_location) -> tuple[int, float]:
    """Restore everything; return the step to continue after and the seconds trained up to it."""
    state = _read(path, method_name, map_location, "resume", "this run has no checkpoint to resume from")
    _load_model(model, state)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return int(state["step"]), float(state.get("trained_s", 0.0))


def resume_checkpoint(folder: RunFolder, *, method_name: str, model: torch.nn.Module, optimizer, scheduler,
                      scaler, map_location) -> tuple[int, float, list[str]]:
    """Restore from last.pt or, where it cannot be read (a disk error, a copy cut short), from the newest kept
    step_<n>.pt that can: a run with kept checkpoints then loses only the steps since that one, as Hugging Face's
    Trainer resumes from the newest checkpoint folder it finds. Returns the step, the seconds trained up to it,
    and each file passed over with why."""
    last = folder.last_checkpoint
    older = [path for _, path in reversed(folder.kept_checkpoints()) if not _same_file(path, last)]
    passed: list[str] = []
    for path in [last, *older] if last.exists() else older or [last]:
        try:
            step, trained_s = load_checkpoint(path, method_name=method_name, model=model, optimizer=optimizer,
                                              scheduler=scheduler, scaler=scaler, map_location=map_location)
            return step, trained_s, passed
        except UnreadableCheckpoint:
            passed.append(f"{path.name} is unreadable")
    raise UnreadableCheckpoint(f"every checkpoint of this run is unreadable ({', '.join(passed)})", field="resume",
                               fix="launch it again: with nothing readable to continue from, it starts at step 0")


def _same_file(a: Path, b: Path) -> bool:
    """step_<n>.pt is a hard link to last.pt when it was the newest: one file, already tried."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def layout_of(path: Path, method_name: str) -> dict:
    """The method settings a checkpoint's weights were built with, where the method can tell them from its keys
    (`args_from_weights`: DINO's head with or without BatchNorm). A run resumed or continued from weights written
    before an auto rule changed keeps their layout. Read memory-mapped: only the keys are looked at."""
    from ssl_runtime.catalogue import BY_NAME, method_class

    path = Path(path).expanduser()
    if method_name not in BY_NAME or not path.is_file():
        return {}
    infer = getattr(method_class(method_name), "args_from_weights", None)
    if infer is None:
        return {}
    try:
        state = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception:  # noqa: BLE001 - unreadable: the load itself says so, with its own error
        return {}
    return infer(set((state.get("model") or {}).keys()))


def load_weights(path: Path, *, method_name: str, model: torch.nn.Module, map_location) -> tuple[int, list[str]]:
    """Only the weights (backbone, heads, teacher, queues) of another run's checkpoint, to continue pretraining
    from it with this run's own optimiser, schedule and seed. The backbone must fit; a head, teacher head or queue
    whose shape the new settings changed (a smaller bottleneck, another queue size) starts fresh instead, as
    transformers' `from_pretrained(ignore_mismatched_sizes=True)` does. Returns the step the weights were saved at
    and the modules that started fresh."""
    path = Path(path).expanduser()
    state = _read(path, method_name, map_location, "train.init_from", f"no checkpoint at {path}")
    own, saved = model.state_dict(), state["model"]
    fresh = sorted(k for k, v in own.items() if k not in saved or saved[k].shape != v.shape)
    if any(k.startswith("backbone.") for k in fresh):
        _load_model(model, state)  # the encoder does not fit: the clear error
    model.load_state_dict({k: v for k, v in saved.items() if k in own and k not in fresh}, strict=False)
    return int(state["step"]), sorted({".".join(k.split(".")[:2]) for k in fresh})
