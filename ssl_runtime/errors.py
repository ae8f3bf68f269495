"""User-facing errors: one line that names the field and the fix, never a traceback."""

from __future__ import annotations


class SSLPilotError(Exception):
    """An error the user can fix. `field` names the config key or input at fault."""

    def __init__(self, message: str, field: str | None = None, fix: str | None = None):
        self.field = field
        self.fix = fix
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
