"""User-facing errors: one line that names the field and the fix, never a traceback."""

from __future__ import annotations

import errno
import os

# a write refused because the disk, the user's quota or a file-size limit is full
FULL_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class SSLPilotError(Exception):
    """An error the user can fix. `field` names the config key or input at fault; `fix_args`, where the fix is one
    change to the call's own arguments, is that change, so a caller can offer to retry with it."""

    def __init__(self, message: str, field: str | None = None, fix: str | None = None,
                 fix_args: dict | None = None):
        self.field = field
        self.fix = fix
        self.fix_args = fix_args
        text = f"{field}: {message}" if field else message
        if fix:
            text = text.rstrip(".") + f". Fix: {fix}"
        super().__init__(text)


class ConfigError(SSLPilotError):
    """A config value is missing, unknown or out of range."""


class DataError(SSLPilotError):
    """The data cannot be read or does not fit the run."""


class CheckpointError(SSLPilotError):
    """A checkpoint is missing, corrupt or belongs to another run."""


def is_full_disk(exc: BaseException) -> bool:
    """Whether a failed write failed for want of space: the one case where freeing space and retrying fixes it.
    Writers in other languages say it in their own exception (safetensors: "I/O error: No space left on device
    (os error 28)"), so their words count too."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in FULL_DISK_ERRNOS
    said = str(exc)
    return any(os.strerror(n) in said for n in FULL_DISK_ERRNOS)
